"""resource rules: time zone, approval, notice, advance, duration, buffer, opening hours, quota

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25

The buffer is enforced by the database, as the overlap is: a trigger refuses a
request becoming accepted (or an accepted one moving) closer than its
resource's `buffer_minutes` *as it is at that moment* to another accepted
request of the resource. Only the change is checked, so raising a buffer never
undoes what is already accepted.

On PostgreSQL the trigger first takes the resource's row (FOR NO KEY UPDATE,
what `catalog.accepting_turn` takes): acceptances of one resource and changes
of its rules then take turns even for a writer that forgot the turn, and the
trigger's query, a statement of its own under READ COMMITTED, sees every
acceptance committed before. Its refusal is an exclusion_violation, like the
overlap constraint's. SQLite's writers take turns anyway; there the triggers
add the buffer to the stored text times ('YYYY-MM-DD HH:MM:SS.ffffff').
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

PG_BUFFER = """
CREATE FUNCTION booking_keeps_buffer() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    buffer interval;
BEGIN
    SELECT make_interval(mins => coalesce(buffer_minutes, 0)) INTO buffer
    FROM resources WHERE id = NEW.resource_id FOR NO KEY UPDATE;
    IF buffer > interval '0' AND EXISTS (
        SELECT 1 FROM booking_requests AS other
        WHERE other.resource_id = NEW.resource_id
          AND other.status = 'accepted'
          AND other.id <> NEW.id
          AND tstzrange(other.event_time, other.end_time, '[)')
              && tstzrange(NEW.event_time - buffer, NEW.end_time + buffer, '[)')
    ) THEN
        RAISE EXCEPTION 'booking_buffer: accepted requests of resource % keep % apart',
            NEW.resource_id, buffer
            USING ERRCODE = 'exclusion_violation', CONSTRAINT = 'booking_buffer';
    END IF;
    RETURN NEW;
END $$
"""
# A row becoming accepted, or an accepted row moving in time or to another resource.
BECOMES_ACCEPTED = """NEW.status = 'accepted' AND (OLD.status IS DISTINCT FROM 'accepted'
    OR OLD.event_time IS DISTINCT FROM NEW.event_time OR OLD.end_time IS DISTINCT FROM NEW.end_time
    OR OLD.resource_id IS DISTINCT FROM NEW.resource_id)"""
COLUMNS = "status, event_time, end_time, resource_id"


SQLITE_BUFFER = """
    SELECT RAISE(ABORT, 'booking_buffer: accepted requests of a resource keep its buffer apart')
    WHERE EXISTS (
        SELECT 1 FROM booking_requests AS other JOIN resources AS r ON r.id = NEW.resource_id
        WHERE r.buffer_minutes > 0
          AND other.resource_id = NEW.resource_id
          AND other.status = 'accepted'
          AND other.id IS NOT NEW.id
          AND other.event_time
              < (datetime(NEW.end_time, '+' || r.buffer_minutes || ' minutes')
                 || substr(NEW.end_time, 20))
          AND (datetime(NEW.event_time, '-' || r.buffer_minutes || ' minutes')
               || substr(NEW.event_time, 20)) < other.end_time
    );
"""


def _check(name: str, condition: str) -> sa.CheckConstraint:
    return sa.CheckConstraint(condition, name=op.f(f"ck_resources_{name}"))


def upgrade():
    # Plain ADD COLUMN with the checks inline: a batch copy would lose the SQLite triggers.
    for column in (
        sa.Column("time_zone", sa.String(64), nullable=False, server_default="UTC"),
        sa.Column(
            "approval", sa.String(16), _check("approval", "approval IN ('required', 'auto')"),
            nullable=False, server_default="required",
        ),
        sa.Column("min_notice_minutes", sa.Integer(), nullable=True),
        sa.Column("max_advance_days", sa.Integer(), nullable=True),
        sa.Column("min_duration_minutes", sa.Integer(), nullable=True),
        sa.Column("max_duration_minutes", sa.Integer(), nullable=True),
        sa.Column("buffer_minutes", sa.Integer(), _check("buffer", "buffer_minutes >= 0")),
        sa.Column("opening_hours", sa.JSON(), nullable=True),
        sa.Column("quota_minutes", sa.Integer(), nullable=True),
        sa.Column(
            "quota_per", sa.String(8),
            _check("quota_per", "quota_per IN ('day', 'week', 'month')"),
            _check("quota", "(quota_minutes IS NULL) = (quota_per IS NULL)"),
        ),
    ):  # fmt: skip
        op.add_column("resources", column)

    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_BUFFER)
        op.execute(
            "CREATE TRIGGER booking_buffer_insert BEFORE INSERT ON booking_requests "
            "FOR EACH ROW WHEN (NEW.status = 'accepted') EXECUTE FUNCTION booking_keeps_buffer()"
        )
        op.execute(
            f"CREATE TRIGGER booking_buffer_update BEFORE UPDATE OF {COLUMNS} "
            f"ON booking_requests FOR EACH ROW WHEN ({BECOMES_ACCEPTED}) "
            "EXECUTE FUNCTION booking_keeps_buffer()"
        )
    else:
        op.execute(
            "CREATE TRIGGER booking_buffer_insert BEFORE INSERT ON booking_requests "
            f"WHEN NEW.status = 'accepted' BEGIN {SQLITE_BUFFER} END"
        )
        becomes_accepted = BECOMES_ACCEPTED.replace("IS DISTINCT FROM", "IS NOT")
        op.execute(
            f"CREATE TRIGGER booking_buffer_update BEFORE UPDATE OF {COLUMNS} "
            f"ON booking_requests WHEN {becomes_accepted} BEGIN {SQLITE_BUFFER} END"
        )


def downgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    for trigger in ("booking_buffer_update", "booking_buffer_insert"):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}{' ON booking_requests' * postgresql}")
    if postgresql:
        op.execute("DROP FUNCTION IF EXISTS booking_keeps_buffer()")
    # quota_per first: its check names quota_minutes (SQLite drops columns in place, 3.35+).
    for name in (
        "quota_per", "quota_minutes", "opening_hours", "buffer_minutes", "max_duration_minutes",
        "min_duration_minutes", "max_advance_days", "min_notice_minutes", "approval", "time_zone",
    ):  # fmt: skip
        op.drop_column("resources", name)
