#!/usr/bin/env bash
# CodeDeploy ApplicationStop: stop uWSGI and the periodic jobs gracefully (absent on a first deploy).
set -euo pipefail
if systemctl list-unit-files my_app.service >/dev/null 2>&1; then
    systemctl stop my_app.service || true
fi
# No job may run against files being replaced; application_start.sh starts them again.
for unit in my_app-expire-requests.timer my_app-prune-blacklist.timer my_app-deliver-events.service \
    my_app-release-no-shows.timer my_app-send-reminders.timer my_app-escalate-requests.timer; do
    if systemctl list-unit-files "$unit" >/dev/null 2>&1; then
        systemctl stop "$unit" || true
    fi
done
