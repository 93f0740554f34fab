"""Liveness and readiness probes."""

from my_app.apidoc import documented
from my_app.resources.base import Resource
from my_app.schemas.health import HealthSchema, ReadinessSchema
from my_app.services.health import readiness


class Health(Resource):
    @documented(response=HealthSchema, tags=("health",))
    def get(self):
        """Liveness: the process is up."""
        return {"status": "ok"}


class Ping(Resource):
    @documented(response=ReadinessSchema, errors=(503,), tags=("health",))
    def get(self):
        """Readiness: database reachable and schema at the migrations' head."""
        report, ready = readiness()
        return report, 200 if ready else 503
