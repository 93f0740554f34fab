"""The WSGI callable deploy/uwsgi.ini serves: `wsgi.app` behind the listener's fixes."""

from deploy.listener import Listener
from wsgi import app as flask_app

app = Listener(flask_app)
