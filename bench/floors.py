"""The floors `make bench` measures my_app against, served by the same uWSGI settings.

`GET /floor`: a bare Flask-RESTful resource returning a small JSON object.
`GET /floor_jwt`: the same behind flask-jwt-extended's `@jwt_required()`, with no
revocation check.
The two stack floors, behind `@jwt_required()` too, do the least a booking service can do
with its database, through a psycopg 3 connection pool (one per worker, opened after the
fork, autocommit) on DATABASE_URL's database, in the table `FLOOR_TABLE` creates:
`POST /floor_write`: parse a small JSON body (the booking fields), one `INSERT … RETURNING`
and a commit, the row back as JSON, 201.
`GET /floor_read/<id>`: one `SELECT` by primary key, the row as JSON.
All behind the same `deploy/listener.py` middleware as the app.
"""

from __future__ import annotations

import os

from flask import Flask, request
from flask_jwt_extended import JWTManager, get_jwt_identity, jwt_required
from flask_restful import Api, Resource
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from deploy.listener import Listener

FLOOR_TABLE = """
CREATE TABLE IF NOT EXISTS bench_floor (
    id bigserial PRIMARY KEY,
    topic text NOT NULL,
    event_time timestamptz NOT NULL,
    duration_minutes integer NOT NULL,
    street text NOT NULL,
    city text NOT NULL,
    country char(2) NOT NULL,
    status text NOT NULL DEFAULT 'pending',
    requested_by_id integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
)
"""
INSERT = """
INSERT INTO bench_floor (topic, event_time, duration_minutes, street, city, country,
    requested_by_id)
VALUES (%(topic)s, %(event_time)s, %(duration_minutes)s, %(street)s, %(city)s, %(country)s,
    %(user)s)
RETURNING *
"""
SELECT = "SELECT * FROM bench_floor WHERE id = %s"

pool: ConnectionPool | None = None  # this worker's, opened after the fork


def as_json(row: dict) -> dict:
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in row.items()}


class Floor(Resource):
    def get(self):
        return {"status": "ok", "name": "floor"}


class JWTFloor(Resource):
    @jwt_required()
    def get(self):
        return {"status": "ok", "name": "floor"}


class WriteFloor(Resource):
    @jwt_required()
    def post(self):
        body = request.get_json()
        address = body["address"]
        fields = {
            "topic": body["topic"],
            "event_time": body["event_time"],
            "duration_minutes": body["duration_minutes"],
            "street": address["street"],
            "city": address["city"],
            "country": address["country"],
            "user": int(get_jwt_identity()),
        }
        with pool.connection() as conn, conn.transaction():  # BEGIN … COMMIT
            row = conn.cursor(row_factory=dict_row).execute(INSERT, fields).fetchone()
        return as_json(row), 201


class ReadFloor(Resource):
    @jwt_required()
    def get(self, row_id: int):
        with pool.connection() as conn:  # autocommit: the SELECT alone, no BEGIN/COMMIT
            row = conn.cursor(row_factory=dict_row).execute(SELECT, (row_id,)).fetchone()
        if row is None:
            return {"status": 404, "title": "Not Found"}, 404
        return as_json(row)


def create_floor_app(secret: str) -> Flask:
    flask_app = Flask(__name__)
    flask_app.config["JWT_SECRET_KEY"] = secret
    JWTManager(flask_app)
    api = Api(flask_app)
    api.add_resource(Floor, "/floor", "/health")
    api.add_resource(JWTFloor, "/floor_jwt")
    api.add_resource(WriteFloor, "/floor_write")
    api.add_resource(ReadFloor, "/floor_read/<int:row_id>")
    return flask_app


def open_pool(url: str) -> ConnectionPool:
    """As many connections as the worker has threads, like the app's pool under load."""
    size = int(os.environ.get("UWSGI_THREADS", "2"))
    conninfo = url.replace("postgresql+psycopg://", "postgresql://", 1)
    return ConnectionPool(
        conninfo, min_size=size, max_size=size, kwargs={"autocommit": True}, open=True
    )


flask_app = create_floor_app(os.environ.get("JWT_SECRET_KEY", "bench-floor-key-" + "x" * 32))
app = Listener(flask_app)

try:
    from uwsgidecorators import postfork
except ImportError:  # imported by bench/run.py, not served
    postfork = None

if postfork is not None:

    @postfork
    def _own_pool() -> None:
        global pool
        if os.environ.get("DATABASE_URL"):
            pool = open_pool(os.environ["DATABASE_URL"])
