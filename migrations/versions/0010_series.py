"""series: recurring booking requests

Revision ID: 0010
Revises: 0011
Create Date: 2026-12-07

A series keeps its rule, its zone and its exceptions; each occurrence is an
ordinary booking request that names its series. A series goes with its
requester's account, as its occurrences do (within the same statement, so the
occurrences' plain foreign key is satisfied at its end). SQLite gets that key
within ADD COLUMN, where it cannot carry a name or an ON DELETE its reflection
would read back.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0011"
branch_labels = None
depends_on = None

SERIES_FK = "fk_booking_requests_series_id_booking_series"


def upgrade():
    op.create_table(
        "booking_series",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("rrule", sa.String(length=500), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("exdates", sa.JSON(), nullable=False),
        sa.Column("skipped", sa.JSON(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_id"], ["resources.id"], name=op.f("fk_booking_series_resource_id_resources"),
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"], ["users.id"],
            name=op.f("fk_booking_series_requested_by_id_users"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_series")),
    )  # fmt: skip
    op.create_index(op.f("ix_booking_series_resource_id"), "booking_series", ["resource_id"])
    op.create_index(
        op.f("ix_booking_series_requested_by_id"), "booking_series", ["requested_by_id"]
    )
    if op.get_bind().dialect.name == "sqlite":
        # In ADD COLUMN itself: SQLite cannot add a constraint later, and a batch rebuild of
        # the table would drop its overlap and buffer triggers.
        op.execute(
            f"ALTER TABLE booking_requests ADD COLUMN series_id INTEGER CONSTRAINT {SERIES_FK} "
            "REFERENCES booking_series (id)"
        )
    else:
        op.add_column("booking_requests", sa.Column("series_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            SERIES_FK, "booking_requests", "booking_series", ["series_id"], ["id"]
        )
    op.create_index(
        "ix_booking_requests_series_event_time_id",
        "booking_requests",
        ["series_id", "event_time", "id"],
    )


def downgrade():
    op.drop_index("ix_booking_requests_series_event_time_id", table_name="booking_requests")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE booking_requests DROP COLUMN series_id")
    else:
        op.drop_column("booking_requests", "series_id")
    op.drop_table("booking_series")
