"""Helpers for admin page tests: accounts, the CSRF token, signing in."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from contest.accounts import create_admin
from tests.server_process import ServerProcess

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


@contextmanager
def signed_in_on_gevent(stores: dict, instance: Path) -> Iterator[tuple[httpx.Client, Callable[[str], str]]]:
    """A real gevent server on the tests' stores, and a client signed in to it as the admin made
    by make_admin; with it, a function giving a page's CSRF token."""
    server = ServerProcess(instance, env={"DATABASE_URL": stores["database_url"], "REDIS_URL": stores["redis_url"],
                                          "CONTEST_SERVER": "gevent"}).start()

    def token_of(path: str) -> str:
        return _TOKEN.search(http.get(path).text).group(1)

    try:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            http.post("/admin/login", data={"username": "admin", "password": PASSWORD,
                                            "csrf_token": token_of("/admin/login")})
            yield http, token_of
    finally:
        server.stop()
