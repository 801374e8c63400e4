#!/usr/bin/env bash
# The whole test suite (make test): build the local control plane (cached), lint, pytest.
# Prints how long each phase took.
set -euo pipefail
cd "$(dirname "$0")/.."
phase() { printf '\n=== %s\n' "$*"; }
took() { printf '=== %s took %ss\n' "$1" "$(( $(date +%s) - $2 ))"; }

t=$(date +%s); phase "build: local control plane"
.venv/bin/python scripts/local_cluster.py build
took "build" "$t"

t=$(date +%s); phase "lint"
make --no-print-directory lint
took "lint" "$t"

t=$(date +%s); phase "tests"
status=0
.venv/bin/pytest "$@" || status=$?
took "tests" "$t"
# pytest exits 5 when it collected nothing: that is a failure here too.
exit "$status"
