#!/usr/bin/env bash
# permissions.sh APP_DIR APP_USER APP_GROUP ENV_FILE: who may change what after a deploy
# (run by after_install.sh, as root).
# The code and its .venv belong to root and are read-only to everyone else: the next deploy
# runs that .venv's python and pip as root, so an app user able to change them could become
# root. Only instance/ is the app's to write. The environment file is root's, readable by
# APP_GROUP (the app user's own group, not www-data): root sources it at every deploy, so
# the app user must not be able to change it either.
set -euo pipefail
app_dir=$1
app_user=$2
app_group=$3
env_file=$4
chown -R root:root "$app_dir"
chmod -R u+rwX,go+rX,go-w "$app_dir"
install -d -o "$app_user" -g "$app_group" -m 750 "$app_dir/instance"
env_dir=$(dirname "$env_file")
chown root:"$app_group" "$env_dir"
chmod 750 "$env_dir"
if [ -f "$env_file" ]; then
    chown root:"$app_group" "$env_file"
    chmod 640 "$env_file"
fi
