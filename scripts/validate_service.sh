#!/usr/bin/env bash
# CodeDeploy ValidateService: the deploy succeeds only once /ping answers 200 through nginx.
set -euo pipefail
URL=${VALIDATE_URL:-http://127.0.0.1/ping}
DEADLINE=$((SECONDS + ${VALIDATE_TIMEOUT:-90}))
while [ "$SECONDS" -lt "$DEADLINE" ]; do
    if body=$(curl --silent --show-error --fail --max-time 5 "$URL"); then
        echo "ready: $body"
        exit 0
    fi
    sleep "${VALIDATE_INTERVAL:-3}"
done
echo "service did not become ready at $URL" >&2
curl --silent --max-time 5 "$URL" >&2 || true
exit 1
