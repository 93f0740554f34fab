"""Who may do what is decided in the services, whichever path calls them."""

import pytest

from my_app.errors import Forbidden
from my_app.services import accounts, bookings, catalog, identity, revocation


@pytest.fixture
def requester(app, api):
    account = api.user()
    with app.app_context():
        return identity.Account.from_record(revocation.load_account(account.id))


@pytest.mark.parametrize(
    "call",
    [
        lambda actor: bookings.accept(actor, 1),
        lambda actor: bookings.reject(actor, 1),
        lambda actor: bookings.delete(actor, 1),
        lambda actor: bookings.list_all(actor, limit=20),
        lambda actor: accounts.update_user(actor, 1, role="admin"),
        lambda actor: accounts.list_users(actor, limit=20),
        lambda actor: accounts.visible_user(actor, actor.id + 1),
        lambda actor: accounts.delete_user(actor, actor.id + 1),
        lambda actor: catalog.create_resource(actor, "Room 9"),
        lambda actor: catalog.update_resource(actor, 1, name="Renamed"),
    ],
    ids=[
        "accept", "reject", "delete-booking", "list-all", "update-user", "list-users",
        "see-other-user", "delete-other-user", "create-resource", "update-resource",
    ],
)  # fmt: skip
def test_a_service_called_directly_by_a_requester_refuses_admin_work(app, requester, call):
    with app.app_context(), pytest.raises(Forbidden):
        call(requester)
