#!/bin/bash
# What the import-images CronJob runs (containers/entrypoint.sh `import-images`):
# the day2 role's import_images, with the pod's service account as identity.
#   SERVICE, DEPLOYMENT  which streams (labels app.kubernetes.io/part-of / instance)
#   PROJECT              namespace (default: the pod's own)
#   IMAGES               optional comma-separated subset of streams
# Extra arguments go to ansible-playbook (e.g. -e @connection.yml to run it from a laptop).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export ANSIBLE_ROLES_PATH="$root/roles"
export ANSIBLE_COLLECTIONS_PATH="$root/collections"
: "${SERVICE:?SERVICE is not set (packit or stream)}"
: "${DEPLOYMENT:?DEPLOYMENT is not set (dev, stg or prod)}"
exec ansible-playbook "$here/import-images.yml" "$@"
