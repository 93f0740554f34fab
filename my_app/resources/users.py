"""Accounts as resources: one user, and the admin's list."""

from flask_jwt_extended import current_user

from my_app.resources.base import Resource
from my_app.resources.endpoint import (
    arguments,
    authenticated,
    body,
    operation,
    other_responses,
    response,
)
from my_app.schemas.base import MessageSchema
from my_app.schemas.user import UserListQuerySchema, UserListSchema, UserSchema, UserUpdateSchema
from my_app.services import accounts

TAGS = ("accounts",)


class UserItem(Resource):
    @operation("get_user", tags=TAGS)
    @authenticated()
    @response(UserSchema)
    @other_responses(403, 404)
    def get(self, user_id: int):
        """One account: the caller's own, or any for an admin."""
        return accounts.visible_user(current_user, user_id)

    @operation("delete_user", tags=TAGS)
    @authenticated()
    @response(MessageSchema)
    @other_responses(403, 404, 409)
    def delete(self, user_id: int):
        """Delete an account: the caller's own, or any for an admin."""
        accounts.delete_user(current_user, user_id)
        return {"message": f"User {user_id} deleted."}

    @operation("update_user", tags=TAGS)
    @authenticated("admin")
    @body(UserUpdateSchema)
    @response(UserSchema)
    @other_responses(404, 409)
    def patch(self, changes, user_id: int):
        """Change a user's role or status (admin)."""
        return accounts.update_user(current_user, user_id, **changes)


class UserList(Resource):
    @operation("list_users", tags=TAGS)
    @authenticated("admin")
    @arguments(UserListQuerySchema)
    @response(UserListSchema)
    def get(self, args):
        """Every account, in pages (admin)."""
        return accounts.list_users(current_user, **args)
