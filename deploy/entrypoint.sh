#!/bin/sh
# The container's entrypoint (also run as is on a host: the deploy smoke test does).
#   entrypoint.sh web      apply pending migrations (dues init), then the production server (dues server)
#   entrypoint.sh worker   the jobs worker (dues worker); start it once the web service is ready
#   entrypoint.sh ARGS...  any other dues command, e.g. `entrypoint.sh users add ...`
# Environment: DUES_DATABASE_URL, DUES_SECRET_KEY, DUES_COMPANY_NAME (the company `dues init` creates on the
# first start; an existing database keeps its own), optional DUES_COMPANY_GSTIN, DUES_COMPANY_STATE;
# DUES_BIND, DUES_WEB_WORKERS, DUES_WEB_THREADS for the server. See docs/deployment.md.
set -eu

init() {
  set -- init --company "${DUES_COMPANY_NAME:?set DUES_COMPANY_NAME (the company dues init creates)}"
  [ -n "${DUES_COMPANY_GSTIN:-}" ] && set -- "$@" --gstin "$DUES_COMPANY_GSTIN"
  [ -n "${DUES_COMPANY_STATE:-}" ] && set -- "$@" --state "$DUES_COMPANY_STATE"
  dues --user "${DUES_USER:-deploy}" "$@"
}

case "${1:-web}" in
  web)
    [ $# -gt 0 ] && shift
    init
    exec dues server "$@"
    ;;
  worker)
    shift
    exec dues worker "$@"
    ;;
  *)
    exec dues "$@"
    ;;
esac
