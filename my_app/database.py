"""Engine behaviour that the models rely on."""

import sqlite3

from flask import Flask
from sqlalchemy import event

from my_app.extensions import db


def _configure_sqlite(engine) -> None:
    # SQLite serialises writers; taking the write lock when a transaction
    # begins (BEGIN IMMEDIATE) makes read-check-write sequences atomic instead
    # of failing on a lock upgrade, and foreign keys are off unless asked for.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record) -> None:
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA foreign_keys = ON")
        dbapi_connection.execute("PRAGMA busy_timeout = 30000")

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        # An AUTOCOMMIT connection (the revocation store's) runs each statement on its own.
        if connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def init_app(app: Flask) -> None:
    with app.app_context():
        for engine in db.engines.values():
            if engine.dialect.name == "sqlite":
                _configure_sqlite(engine)
