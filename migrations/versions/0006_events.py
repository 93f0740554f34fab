"""booking events outbox and its delivery attempts

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24

`booking_events.booking_id` has no foreign key on purpose: the event of a
deletion must outlive the deleted row.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "booking_events",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'delivered', 'failed')", name=op.f("ck_booking_events_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_events")),
    )
    op.create_index(
        "ix_booking_events_status_next_attempt_at", "booking_events", ["status", "next_attempt_at"]
    )
    op.create_index(op.f("ix_booking_events_booking_id"), "booking_events", ["booking_id"])

    op.create_table(
        "booking_event_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"], ["booking_events.id"],
            name=op.f("fk_booking_event_attempts_event_id_booking_events"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_event_attempts")),
    )  # fmt: skip
    op.create_index(
        op.f("ix_booking_event_attempts_event_id"), "booking_event_attempts", ["event_id"]
    )


def downgrade():
    op.drop_table("booking_event_attempts")
    op.drop_table("booking_events")
