"""The HTTP surface: every path of the contract, mapped to its resource."""

from flask import Flask
from werkzeug.routing import IntegerConverter

from my_app.resources import auth, bookings, catalog, health, random_array, series, users
from my_app.resources.base import Api
from my_app.schemas.base import MAX_ID

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
    (auth.ForgotPassword, "/forgot_password"),
    (auth.ResetPassword, "/reset_password"),
    (auth.ChangePassword, "/change_password"),
    (auth.SessionList, "/sessions"),
    (auth.SessionItem, "/sessions/<id:session_id>"),
    (users.UserItem, "/user/<id:user_id>"),
    (users.UserList, "/users"),
    (random_array.RandomArray, "/generate_random_array"),
    (bookings.SubmitRequest, "/submit_request"),
    (bookings.ListRequests, "/list_requests"),
    (bookings.MyRequests, "/my_requests"),
    (bookings.RequestItem, "/request/<id:booking_id>"),
    (bookings.RequestHistory, "/request/<id:booking_id>/history"),
    (bookings.AcceptRequest, "/accept_request"),
    (bookings.RejectRequest, "/reject_request"),
    (bookings.CancelRequest, "/cancel_request"),
    (bookings.CheckinRequest, "/checkin_request"),
    (bookings.DeleteRequest, "/delete_request/<id:booking_id>"),
    (series.SubmitSeries, "/submit_series"),
    (series.SeriesItem, "/series/<id:series_id>"),
    (series.AcceptSeries, "/accept_series"),
    (series.RejectSeries, "/reject_series"),
    (series.CancelSeries, "/cancel_series"),
    (catalog.ResourceList, "/resources"),
    (catalog.ResourceImport, "/resources/import"),
    (catalog.ResourceItem, "/resources/<id:resource_id>"),
    (catalog.ResourceAvailability, "/resources/<id:resource_id>/availability"),
    (catalog.ResourceCalendar, "/resources/<id:resource_id>/calendar.ics"),
    (catalog.ResourceCalendarToken, "/resources/<id:resource_id>/calendar_token"),
    (catalog.ResourceApprovers, "/resources/<id:resource_id>/approvers"),
    (catalog.ResourceBlackouts, "/resources/<id:resource_id>/blackouts"),
    (catalog.ResourceBlackoutItem, "/resources/<id:resource_id>/blackouts/<id:blackout_id>"),
]


class IdConverter(IntegerConverter):
    """`<id:name>`: a row id; anything outside 1..MAX_ID is simply not found.

    Only ASCII digits without leading zeros, at most 19 of them (the 64-bit range), so
    one resource has one URL: `\\d` and `int()` would also take fullwidth or Arabic-Indic digits.
    """

    regex = r"[1-9][0-9]{0,18}"

    def __init__(self, url_map):
        super().__init__(url_map, min=1, max=MAX_ID)


def init_app(app: Flask) -> Api:
    app.url_map.converters["id"] = IdConverter
    app.url_map.strict_slashes = False  # `/ping/` is `/ping`: no redirect, no 404
    api = Api(app, catch_all_404s=False)
    for resource, path in ROUTES:
        api.add_resource(resource, path)
    return api
