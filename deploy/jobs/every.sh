#!/bin/sh
# every.sh SECONDS COMMAND [ARG...]: run COMMAND now, then again SECONDS after each run ends,
# until stopped. uWSGI's master keeps these loops alive (deploy/jobs.ini); SIGTERM ends the
# loop and whatever it is waiting on.
set -u
# The jobs run in production unless APP_ENV says otherwise, as the app under uWSGI does.
export APP_ENV="${APP_ENV:-production}"
interval=$1
shift
child=
trap 'if [ -n "$child" ]; then kill "$child" 2>/dev/null; fi; exit 0' TERM INT
while :; do
    "$@" &
    child=$!
    wait "$child"
    sleep "$interval" &
    child=$!
    wait "$child"
done
