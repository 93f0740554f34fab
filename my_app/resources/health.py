"""Liveness and readiness probes."""

from my_app.resources.base import Resource
from my_app.services.health import readiness


class Health(Resource):
    def get(self):
        """Liveness: the process is up."""
        return {"status": "ok"}


class Ping(Resource):
    def get(self):
        """Readiness: database reachable and schema at the migrations' head."""
        report, ready = readiness()
        return report, 200 if ready else 503
