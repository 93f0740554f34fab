"""Extension objects, created here and initialised only in the app factory."""

import warnings

from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

with warnings.catch_warnings():
    # Its optional SQLAlchemy schemas need marshmallow-sqlalchemy, which it warns is
    # missing; our schemas are written out field by field.
    warnings.filterwarnings("ignore", "Flask-SQLAlchemy integration requires", UserWarning)
    from flask_marshmallow import Marshmallow


class Base(DeclarativeBase):
    # Stable constraint names keep Alembic migrations identical on SQLite and PostgreSQL.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


db = SQLAlchemy(model_class=Base)
jwt = JWTManager()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
ma = Marshmallow()
