"""What a session row keeps of where a login came from: bounded, and nothing for nothing."""

from my_app.models.session import USER_AGENT_LENGTH
from my_app.services.sessions import ADDRESS_LENGTH, Client


def test_a_client_is_kept_as_told():
    client = Client("203.0.113.7", "Firefox/128.0")
    assert client.row_values() == {"ip": "203.0.113.7", "user_agent": "Firefox/128.0"}


def test_long_values_are_cut_to_their_columns():
    values = Client("a" * 100, "b" * (USER_AGENT_LENGTH + 50)).row_values()
    assert values == {"ip": "a" * ADDRESS_LENGTH, "user_agent": "b" * USER_AGENT_LENGTH}


def test_an_unknown_or_empty_client_keeps_nothing():
    assert Client().row_values() == {"ip": None, "user_agent": None}
    assert Client("", "").row_values() == {"ip": None, "user_agent": None}
