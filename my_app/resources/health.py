"""Liveness and readiness probes."""

from my_app.apidoc import documented
from my_app.openapi import get_spec
from my_app.resources.base import Resource
from my_app.schemas.health import HealthSchema, ReadinessSchema
from my_app.schemas.openapi import OpenAPIDocumentSchema
from my_app.services.health import readiness


class Health(Resource):
    @documented(response=HealthSchema, tags=("health",))
    def get(self):
        """Liveness: the process is up."""
        return {"status": "ok"}


class Ping(Resource):
    @documented(response=ReadinessSchema, responses={503: ReadinessSchema}, tags=("health",))
    def get(self):
        """Readiness: database reachable and schema at the migrations' head."""
        report, ready = readiness()
        return report, 200 if ready else 503


class OpenAPIDocument(Resource):
    @documented(response=OpenAPIDocumentSchema, tags=("docs",))
    def get(self):
        """This OpenAPI 3 document, generated from the code."""
        return get_spec()
