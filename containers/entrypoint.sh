#!/bin/bash
# Entry point of the packit-deployment image.
#   import-images      run the scheduled image import (cron-jobs/import-images/)
#   <anything else>    exec it as given (e.g. ansible-playbook playbooks/check.yml ...)
set -euo pipefail
cd "${DEPLOYMENT_DIR:-/opt/packit-deployment}"
mkdir -p "${ANSIBLE_LOCAL_TEMP:-/tmp/ansible/tmp}"

case "${1:-import-images}" in
  import-images)
    shift || true
    exec cron-jobs/import-images/run.sh "$@"
    ;;
  *)
    exec "$@"
    ;;
esac
