#!/usr/bin/env bash
# CodeDeploy BeforeInstall: system packages, the service account and its folders.
set -euo pipefail
if command -v dnf >/dev/null 2>&1; then
    dnf install -y python3.11 python3.11-devel gcc nginx amazon-cloudwatch-agent
elif command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv python3-dev gcc nginx
fi
getent group www-data >/dev/null || groupadd --system www-data
# The app user's own group (the environment file's), beside www-data (the socket's, for nginx).
getent group my_app >/dev/null || groupadd --system my_app
id my_app >/dev/null 2>&1 || useradd --system --gid www-data --home-dir /opt/my_app --shell /usr/sbin/nologin my_app
usermod -a -G my_app my_app
# The code is root's, read-only to the app user (scripts/permissions.sh).
install -d -o root -g root -m 755 /opt/my_app
# nginx reaches uWSGI's socket through the www-data group (Debian's nginx runs as
# www-data already; Amazon Linux's runs as nginx).
if id nginx >/dev/null 2>&1; then
    usermod -a -G www-data nginx
fi
install -d -o root -g my_app -m 750 /etc/my_app
# The environment file names the secret; the secret itself stays in Secrets Manager.
if [ ! -f /etc/my_app/my_app.env ]; then
    cat > /etc/my_app/my_app.env <<'ENV'
APP_ENV=production
AWS_REGION=us-east-1
AWS_SECRET_ID=my_app/production
UWSGI_PROCESSES=4
LOG_FORMAT=json
ENV
    chmod 640 /etc/my_app/my_app.env
    chgrp my_app /etc/my_app/my_app.env
fi
