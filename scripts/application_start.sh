#!/usr/bin/env bash
# CodeDeploy ApplicationStart: (re)start uWSGI and reload nginx without dropping connections.
set -euo pipefail
systemctl enable my_app.service
systemctl restart my_app.service
systemctl enable nginx
if systemctl is-active --quiet nginx; then
    systemctl reload nginx
else
    systemctl start nginx
fi
