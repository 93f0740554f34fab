#!/usr/bin/env bash
# CodeDeploy ApplicationStop: stop uWSGI gracefully (absent on a first deploy).
set -euo pipefail
if systemctl list-unit-files my_app.service >/dev/null 2>&1; then
    systemctl stop my_app.service || true
fi
