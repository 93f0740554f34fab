"""booking API for integrators: idempotency keys, request versions, calendar feed tokens

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24

- `idempotency_keys`: one row per (user, Idempotency-Key), claimed by an
  INSERT that the unique constraint lets only one request win; it keeps the
  request's fingerprint and, once answered, the first response.
- `booking_requests.version`: bumped by every guarded status change; the ETag.
- `resources.calendar_token`: the secret of a resource's calendar feed link.
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "idempotency_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("content_type", sa.String(length=100), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"],
            name=op.f("fk_idempotency_keys_user_id_users"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_keys")),
        sa.UniqueConstraint("user_id", "key", name=op.f("uq_idempotency_keys_user_id")),
    )  # fmt: skip
    op.create_index(op.f("ix_idempotency_keys_expires_at"), "idempotency_keys", ["expires_at"])

    # Plain ADD COLUMN, no batch copy: on SQLite a batch would rebuild the tables and lose
    # what it cannot reflect (the overlap triggers, the lower(name) index).
    op.add_column(
        "booking_requests",
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
    )
    op.add_column("resources", sa.Column("calendar_token", sa.String(length=64), nullable=True))
    op.create_index(
        op.f("ix_resources_calendar_token"), "resources", ["calendar_token"], unique=True
    )
    resources = sa.table("resources", sa.column("id", sa.Integer), sa.column("calendar_token"))
    bind = op.get_bind()
    for (resource_id,) in bind.execute(sa.select(resources.c.id)).all():
        bind.execute(
            resources.update()
            .where(resources.c.id == resource_id)
            .values(calendar_token=secrets.token_urlsafe(32))
        )


def downgrade():
    op.drop_index(op.f("ix_resources_calendar_token"), table_name="resources")
    op.drop_column("resources", "calendar_token")  # SQLite 3.35+ drops columns in place
    op.drop_column("booking_requests", "version")
    op.drop_index(op.f("ix_idempotency_keys_expires_at"), table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
