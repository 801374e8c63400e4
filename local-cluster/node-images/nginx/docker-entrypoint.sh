#!/bin/sh
# Entrypoint of the local cluster's nginx stand-in image: runs its arguments (by default
# nginx -g 'daemon off;'). Nothing to prepare: the configuration needs no templating.
exec "$@"
