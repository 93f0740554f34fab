"""Who approves a resource's booking requests, besides the admins."""

import sqlalchemy as sa

from my_app.extensions import db

# The primary key (resource_id, user_id) answers "is this user an approver of that resource";
# the index on user_id answers "which resources does this user approve".
resource_approvers = sa.Table(
    "resource_approvers",
    db.metadata,
    sa.Column("resource_id", sa.ForeignKey("resources.id", ondelete="CASCADE"), primary_key=True),
    sa.Column(
        "user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    ),
)
