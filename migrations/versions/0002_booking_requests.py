"""booking requests, resources and history; no overlapping accepted bookings

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

On PostgreSQL an exclusion constraint refuses two accepted requests of one
resource whose [event_time, end_time) intervals overlap; SQLite, whose writers
are serialised, gets the same rule from triggers.
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

STATUSES = "('pending', 'accepted', 'rejected', 'cancelled', 'expired')"
OVERLAP = """
    SELECT RAISE(ABORT, 'booking_overlap: accepted requests of a resource may not overlap')
    WHERE EXISTS (
        SELECT 1 FROM booking_requests AS other
        WHERE other.resource_id = NEW.resource_id
          AND other.status = 'accepted'
          AND other.id IS NOT NEW.id
          AND other.event_time < NEW.end_time
          AND NEW.event_time < other.end_time
    );
"""


def upgrade():
    op.create_table(
        "resources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False, server_default=""),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resources")),
    )
    op.create_index("uq_resources_name_lower", "resources", [sa.text("lower(name)")], unique=True)

    op.create_table(
        "booking_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("event_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("end_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("street", sa.String(length=200), nullable=False),
        sa.Column("city", sa.String(length=120), nullable=False),
        sa.Column("state", sa.String(length=120), nullable=True),
        sa.Column("postal_code", sa.String(length=32), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False, server_default="pending"),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(f"status IN {STATUSES}", name=op.f("ck_booking_requests_status")),
        sa.CheckConstraint(
            "duration_minutes BETWEEN 1 AND 10080", name=op.f("ck_booking_requests_duration")
        ),
        sa.CheckConstraint("end_time > event_time", name=op.f("ck_booking_requests_interval")),
        sa.ForeignKeyConstraint(
            ["resource_id"], ["resources.id"], name=op.f("fk_booking_requests_resource_id_resources")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"], ["users.id"],
            name=op.f("fk_booking_requests_requested_by_id_users"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["users.id"],
            name=op.f("fk_booking_requests_decided_by_id_users"), ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_requests")),
    )  # fmt: skip
    for name, columns in [
        ("ix_booking_requests_event_time_id", ["event_time", "id"]),
        ("ix_booking_requests_status_event_time_id", ["status", "event_time", "id"]),
        ("ix_booking_requests_resource_event_time_id", ["resource_id", "event_time", "id"]),
        ("ix_booking_requests_requester_event_time_id", ["requested_by_id", "event_time", "id"]),
    ]:
        op.create_index(name, "booking_requests", columns)

    op.create_table(
        "booking_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["booking_requests.id"],
            name=op.f("fk_booking_history_booking_id_booking_requests"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"],
            name=op.f("fk_booking_history_actor_id_users"), ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_history")),
    )  # fmt: skip
    op.create_index(op.f("ix_booking_history_booking_id"), "booking_history", ["booking_id"])

    resources = sa.table(
        "resources",
        sa.column("id", sa.Integer),
        sa.column("name", sa.String),
        sa.column("description", sa.Text),
        sa.column("active", sa.Boolean),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    op.bulk_insert(
        resources,
        [
            {
                "id": 1,
                "name": "Main calendar",
                "description": "The default calendar; requests without a resource_id go here.",
                "active": True,
                "created_at": datetime.now(UTC),
            }
        ],
    )

    if op.get_bind().dialect.name == "postgresql":
        op.execute("SELECT setval('resources_id_seq', (SELECT max(id) FROM resources))")
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(
            """
            ALTER TABLE booking_requests ADD CONSTRAINT ex_booking_requests_no_overlap
            EXCLUDE USING gist (resource_id WITH =, tstzrange(event_time, end_time, '[)') WITH &&)
            WHERE (status = 'accepted')
            """
        )
    else:
        op.execute(
            "CREATE TRIGGER booking_no_overlap_insert BEFORE INSERT ON booking_requests "
            f"WHEN NEW.status = 'accepted' BEGIN {OVERLAP} END"
        )
        op.execute(
            "CREATE TRIGGER booking_no_overlap_update BEFORE UPDATE OF "
            "status, event_time, end_time, resource_id ON booking_requests "
            f"WHEN NEW.status = 'accepted' BEGIN {OVERLAP} END"
        )


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        op.execute("DROP TRIGGER IF EXISTS booking_no_overlap_update")
        op.execute("DROP TRIGGER IF EXISTS booking_no_overlap_insert")
    op.drop_table("booking_history")
    op.drop_table("booking_requests")
    op.drop_index("uq_resources_name_lower", table_name="resources")
    op.drop_table("resources")
