#!/bin/sh
# The Celery queues of the broker (Redis, Valkey or Redict), from a Job of the broker's own
# image (make queues, make purge-queues; packit.deployment.broker). POSIX sh: the three images
# do not share a shell.
#
#   broker-queues.sh report QUEUES   what waits, what is unacknowledged, memory and key groups
#   broker-queues.sh purge QUEUES    delete the waiting messages of QUEUES, nothing else
#
# QUEUES: comma-separated Celery queue names. Environment: BROKER_HOST, BROKER_PORT (6379),
# BROKER_DB (0, the queues), RESULTS_DB (1, the task results), REDISCLI_AUTH (the password,
# when the broker has one), REPORT_FILE (/dev/termination-log).
#
# Output: tab-separated lines, written to stdout and to REPORT_FILE (the pod's termination
# message, which the module reads through the API):
#   queue <name> <waiting> <unacked> <oldest unacked, s> <oldest waiting: task> <id> <eta>
#   unacked_other <unacked messages of queues not named>
#   memory <used bytes> <peak bytes> <maxmemory bytes> <policy> <evicted keys>
#   group <db> <group> <keys> <bytes> <keys without expiry>
#   purged <name> <messages deleted>
#   error <one line>
# Kombu keeps a queue as a list named after it (oldest at the tail) plus one list per priority
# step (<name>\x06\x16<step>); unacknowledged messages in the hash `unacked` (delivery tag ->
# [message, exchange, routing key]) with their delivery times in the sorted set `unacked_index`.
set -u

mode="${1:-}"
queues="${2:-}"
out="${REPORT_FILE:-/dev/termination-log}"
host="${BROKER_HOST:-}"
port="${BROKER_PORT:-6379}"
broker_db="${BROKER_DB:-0}"
results_db="${RESULTS_DB:-1}"

fail() {
    printf 'error\t%s\n' "$*" | tee "$out" >&2
    exit 1
}

case "$mode" in
    report|purge) ;;
    *) fail "usage: broker-queues.sh report|purge QUEUES (got '$mode')" ;;
esac
[ -n "$host" ] || fail "BROKER_HOST is not set"
[ -n "$queues" ] || fail "no queue named"

cli=""
for candidate in valkey-cli redict-cli redis-cli; do
    if command -v "$candidate" >/dev/null 2>&1; then
        cli="$candidate"
        break
    fi
done
[ -n "$cli" ] || fail "the broker image has none of valkey-cli, redict-cli, redis-cli"

# One command against db $1; its reply (raw: one element a line), or the script fails with the
# server's own first line. -e makes an error reply a non-zero exit.
call() {
    db="$1"
    shift
    if ! reply="$("$cli" -e --no-auth-warning -h "$host" -p "$port" -n "$db" "$@" 2>&1)"; then
        fail "$host:$port db $db: $(printf '%s\n' "$reply" | grep -v '^$' | head -n 1)"
    fi
    printf '%s\n' "$reply" | tr -d '\r'
}

# The lists of a queue: its own and those of the priority steps kombu may use (1..9).
LISTS='
local sep = "\6\22"
local function lists(q)
  local names = {q}
  for step = 1, 9 do names[#names + 1] = q .. sep .. step end
  return names
end
'

# report, part 1 (one script: one consistent view): per named queue the waiting messages and the
# oldest one (its task, id and eta: Celery messages carry no send time), and the unacknowledged
# messages per routing key with the age of the oldest delivery.
QUEUES_LUA="$LISTS"'
local now = redis.call("TIME")
now = tonumber(now[1]) + tonumber(now[2]) / 1e6
local unacked, oldest = {}, {}
local cursor = "0"
repeat
  local page = redis.call("HSCAN", "unacked", cursor, "COUNT", 1000)
  cursor = page[1]
  local kv = page[2]
  for i = 1, #kv, 2 do
    local ok, entry = pcall(cjson.decode, kv[i + 1])
    local key = ok and type(entry) == "table" and type(entry[3]) == "string" and entry[3] or "?"
    unacked[key] = (unacked[key] or 0) + 1
    local at = tonumber(redis.call("ZSCORE", "unacked_index", kv[i]))
    if at and (not oldest[key] or at < oldest[key]) then oldest[key] = at end
  end
until cursor == "0"
local function text(value)
  if type(value) == "string" and value ~= "" then return (string.gsub(value, "%s", " ")) end
  return "-"
end
local out = {}
for _, q in ipairs(ARGV) do
  local waiting, tail = 0, nil
  for _, name in ipairs(lists(q)) do
    local n = redis.call("LLEN", name)
    if n > 0 then
      waiting = waiting + n
      tail = tail or redis.call("LINDEX", name, -1)
    end
  end
  local task, id, eta = "-", "-", "-"
  if tail then
    local ok, message = pcall(cjson.decode, tail)
    if ok and type(message) == "table" and type(message.headers) == "table" then
      task, id, eta = text(message.headers.task), text(message.headers.id), text(message.headers.eta)
    end
  end
  local age = oldest[q] and string.format("%d", now - oldest[q]) or "-"
  out[#out + 1] = table.concat({"queue", q, waiting, unacked[q] or 0, age, task, id, eta}, "\t")
  unacked[q] = nil
end
local others = 0
for _, n in pairs(unacked) do others = others + n end
out[#out + 1] = "unacked_other\t" .. others
return out
'

# report, part 2: one page of SCAN (the cursor is ARGV[1], the page size ARGV[2], the named
# queues the rest), each key put in a group; returns the next cursor and per group
# "<group> <keys> <bytes> <keys without expiry>". Pages keep the server from blocking long.
SCAN_LUA="$LISTS"'
local own = {}
for i = 3, #ARGV do
  for _, name in ipairs(lists(ARGV[i])) do own[name] = true end
end
local function group(key)
  if own[key] then return "queues" end
  if key == "unacked" or key == "unacked_index" or key == "unacked_mutex" then return "unacked" end
  if string.sub(key, 1, 15) == "_kombu.binding." then return "bindings" end
  if string.find(key, "^celery%-task%-meta%-") or string.find(key, "^celery%-taskset%-meta%-") then return "results" end
  if string.find(key, "pidbox", 1, true) then return "pidbox" end
  return "other"
end
local page = redis.call("SCAN", ARGV[1], "COUNT", tonumber(ARGV[2]))
local sums = {}
for _, key in ipairs(page[2]) do
  local g = group(key)
  local s = sums[g] or {0, 0, 0}
  s[1] = s[1] + 1
  s[2] = s[2] + (redis.call("MEMORY", "USAGE", key) or 0)
  if redis.call("PTTL", key) == -1 then s[3] = s[3] + 1 end
  sums[g] = s
end
local out = {page[1]}
for g, s in pairs(sums) do out[#out + 1] = g .. " " .. s[1] .. " " .. s[2] .. " " .. s[3] end
return out
'

# purge: delete the waiting lists of the named queues in one script (atomic); unacknowledged
# messages, bindings, results and other queues stay.
PURGE_LUA="$LISTS"'
local out = {}
for _, q in ipairs(ARGV) do
  local n = 0
  for _, name in ipairs(lists(q)) do
    local length = redis.call("LLEN", name)
    if length > 0 then
      n = n + length
      redis.call("UNLINK", name)
    end
  end
  out[#out + 1] = "purged\t" .. q .. "\t" .. n
end
return out
'

old_ifs="$IFS"
IFS=,
# shellcheck disable=SC2086 # split QUEUES at the commas
set -- $queues
IFS="$old_ifs"

# The key groups of one db: SCAN page by page, summed.
groups() {
    db="$1"
    shift
    cursor=0
    : >"$tally"
    while :; do
        page="$(call "$db" EVAL "$SCAN_LUA" 0 "$cursor" 1000 "$@")" || exit 1
        cursor="$(printf '%s\n' "$page" | head -n 1)"
        printf '%s\n' "$page" | tail -n +2 >>"$tally"
        [ "$cursor" = 0 ] && break
    done
    awk -v db="$db" 'NF == 4 { k[$1] += $2; b[$1] += $3; n[$1] += $4 }
        END { for (g in k) printf "group\t%s\t%s\t%d\t%d\t%d\n", db, g, k[g], b[g], n[g] }' "$tally" | sort -k5,5nr
}

if [ "$mode" = purge ]; then
    result="$(call "$broker_db" EVAL "$PURGE_LUA" 0 "$@")" || exit 1
else
    tally="$(mktemp)"
    trap 'rm -f "$tally"' EXIT
    lines="$(call "$broker_db" EVAL "$QUEUES_LUA" 0 "$@")" || exit 1
    memory="$(call "$broker_db" INFO memory)" || exit 1
    stats="$(call "$broker_db" INFO stats)" || exit 1
    field() { printf '%s\n' "$1" | awk -F: -v name="$2" '$1 == name { print $2 }'; }
    lines="$lines
$(printf 'memory\t%s\t%s\t%s\t%s\t%s' "$(field "$memory" used_memory)" "$(field "$memory" used_memory_peak)" \
        "$(field "$memory" maxmemory)" "$(field "$memory" maxmemory_policy)" "$(field "$stats" evicted_keys)")"
    lines="$lines
$(groups "$broker_db" "$@")" || exit 1
    if [ "$results_db" != "$broker_db" ]; then
        lines="$lines
$(groups "$results_db")" || exit 1
    fi
    result="$lines"
fi
printf '%s\n' "$result" | grep -v '^$' | tee "$out"
