"""The HTTP surface: every path of the contract, mapped to its resource."""

from flask import Flask

from my_app.resources import auth, health, random_array, users
from my_app.resources.base import Api

ROUTES = [
    (health.Health, "/health"),
    (health.Ping, "/ping"),
    (auth.Register, "/register"),
    (auth.ConfirmEmail, "/user_confirm/<string:token>"),
    (auth.ResendConfirmation, "/resend_confirmation"),
    (auth.Login, "/login"),
    (auth.Refresh, "/refresh"),
    (auth.Logout, "/logout"),
    (auth.LogoutAll, "/logout_all"),
    (auth.Me, "/me"),
    (users.UserItem, "/user/<int:user_id>"),
    (users.UserList, "/users"),
    (random_array.RandomArray, "/generate_random_array"),
]


def init_app(app: Flask) -> Api:
    api = Api(app, catch_all_404s=False)
    for resource, path in ROUTES:
        # Both spellings are routed, so a trailing slash never redirects or 404s.
        api.add_resource(resource, path, path + "/")
    return api
