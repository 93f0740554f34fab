def test_register_confirm_login_me(api):
    account = api.user("alice")
    response = api.client.get("/me", headers=account.headers)
    assert response.status_code == 200
    assert response.json["username"] == "alice"
    assert response.json["confirmed"] is True
