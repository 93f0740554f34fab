"""GET /sessions and DELETE /sessions/<id>: the logins a user can see and end."""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from my_app.extensions import db
from my_app.models import LoginSession
from tests.support.api import bearer

LAPTOP = {"User-Agent": "Laptop/1.0 (X11; Linux)"}
PHONE = {"User-Agent": "Phone/2.0 (Android)"}


def _login(api, username: str, headers: dict, password: str | None = None) -> dict:
    body = {"username": username, "password": password or "correct horse battery"}
    response = api.client.post("/login", json=body, headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def _sessions(api, pair: dict):
    return api.client.get("/sessions", headers=bearer(pair["access_token"]))


def _rows(app, user_id: int) -> int:
    with app.app_context():
        query = sa.select(sa.func.count()).where(LoginSession.user_id == user_id)
        return db.session.scalar(query)


def test_sessions_are_listed_newest_first_with_the_current_one_marked(api):
    account = api.user("alice")  # a first login, with the test client's agent
    laptop = _login(api, "alice", LAPTOP)
    phone = _login(api, "alice", PHONE)
    response = _sessions(api, laptop)
    assert response.status_code == 200
    sessions = response.json["sessions"]
    assert len(sessions) == 3
    assert set(sessions[0]) == {"id", "created_at", "last_used_at", "ip", "user_agent", "current"}
    assert [s["user_agent"] for s in sessions[:2]] == [PHONE["User-Agent"], LAPTOP["User-Agent"]]
    assert [s["current"] for s in sessions] == [False, True, False]
    assert sessions[0]["id"] > sessions[1]["id"] > sessions[2]["id"]
    assert all(s["ip"] == "127.0.0.1" for s in sessions)
    assert all(s["created_at"].endswith("Z") for s in sessions)
    assert _sessions(api, phone).json["sessions"][0]["current"] is True
    assert _sessions(api, account.tokens).json["sessions"][2]["current"] is True


def test_a_long_user_agent_is_cut_to_a_sane_length(api):
    api.user("bob")
    pair = _login(api, "bob", {"User-Agent": "x" * 5000})
    agents = [s["user_agent"] for s in _sessions(api, pair).json["sessions"]]
    assert len(agents[0]) == 256


def test_refresh_updates_last_used_but_other_requests_do_not(api):
    account = api.user("carol")
    before = _sessions(api, account.tokens).json["sessions"][0]
    for _ in range(3):
        assert api.client.get("/me", headers=account.headers).status_code == 200
    assert _sessions(api, account.tokens).json["sessions"][0] == before
    pair = api.client.post("/refresh", headers=account.refresh_headers).json
    after = _sessions(api, pair).json["sessions"][0]
    assert after["id"] == before["id"]
    assert after["created_at"] == before["created_at"]
    assert after["last_used_at"] > before["last_used_at"]


def test_ending_another_session_revokes_its_tokens_at_once(api):
    account = api.user("dave")
    stolen = _login(api, "dave", LAPTOP)
    listed = _sessions(api, account.tokens).json["sessions"]
    laptop_id = next(s["id"] for s in listed if s["user_agent"] == LAPTOP["User-Agent"])
    response = api.client.delete(f"/sessions/{laptop_id}", headers=account.headers)
    assert response.status_code == 200
    assert "message" in response.json
    assert api.client.get("/me", headers=bearer(stolen["access_token"])).status_code == 401
    assert api.client.post("/refresh", headers=bearer(stolen["refresh_token"])).status_code == 401
    assert api.client.get("/me", headers=account.headers).status_code == 200
    remaining = _sessions(api, account.tokens).json["sessions"]
    assert [s["current"] for s in remaining] == [True]
    again = api.client.delete(f"/sessions/{laptop_id}", headers=account.headers)
    assert again.status_code == 404


def test_ending_the_current_session_is_a_logout(api):
    account = api.user("erin")
    current = _sessions(api, account.tokens).json["sessions"][0]["id"]
    assert api.client.delete(f"/sessions/{current}", headers=account.headers).status_code == 200
    assert api.client.get("/me", headers=account.headers).status_code == 401


def test_another_users_session_is_404_and_keeps_working(api):
    owner = api.user("frank")
    intruder = api.user("grace")
    session_id = _sessions(api, owner.tokens).json["sessions"][0]["id"]
    response = api.client.delete(f"/sessions/{session_id}", headers=intruder.headers)
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"
    assert api.client.get("/me", headers=owner.headers).status_code == 200
    assert api.client.delete("/sessions/99999999", headers=owner.headers).status_code == 404


def test_sessions_need_an_access_token(api):
    account = api.user("heidi")
    assert api.client.get("/sessions").status_code == 401
    assert api.client.get("/sessions", headers=account.refresh_headers).status_code == 401
    assert api.client.delete("/sessions/1").status_code == 401


def test_logout_and_logout_all_remove_the_rows(app, api):
    account = api.user("ivan")
    other = _login(api, "ivan", LAPTOP)
    third = _login(api, "ivan", PHONE)
    assert _rows(app, account.id) == 3
    assert api.client.post("/logout", headers=bearer(other["access_token"])).status_code == 200
    assert len(_sessions(api, account.tokens).json["sessions"]) == 2
    assert api.client.post("/logout_all", headers=bearer(third["access_token"])).status_code == 200
    assert _rows(app, account.id) == 0
    fresh = _login(api, "ivan", LAPTOP)
    assert len(_sessions(api, fresh).json["sessions"]) == 1


def test_disabling_and_deleting_an_account_remove_its_rows(app, api):
    admin = api.admin()
    victim = api.user("judy")
    _login(api, "judy", LAPTOP)
    assert _rows(app, victim.id) == 2
    patch = api.client.patch(
        f"/user/{victim.id}", json={"status": "disabled"}, headers=admin.headers
    )
    assert patch.status_code == 200
    assert _rows(app, victim.id) == 0
    other = api.user("karl")
    _login(api, "karl", PHONE)
    assert api.client.delete(f"/user/{other.id}", headers=other.headers).status_code == 200
    assert _rows(app, other.id) == 0


def test_a_refresh_token_reused_after_grace_removes_the_row(make_app, stack, mailbox):
    from tests.support.api import ApiClient

    app = make_app(blacklist=stack[1], REFRESH_GRACE_SECONDS=0)
    api = ApiClient(app.test_client(), app.test_cli_runner(), mailbox)
    account = api.user("liam")
    assert api.client.post("/refresh", headers=account.refresh_headers).status_code == 200
    assert api.client.post("/refresh", headers=account.refresh_headers).status_code == 401
    assert _rows(app, account.id) == 0


def test_prune_blacklist_forgets_expired_sessions(app, api, runner):
    account = api.user("mallory")
    _login(api, "mallory", LAPTOP)
    with app.app_context():
        oldest = db.session.scalar(
            sa.select(sa.func.min(LoginSession.id)).where(LoginSession.user_id == account.id)
        )
        db.session.execute(
            sa.update(LoginSession)
            .where(LoginSession.id == oldest)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        db.session.commit()
    # An expired session is not listed even before the job runs.
    assert len(_sessions(api, _login(api, "mallory", PHONE)).json["sessions"]) == 2
    result = runner.invoke(args=["prune-blacklist"])
    assert result.exit_code == 0, result.output
    assert "Forgot 1 expired sessions." in result.output
    assert _rows(app, account.id) == 2
