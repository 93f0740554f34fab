"""after acceptance: the released status, check-in, reminders, escalation

Revision ID: 0011
Revises: 0009
Create Date: 2026-11-28

Three rules on resources (`checkin_minutes`, `reminder_minutes`, the approval
deadline stored in minutes), the booking's `checked_in_at`, and the claims of
the jobs that act once per request (`reminded_at`, `escalated_at`).

`released` joins the statuses. PostgreSQL replaces the status check; SQLite
cannot alter a check, and rebuilding the table would drop its triggers (and,
with foreign keys on, cascade the drop into the history), so its table
definition is widened in place, the procedure SQLite documents for loosening a
constraint ("Making Other Kinds Of Table Schema Changes"): every stored row
already meets the wider check.
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None

OLD = "('pending', 'accepted', 'rejected', 'cancelled', 'expired')"
NEW = "('pending', 'accepted', 'rejected', 'cancelled', 'expired', 'released')"
RULES = (("checkin_minutes", "checkin"), ("reminder_minutes", "reminder"),
         ("approval_deadline_minutes", "approval_deadline"))  # fmt: skip
CLAIMS = ("checked_in_at", "reminded_at", "escalated_at")


def upgrade():
    for column, check in RULES:
        constraint = sa.CheckConstraint(f"{column} > 0", name=op.f(f"ck_resources_{check}"))
        op.add_column("resources", sa.Column(column, sa.Integer(), constraint, nullable=True))
    for column in CLAIMS:
        op.add_column("booking_requests", sa.Column(column, sa.DateTime(timezone=True)))
    _statuses(OLD, NEW)


def downgrade():
    # A released booking was an accepted one nobody came to: the nearest older status.
    op.execute("UPDATE booking_requests SET status = 'cancelled' WHERE status = 'released'")
    _statuses(NEW, OLD)
    for column in reversed(CLAIMS):
        op.drop_column("booking_requests", column)
    for column, _ in reversed(RULES):
        op.drop_column("resources", column)


def _statuses(old: str, new: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(op.f("ck_booking_requests_status"), "booking_requests", type_="check")
        op.create_check_constraint(op.f("ck_booking_requests_status"), "booking_requests",
                                   f"status IN {new}")  # fmt: skip
        return
    bind = op.get_bind()
    table = "type = 'table' AND name = 'booking_requests'"
    sql = bind.execute(sa.text(f"SELECT sql FROM sqlite_master WHERE {table}")).scalar_one()
    if f"status IN {old}" not in sql:
        raise RuntimeError("booking_requests: the status check is not the one expected")
    version = bind.execute(sa.text("PRAGMA schema_version")).scalar_one()
    op.execute("PRAGMA writable_schema = ON")
    bind.execute(
        sa.text(f"UPDATE sqlite_master SET sql = :sql WHERE {table}"),
        {"sql": sql.replace(f"status IN {old}", f"status IN {new}")},
    )
    op.execute(f"PRAGMA schema_version = {version + 1}")
    op.execute("PRAGMA writable_schema = OFF")
