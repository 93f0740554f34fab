"""Liveness and readiness probes."""

from my_app.resources.base import Reply, Resource, endpoint
from my_app.schemas.health import HealthSchema, ReadinessSchema
from my_app.services.health import readiness

TAGS = ("health",)


class Health(Resource):
    @endpoint("check_health", response=HealthSchema, tags=TAGS)
    def get(self):
        """Liveness: the process is up."""
        return {"status": "ok"}


class Ping(Resource):
    @endpoint(
        "check_readiness", response=ReadinessSchema, responses={503: ReadinessSchema}, tags=TAGS
    )
    def get(self):
        """Readiness: database reachable and schema at the migrations' head."""
        report, ready = readiness()
        return Reply(report, status=200 if ready else 503)
