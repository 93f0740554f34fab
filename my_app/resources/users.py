"""Accounts as resources: one user, and the admin's list."""

from flask_jwt_extended import current_user

from my_app.resources.base import Resource, endpoint
from my_app.schemas.base import MessageSchema
from my_app.schemas.user import UserListQuerySchema, UserListSchema, UserSchema, UserUpdateSchema
from my_app.services import accounts

TAGS = ("accounts",)


class UserItem(Resource):
    @endpoint("get_user", auth="access", response=UserSchema, errors=(403, 404), tags=TAGS)
    def get(self, user_id: int):
        """One account: the caller's own, or any for an admin."""
        return accounts.visible_user(current_user, user_id)

    @endpoint(
        "delete_user", auth="access", response=MessageSchema, errors=(403, 404, 409), tags=TAGS
    )
    def delete(self, user_id: int):
        """Delete an account: the caller's own, or any for an admin."""
        accounts.delete_user(current_user, user_id)
        return {"message": f"User {user_id} deleted."}

    @endpoint(
        "update_user",
        auth="admin",
        body=UserUpdateSchema,
        response=UserSchema,
        errors=(404, 409),
        tags=TAGS,
    )
    def patch(self, changes, user_id: int):
        """Change a user's role or status (admin)."""
        return accounts.update_user(current_user, user_id, **changes)


class UserList(Resource):
    @endpoint(
        "list_users", auth="admin", query=UserListQuerySchema, response=UserListSchema, tags=TAGS
    )
    def get(self, args):
        """Every account, in pages (admin)."""
        return accounts.list_users(current_user, **args)
