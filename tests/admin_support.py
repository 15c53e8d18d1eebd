"""Helpers for admin page tests: accounts, the CSRF token, signing in."""

from __future__ import annotations

import re

from contest.accounts import create_admin

PASSWORD = "correct-horse-42"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_admin(app, username: str = "admin", role: str = "organizer", password: str = PASSWORD):
    with app.app_context():
        from contest.runtime import current

        return create_admin(current().session, username, password, role)


def csrf_from(client, path: str = "/admin/login") -> str:
    """The session's CSRF token, read from a page's hidden field as a browser would."""
    match = _TOKEN.search(client.get(path).get_data(as_text=True))
    assert match, f"no csrf_token field on {path}"
    return match.group(1)


def sign_in(client, username: str = "admin", password: str = PASSWORD, **environ):
    token = csrf_from(client)
    return client.post(
        "/admin/login",
        data={"username": username, "password": password, "csrf_token": token},
        environ_base=environ,
    )
