#!/usr/bin/env bash
# CodeDeploy ApplicationStart: (re)start uWSGI and reload nginx without dropping connections.
set -euo pipefail
systemctl enable my_app.service
systemctl restart my_app.service
# Periodic jobs (deploy/my_app-*.timer) and the event deliverer, on every host: all are
# safe to run on several hosts at once.
systemctl enable --now my_app-expire-requests.timer my_app-prune-blacklist.timer \
    my_app-release-no-shows.timer my_app-send-reminders.timer my_app-escalate-requests.timer
systemctl enable my_app-deliver-events.service
systemctl restart my_app-deliver-events.service
systemctl enable nginx
if systemctl is-active --quiet nginx; then
    systemctl reload nginx
else
    systemctl start nginx
fi
