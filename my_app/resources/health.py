"""Liveness and readiness probes."""

from my_app.resources.base import Reply, Resource
from my_app.resources.endpoint import alt_response, operation, response
from my_app.schemas.health import HealthSchema, ReadinessSchema
from my_app.services.health import readiness

TAGS = ("health",)


class Health(Resource):
    @operation("check_health", tags=TAGS)
    @response(HealthSchema)
    def get(self):
        """Liveness: the process is up."""
        return {"status": "ok"}


class Ping(Resource):
    @operation("check_readiness", tags=TAGS)
    @response(ReadinessSchema)
    @alt_response(503, ReadinessSchema)
    def get(self):
        """Readiness: database reachable and schema at the migrations' head."""
        report, ready = readiness()
        return Reply(report, status=200 if ready else 503)
