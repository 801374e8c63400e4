#!/usr/bin/env bash
# The whole test suite (make test). Two phases, each timed:
#   1. the local control-plane build (cached), which keeps both cores busy on its own;
#   2. the tests on the local control plane (marker "cluster") and, beside them in the
#      background (log printed when they end), lint and the tests that need no control plane
#      (marker "not cluster"): the cluster tests leave most of a core idle while controllers,
#      rollouts and schedules run, and the offline tests fill it. The cluster tests are the
#      longer half, so the offline half runs at a lower priority (nice): it takes the CPU the
#      cluster tests and the control plane leave, instead of slowing them down.
# Arguments go to both pytest runs. Exit status: non-zero if the build, lint or either
# pytest run failed, or if neither pytest run collected a test.
set -uo pipefail
cd "$(dirname "$0")/.."
phase() { printf '\n=== %s\n' "$*"; }
took() { printf '=== %s took %ss\n' "$1" "$(( $(date +%s) - $2 ))"; }

mkdir -p .cache
offline_log=.cache/offline-tests.log
# CI proves the data tier on the real node: there a cluster that cannot start one fails
# instead of running on kwok alone (local-cluster/README.md, "The real node").
if [ "${CI:-}" = true ]; then
    export LOCAL_CLUSTER_REAL_NODE="${LOCAL_CLUSTER_REAL_NODE:-required}"
fi

t=$(date +%s); phase "build: local control plane"
if ! .venv/bin/python -m localcluster build; then
    echo "the local control-plane build failed (output above): no test ran" >&2
    exit 1
fi
took "build" "$t"

# pytest exits 5 when it collected nothing: fine for one half, a failure for both.
offline() {
    local t code=0 lint=0
    renice -n 10 -p "$BASHPID" >/dev/null  # before it starts anything: its children inherit it
    t=$(date +%s); phase "lint"
    make --no-print-directory lint || lint=1
    took "lint" "$t"
    t=$(date +%s); phase "offline tests"
    .venv/bin/pytest -m "not cluster" --durations=10 "$@" || code=$?
    took "offline tests" "$t"
    [ "$lint" -eq 0 ] || exit 1
    exit "$code"
}

t=$(date +%s); phase "cluster tests, with lint and offline tests beside them (log: $offline_log)"
offline "$@" >"$offline_log" 2>&1 &
offline_pid=$!
cluster=0
.venv/bin/pytest -m cluster --durations=20 "$@" || cluster=$?
took "cluster tests" "$t"
offline_status=0
wait "$offline_pid" || offline_status=$?
phase "lint and offline tests (run beside the cluster tests)"
cat "$offline_log"
took "cluster tests, lint and offline tests" "$t"

status=0
collected=0
for code in "$cluster" "$offline_status"; do
    case "$code" in
        0) collected=1 ;;
        5) ;;
        *) collected=1; status=1 ;;
    esac
done
if [ "$collected" -eq 0 ]; then
    echo "no test was collected" >&2
    exit 1
fi
exit "$status"
