"""Accounts as resources: one user, and the admin's list."""

from flask_jwt_extended import current_user

from my_app.apidoc import documented
from my_app.auth import ensure_admin
from my_app.resources.base import AdminResource, AuthResource, load_body, load_query
from my_app.schemas.base import MessageSchema
from my_app.schemas.user import UserListQuerySchema, UserListSchema, UserSchema, UserUpdateSchema
from my_app.services import accounts

user_schema = UserSchema()


class UserItem(AuthResource):
    @documented(auth="access", response=UserSchema, errors=(403, 404), tags=("accounts",))
    def get(self, user_id: int):
        """One account: the caller's own, or any for an admin."""
        return user_schema.dump(accounts.visible_user(current_user, user_id))

    @documented(auth="access", response=MessageSchema, errors=(403, 404, 409), tags=("accounts",))
    def delete(self, user_id: int):
        """Delete an account: the caller's own, or any for an admin."""
        accounts.delete_user(current_user, user_id)
        return {"message": f"User {user_id} deleted."}

    @documented(
        auth="admin",
        body=UserUpdateSchema,
        response=UserSchema,
        errors=(404, 409),
        tags=("accounts",),
    )
    def patch(self, user_id: int):
        """Change a user's role or status (admin)."""
        ensure_admin(current_user)
        changes = load_body(UserUpdateSchema())
        return user_schema.dump(accounts.update_user(user_id, **changes))


class UserList(AdminResource):
    @documented(
        auth="admin", query=UserListQuerySchema, response=UserListSchema, tags=("accounts",)
    )
    def get(self):
        """Every account, in pages (admin)."""
        args = load_query(UserListQuerySchema())
        users, next_cursor = accounts.list_users(**args)
        return {"users": user_schema.dump(users, many=True), "next_cursor": next_cursor}
