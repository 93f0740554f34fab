"""The app with its command-line tools: `flask --app wsgi <command>` and `flask run`.

uWSGI serves deploy/serve.py's, built without them.

Proxies in front (nginx, a load balancer) are trusted as `TRUSTED_PROXIES` says (create_app).
"""

from my_app import create_app

app = create_app()
