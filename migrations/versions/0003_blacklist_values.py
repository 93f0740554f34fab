"""blacklist entries may carry a value (a spent refresh token's successor, for its grace period)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("token_blacklist") as batch:
        batch.add_column(sa.Column("value", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("token_blacklist") as batch:
        batch.drop_column("value")
