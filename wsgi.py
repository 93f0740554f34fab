"""WSGI entry point: `wsgi:app` for uWSGI and `flask --app wsgi`.

Proxies in front (nginx, a load balancer) are trusted as `TRUSTED_PROXIES` says (create_app).
"""

from my_app import create_app

app = create_app()
