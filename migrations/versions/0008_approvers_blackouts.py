"""approvers per resource; blackouts

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26

An approver decides the booking requests of the resources they approve; a
blackout is a time its resource cannot be booked. Both go with their resource,
an approver row also with its account.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "resource_approvers",
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_id"], ["resources.id"],
            name=op.f("fk_resource_approvers_resource_id_resources"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"],
            name=op.f("fk_resource_approvers_user_id_users"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("resource_id", "user_id", name=op.f("pk_resource_approvers")),
    )  # fmt: skip
    op.create_index(op.f("ix_resource_approvers_user_id"), "resource_approvers", ["user_id"])

    op.create_table(
        "blackouts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("start_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("end_time > start_time", name=op.f("ck_blackouts_interval")),
        sa.ForeignKeyConstraint(
            ["resource_id"], ["resources.id"],
            name=op.f("fk_blackouts_resource_id_resources"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"],
            name=op.f("fk_blackouts_created_by_id_users"), ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_blackouts")),
    )  # fmt: skip
    op.create_index(
        "ix_blackouts_resource_start_time", "blackouts", ["resource_id", "start_time"]
    )


def downgrade():
    op.drop_table("blackouts")
    op.drop_table("resource_approvers")
