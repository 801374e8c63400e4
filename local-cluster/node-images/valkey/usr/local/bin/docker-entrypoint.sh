#!/bin/sh
# Entrypoint of the local cluster's Valkey 8 stand-in (Debian's valkey-server), keeping the
# official image's contract (contracts/valkey.yml):
# - a first argument ending in .conf or starting with '-' gets valkey-server put in front;
# - started as root, it makes the working directory (/data) belong to 999:999 and runs the
#   server as that uid and gid; started as any other uid, it runs as that uid;
# - VALKEY_EXTRA_FLAGS is appended to the server's command line;
# - umask 0077.
# The official image's server is built with protected mode off (it listens on every address
# without a password); Debian's is not, so this adds "--protected-mode no" unless a config file
# given sets protected-mode itself.
set -eu

case "${1:-}" in
    -* | *.conf) set -- valkey-server "$@" ;;
esac

if [ "${1:-}" = valkey-server ] && [ "$(id -u)" = 0 ]; then
    find . \! -user 999 -exec chown 999:999 '{}' +
    exec setpriv --reuid=999 --regid=999 --clear-groups "$0" "$@"
fi

if [ "${1:-}" = valkey-server ]; then
    protected=""
    for argument in "$@"; do
        case "$argument" in
            *.conf) if [ -r "$argument" ] && grep -q '^[[:space:]]*protected-mode' "$argument"; then protected=set; fi ;;
            --protected-mode) protected=set ;;
        esac
    done
    [ -n "$protected" ] || set -- "$@" --protected-mode no
    # Word splitting on purpose: the flags are a space-separated list.
    # shellcheck disable=SC2086
    [ -z "${VALKEY_EXTRA_FLAGS:-}" ] || set -- "$@" ${VALKEY_EXTRA_FLAGS}
fi

umask 0077
exec "$@"
