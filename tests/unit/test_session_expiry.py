"""When a session's refresh token expires: 30 days on, but never past SESSION_MAX_DAYS."""

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from my_app.services import sessions


@pytest.fixture
def app_context():
    app = Flask(__name__)
    app.config.update(JWT_REFRESH_TOKEN_EXPIRES=timedelta(days=30), SESSION_MAX_DAYS=90)
    with app.app_context():
        yield


def test_a_young_session_gets_a_full_refresh_token(app_context):
    now = datetime.now(UTC)
    expiry = sessions.expiry(created_at=now - timedelta(days=10))
    assert abs(expiry - (now + timedelta(days=30))) < timedelta(seconds=5)


def test_an_old_session_gets_only_what_it_has_left(app_context):
    created_at = datetime.now(UTC) - timedelta(days=80)
    assert sessions.expiry(created_at) == created_at + timedelta(days=90)
