"""The WSGI callable deploy/uwsgi.ini serves: the app behind the listener's fixes.

It is `wsgi.app` without the command-line tools (`create_app(serving=True)`): Flask-Migrate
and Alembic alone would add about 10 MB to every worker.
"""

import sys

from config import ConfigError
from deploy.listener import Listener
from my_app import create_app
from my_app.extensions import db

try:
    flask_app = create_app(serving=True)  # production unless APP_ENV says otherwise
except ConfigError as error:
    sys.exit(f"my_app cannot start: {error}")

app = Listener(flask_app)

try:
    from uwsgidecorators import postfork
except ImportError:  # not under uWSGI
    postfork = None

if postfork is not None:

    @postfork
    def _own_connections() -> None:
        """Loaded in the master (without `lazy-apps`), each worker starts with an empty pool:
        no database connection opened before the fork is ever shared by two processes."""
        with flask_app.app_context():
            db.engine.dispose(close=False)
