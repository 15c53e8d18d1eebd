"""Admin sign-in: login, rate limit, logout, password change, CSRF, and no page open to anonymous."""

from __future__ import annotations

from werkzeug.routing import IntegerConverter

from contest.web.admin.auth import LOGIN_FAILURES_ALLOWED
from tests.admin_support import PASSWORD, csrf_from, make_admin, sign_in


def test_login_page_is_in_chinese(client):
    page = client.get("/admin/login")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "管理员登录" in text and "用户名" in text and "密码" in text


def test_login_with_the_right_password_opens_the_dashboard(app, client):
    make_admin(app)
    response = sign_in(client)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/")
    home = client.get("/admin/")
    assert home.status_code == 200
    text = home.get_data(as_text=True)
    assert "管理后台" in text and "admin（组织者）" in text
    # The cookie is HttpOnly and SameSite=Lax.
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_wrong_password_is_refused(app, client):
    make_admin(app)
    response = sign_in(client, password="wrong-password")
    assert response.status_code == 401
    assert "用户名或密码不正确" in response.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302


def test_login_goes_on_to_the_page_asked_for_but_never_off_site(app, client):
    make_admin(app)
    first = client.get("/admin/password")
    assert "/admin/login?next=/admin/password" in first.headers["Location"]
    token = csrf_from(client)
    form = {"username": "admin", "password": PASSWORD, "csrf_token": token, "next": "/admin/password"}
    assert client.post("/admin/login", data=form).headers["Location"].endswith("/admin/password")
    other = client.application.test_client()
    form["csrf_token"], form["next"] = csrf_from(other), "//evil.example/admin"
    assert other.post("/admin/login", data=form).headers["Location"].endswith("/admin/")


def test_login_starts_a_fresh_session(app, client):
    make_admin(app)
    before = csrf_from(client)
    sign_in(client)
    assert csrf_from(client, "/admin/password") != before


def test_too_many_failures_per_username_block_even_the_right_password(app, client):
    make_admin(app)
    for _ in range(LOGIN_FAILURES_ALLOWED):
        assert sign_in(client, password="wrong-password").status_code == 401
    blocked = sign_in(client)
    assert blocked.status_code == 429
    assert "登录失败次数过多" in blocked.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302
    # The block is on this username (from any address), not on other accounts elsewhere.
    assert sign_in(client, REMOTE_ADDR="10.9.9.9").status_code == 429
    make_admin(app, "second")
    assert sign_in(app.test_client(), "second", REMOTE_ADDR="10.9.9.9").status_code == 302


def test_too_many_failures_from_one_address_block_it(app, client):
    make_admin(app)
    for n in range(LOGIN_FAILURES_ALLOWED):
        assert sign_in(client, f"guess{n}", "wrong-password", REMOTE_ADDR="10.0.0.7").status_code == 401
    assert sign_in(client, REMOTE_ADDR="10.0.0.7").status_code == 429
    assert sign_in(client, REMOTE_ADDR="10.0.0.8").status_code == 302


def test_a_successful_login_clears_the_username_failures(app, client):
    make_admin(app)
    for _ in range(LOGIN_FAILURES_ALLOWED - 1):
        sign_in(client, password="wrong-password", REMOTE_ADDR="10.0.1.1")
    assert sign_in(client, REMOTE_ADDR="10.0.1.1").status_code == 302
    other = app.test_client()
    for _ in range(LOGIN_FAILURES_ALLOWED - 1):
        sign_in(other, password="wrong-password", REMOTE_ADDR="10.0.1.2")
    assert sign_in(other, REMOTE_ADDR="10.0.1.2").status_code == 302


def test_logout_ends_the_session(app, client):
    make_admin(app)
    sign_in(client)
    token = csrf_from(client, "/admin/")
    assert client.post("/admin/logout").status_code == 400  # no token: refused, still signed in
    assert client.get("/admin/").status_code == 200
    response = client.post("/admin/logout", data={"csrf_token": token})
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]
    assert client.get("/admin/").status_code == 302


def _change_password(client, old: str, new: str, confirm: str | None = None):
    token = csrf_from(client, "/admin/password")
    form = {"current_password": old, "new_password": new, "confirm_password": confirm or new, "csrf_token": token}
    return client.post("/admin/password", data=form)


def test_password_change_ends_other_sessions(app):
    make_admin(app)
    laptop, phone = app.test_client(), app.test_client()
    sign_in(laptop)
    sign_in(phone)
    assert phone.get("/admin/").status_code == 200
    response = _change_password(laptop, PASSWORD, "a-new-password-7")
    assert response.status_code == 302
    assert laptop.get("/admin/").status_code == 200  # the session that changed it goes on
    assert phone.get("/admin/").status_code == 302  # the other one is signed out
    assert sign_in(app.test_client()).status_code == 401  # the old password no longer works
    assert sign_in(app.test_client(), password="a-new-password-7").status_code == 302


def test_password_change_refusals_name_the_problem(app, client):
    make_admin(app)
    sign_in(client)
    wrong = _change_password(client, "not-my-password", "a-new-password-7")
    assert wrong.status_code == 400 and "当前密码不正确" in wrong.get_data(as_text=True)
    short = _change_password(client, PASSWORD, "short")
    assert short.status_code == 400 and "至少 8 位" in short.get_data(as_text=True)
    mismatch = _change_password(client, PASSWORD, "a-new-password-7", "another-password-8")
    assert mismatch.status_code == 400 and "不一致" in mismatch.get_data(as_text=True)
    assert sign_in(app.test_client()).status_code == 302  # the password is unchanged


def test_changing_the_demo_password_removes_the_printed_one(app, client):
    make_admin(app)
    demo_file = app.instance_path + "/admin_password.txt"
    with open(demo_file, "w") as f:
        f.write(PASSWORD)
    sign_in(client)
    _change_password(client, PASSWORD, "a-new-password-7")
    import os

    assert not os.path.exists(demo_file)


def test_changes_without_the_csrf_token_are_refused(app, client):
    make_admin(app)
    sign_in(client)
    form = {"current_password": PASSWORD, "new_password": "a-new-password-7", "confirm_password": "a-new-password-7"}
    missing = client.post("/admin/password", data=form)
    assert missing.status_code == 400
    assert "安全校验码" in missing.get_data(as_text=True)
    wrong = client.post("/admin/password", data={**form, "csrf_token": "forged"})
    assert wrong.status_code == 400
    assert sign_in(app.test_client()).status_code == 302  # the password did not change
    # The header form works for scripts.
    token = csrf_from(client, "/admin/password")
    assert client.post("/admin/password", data=form, headers={"X-CSRF-Token": token}).status_code == 302


def test_login_itself_needs_the_csrf_token(app, client):
    make_admin(app)
    response = client.post("/admin/login", data={"username": "admin", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/admin/").status_code == 302


def _example_url(rule) -> str:
    values = {name: 1 if isinstance(conv, IntegerConverter) else "x" for name, conv in rule._converters.items()}
    return rule.build(values, append_unknown=False)[1]


def test_every_admin_page_sends_anonymous_visitors_to_login(app, client):
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/admin") and r.endpoint != "admin.login"]
    assert len(rules) >= 3  # the dashboard, password and logout at least
    for rule in rules:
        url = _example_url(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method)
            assert response.status_code == 302, (method, url, response.status_code)
            assert "/admin/login" in response.headers["Location"], (method, url)
            xhr = client.open(url, method=method, headers={"X-Requested-With": "XMLHttpRequest"})
            assert xhr.status_code == 401, (method, url)
            assert xhr.get_json()["message"]


def test_a_session_ends_after_the_allowed_hours(app, client, clock):
    make_admin(app)
    sign_in(client)
    clock.advance(11 * 3600)
    assert client.get("/admin/").status_code == 200
    clock.advance(2 * 3600)
    assert client.get("/admin/").status_code == 302


def test_the_cookie_signer_is_made_once_per_app_and_still_signs_logins(app, client):
    signer = app.session_interface.get_signing_serializer(app)
    assert app.session_interface.get_signing_serializer(app) is signer
    make_admin(app)
    assert sign_in(client).status_code == 302
    cookie = client.get_cookie("session")
    assert signer.loads(cookie.value)  # the login's session, signed by that signer
    client.set_cookie("session", cookie.value[:-2] + ("AA" if not cookie.value.endswith("AA") else "BB"))
    assert client.get("/admin/").status_code == 302  # a tampered cookie is no session
