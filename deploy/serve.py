"""The WSGI callable deploy/uwsgi.ini serves: `wsgi.app` behind the listener's fixes."""

from deploy.listener import Listener
from my_app.extensions import db
from wsgi import app as flask_app

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
