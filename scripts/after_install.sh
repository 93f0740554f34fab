#!/usr/bin/env bash
# CodeDeploy AfterInstall: virtualenv and packages, migrations, the systemd unit and nginx site.
set -euo pipefail
APP_DIR=/opt/my_app
PYTHON=$(command -v python3.11 || command -v python3)
cd "$APP_DIR"
"$PYTHON" -m venv .venv
.venv/bin/pip install --quiet --upgrade pip setuptools wheel
.venv/bin/pip install --quiet .
# Compiled now, as root: the app user cannot write __pycache__ beside the code.
.venv/bin/python -m compileall -q my_app migrations deploy config.py blacklist.py wsgi.py
"$APP_DIR/scripts/permissions.sh" "$APP_DIR" my_app my_app /etc/my_app/my_app.env

# Migrations are idempotent; with several hosts, whichever deploys first applies them.
set -a
# shellcheck disable=SC1091
. /etc/my_app/my_app.env
set +a
sudo -E -u my_app .venv/bin/flask --app wsgi db upgrade

install -m 644 deploy/my_app.service /etc/systemd/system/my_app.service
# The periodic jobs: timers for expire-requests, prune-blacklist and (every minute)
# release-no-shows, send-reminders and escalate-requests; a service for the
# event deliverer (enabled and started by application_start.sh).
install -m 644 deploy/my_app-*.service deploy/my_app-*.timer /etc/systemd/system/
systemctl daemon-reload
install -m 644 deploy/logrotate/my_app /etc/logrotate.d/my_app
# The CloudWatch agent ships /var/log/my_app and nginx's logs (deploy/cloudwatch/agent.json).
CWAGENT=/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl
if [ -x "$CWAGENT" ]; then
    "$CWAGENT" -a fetch-config -m ec2 -s -c "file:$APP_DIR/deploy/cloudwatch/agent.json"
fi
NGINX_CONF=/etc/nginx/conf.d
install -m 644 deploy/nginx/upstream.conf "$NGINX_CONF/my_app_upstream.conf"
install -m 644 deploy/nginx/my_app.conf "$NGINX_CONF/my_app.conf"
rm -f /etc/nginx/sites-enabled/default
# Amazon Linux keeps its stock site in nginx.conf; without default_server it no
# longer takes requests from ours (conf.d is included first).
sed -i -E 's/^(\s*listen\s+[^;]*)\s+default_server/\1/' /etc/nginx/nginx.conf
nginx -t
