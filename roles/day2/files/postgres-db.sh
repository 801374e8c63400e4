#!/bin/bash
# Dump or restore the deployment's PostgreSQL database: `postgres-db.sh dump|restore FILE`.
# make db-dump, db-restore and db-upgrade run it in a Job from the PostgreSQL image (the
# script is the Job's command); the tests run it against Debian's PostgreSQL on loopback.
# The server and the credentials come from PGHOST, PGPORT, PGDATABASE, PGUSER and
# PGPASSWORD; the dumps are files in DUMP_DIR (the dump claim, mounted at /dump).
set -euo pipefail

dir="${DUMP_DIR:-/dump}"
action="${1:-}"
file="${2:-}"

# One line on stderr and, in a pod, as its termination message (the Job's status shows it).
say() {
    echo "$*" >&2
    if [ -w /dev/termination-log ]; then echo "$*" > /dev/termination-log; fi
}
fail() {
    say "$*"
    exit 1
}

case "$action" in
    dump | restore) ;;
    *) fail "usage: postgres-db.sh dump|restore FILE (got '$action')" ;;
esac
case "$file" in
    "" | .* | */*) fail "the dump's name '$file' must be a plain file name (no '/', not starting with '.')" ;;
esac
[ -d "$dir" ] || fail "the dump directory $dir does not exist (is the dump claim mounted?)"

# The server may still be starting (right after a deploy): wait up to two minutes.
for _ in $(seq 60); do
    if pg_isready --quiet; then break; fi
    sleep 2
done
pg_isready --quiet || fail "PostgreSQL at ${PGHOST:-local socket}:${PGPORT:-5432} does not answer"
server="$(psql --no-psqlrc --tuples-only --no-align --command 'SHOW server_version')" \
    || fail "cannot log in to database ${PGDATABASE:-} as ${PGUSER:-} on ${PGHOST:-local socket}"

if [ "$action" = dump ]; then
    [ ! -e "$dir/$file" ] || fail "$file is already on the dump claim: a dump is never overwritten, name another one"
    partial="$dir/.$file.partial"
    # Custom format: compressed, and pg_restore of this or a later major version reads it.
    pg_dump --format=custom --file="$partial" \
        || { rm -f "$partial"; fail "pg_dump of database $PGDATABASE (PostgreSQL $server) failed"; }
    pg_restore --list "$partial" > /dev/null \
        || { rm -f "$partial"; fail "the dump of $PGDATABASE cannot be read back by pg_restore"; }
    mv "$partial" "$dir/$file"
    say "dumped database $PGDATABASE of PostgreSQL $server to $file ($(stat -c %s "$dir/$file") bytes)"
else
    [ -f "$dir/$file" ] || fail "there is no dump $file on the dump claim; it has: $(cd "$dir" && ls -m -- *.dump 2> /dev/null || echo none)"
    # One transaction: everything the application's user owns is dropped, then the dump is
    # restored; COMMIT is sent only when pg_restore read the whole dump, so a failure leaves
    # the database as it was. --no-owner and --no-privileges: the objects belong to the user
    # the image made (PGUSER), as before.
    {
        echo 'BEGIN;'
        echo 'DROP OWNED BY CURRENT_USER;'
        pg_restore --no-owner --no-privileges --file=- "$dir/$file" && echo 'COMMIT;'
    } | psql --no-psqlrc --quiet --set=ON_ERROR_STOP=1 --output=/dev/null \
        || fail "restoring $file into database $PGDATABASE (PostgreSQL $server) failed; the database is unchanged"
    say "restored $file into database $PGDATABASE of PostgreSQL $server"
fi
