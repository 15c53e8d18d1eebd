"""Every admin route, found in the URL map (so routes added later are covered), is closed to
anonymous visitors and to workers holding a valid entrant token; staff may only export."""

from __future__ import annotations

import re

import pytest

from tests.admin_support import make_admin, sign_in
from tests.play_support import make_bank, make_contest, make_units

# Views anonymous visitors may open on purpose.
_PUBLIC_ADMIN = {"admin.login", "static"}
# Changing routes that staff may use: their own session and password, and personal-data deletion.
_STAFF_MAY_CHANGE = {"admin.login", "admin.logout", "admin.password", "admin.contest_purge", "admin.game_purge"}
_CHANGING = ("POST", "PUT", "PATCH", "DELETE")


def _admin_calls(app, ids: dict[str, str] | None = None) -> list[tuple[str, str, str]]:
    """(endpoint, method, path) for every method of every /admin rule, arguments filled in."""
    calls = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin") or rule.endpoint in _PUBLIC_ADMIN:
            continue
        path = rule.rule
        for name in rule.arguments:
            value = (ids or {}).get(name, "1")
            path = re.sub(rf"<(?:[a-z]+:)?{name}>", value, path)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            calls.append((rule.endpoint, method, path))
    assert len(calls) > 10, "the URL map has too few admin routes: did discovery break?"
    return calls


def _refused(response) -> bool:
    if response.status_code in (401, 403):
        return True
    return response.status_code in (301, 302, 303) and "/admin/login" in response.headers["Location"]


def _worker_token(client, rt) -> str:
    contest = make_contest(rt, make_bank(rt.session))
    unit = make_units(rt.session)[0]
    reply = client.post(f"/api/v1/contests/{contest.id}/entrants",
                        json={"name": "王小明", "phone": "13912345678", "unit_id": unit.id})
    assert reply.status_code == 201
    return reply.get_json()["token"]


@pytest.mark.parametrize("accept", ["text/html", "application/json"])
def test_anonymous_is_refused_everywhere(app, client, accept):
    for endpoint, method, path in _admin_calls(app):
        response = client.open(path, method=method, headers={"Accept": accept})
        assert _refused(response), f"{method} {path} ({endpoint}) answered {response.status_code} anonymously"
        if accept == "text/html" and method == "GET":
            assert response.status_code in (302, 303), f"{path}: a page should send visitors to the login"


def test_worker_with_entrant_token_is_refused_everywhere(app, client, rt):
    token = _worker_token(client, rt)
    headers = {"Authorization": f"Bearer {token}"}
    for endpoint, method, path in _admin_calls(app):
        response = client.open(path, method=method, headers=headers, json={})
        assert _refused(response), f"{method} {path} ({endpoint}) answered {response.status_code} to a worker"
        body = response.get_data(as_text=True)
        assert "13912345678" not in body


def test_staff_gets_403_on_organizer_changes_but_may_export(app, client, rt):
    contest = make_contest(rt, make_bank(rt.session))
    make_admin(app, "staff1", role="staff")
    assert sign_in(client, "staff1").status_code == 302
    with client.session_transaction() as session:
        token = session["csrf"]
    checked = 0
    for endpoint, method, path in _admin_calls(app, {"cid": str(contest.id)}):
        if method not in _CHANGING or endpoint in _STAFF_MAY_CHANGE:
            continue
        # A valid CSRF token, so the refusal comes from the role and not from the token check.
        response = client.open(path, method=method, data={"csrf_token": token})
        assert response.status_code == 403, f"staff {method} {path} ({endpoint}): {response.status_code}"
        checked += 1
    assert checked >= 5  # bank upload, confirm, cancel, contest new and edit at least
    for path in ("/admin/banks/upload", "/admin/contests/new", f"/admin/contests/{contest.id}/edit"):
        assert client.post(path, data={"csrf_token": token}).status_code == 403
    assert client.get("/admin/contests/new").status_code == 403
    export = client.get(f"/admin/contests/{contest.id}/export.xlsx")
    assert export.status_code == 200
    assert export.data[:2] == b"PK"  # an xlsx (zip) workbook
