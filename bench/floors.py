"""The two floors `make bench` measures my_app against, served by the same uWSGI settings.

`GET /floor`: a bare Flask-RESTful resource returning a small JSON object.
`GET /floor_jwt`: the same behind flask-jwt-extended's `@jwt_required()`, with no
revocation check. Both behind the same `deploy/listener.py` middleware as the app.
"""

from __future__ import annotations

import os

from flask import Flask
from flask_jwt_extended import JWTManager, jwt_required
from flask_restful import Api, Resource

from deploy.listener import Listener


class Floor(Resource):
    def get(self):
        return {"status": "ok", "name": "floor"}


class JWTFloor(Resource):
    @jwt_required()
    def get(self):
        return {"status": "ok", "name": "floor"}


def create_floor_app(secret: str) -> Flask:
    flask_app = Flask(__name__)
    flask_app.config["JWT_SECRET_KEY"] = secret
    JWTManager(flask_app)
    api = Api(flask_app)
    api.add_resource(Floor, "/floor", "/health")
    api.add_resource(JWTFloor, "/floor_jwt")
    return flask_app


flask_app = create_floor_app(os.environ.get("JWT_SECRET_KEY", "bench-floor-key-" + "x" * 32))
app = Listener(flask_app)
