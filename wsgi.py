"""The app with its command-line tools: `flask --app wsgi <command>` and `flask run`.

uWSGI serves deploy/serve.py's, built without them.

Under uWSGI it runs in production unless `APP_ENV` says otherwise (config.default_app_env).
Proxies in front (nginx, a load balancer) are trusted as `TRUSTED_PROXIES` says (create_app).
"""

import sys

from config import ConfigError
from my_app import create_app

try:
    app = create_app()
except ConfigError as error:
    sys.exit(f"my_app cannot start: {error}")
