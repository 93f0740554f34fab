"""WSGI entry point: `wsgi:app` for uWSGI and `flask --app wsgi`."""

from werkzeug.middleware.proxy_fix import ProxyFix

from my_app import create_app

app = create_app()
# One trusted proxy (nginx) sets X-Forwarded-For/-Proto/-Host in front of us.
app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)
