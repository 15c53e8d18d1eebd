"""CSRF protection for the admin pages: one random token per session, checked on every change.

Pages put `{{ csrf_token() }}` in a hidden `csrf_token` field; scripts send it as the
`X-CSRF-Token` header. The API needs none of this: it authenticates with bearer tokens.
"""

from __future__ import annotations

import hmac
import secrets

from flask import Blueprint, request, session

from contest.errors import ContestError

SESSION_KEY = "csrf"
FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
CHECKED_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class CsrfRefused(ContestError):
    status = 400
    code = "csrf_failed"


def csrf_token() -> str:
    """This session's token, made on first use."""
    if SESSION_KEY not in session:
        session[SESSION_KEY] = secrets.token_urlsafe(32)
    return session[SESSION_KEY]


def check_csrf() -> None:
    """Refuse a changing request whose token is missing or not this session's."""
    if request.method not in CHECKED_METHODS:
        return
    expected = session.get(SESSION_KEY)
    sent = request.headers.get(HEADER) or request.form.get(FIELD)
    if not expected or not sent or not hmac.compare_digest(str(sent), expected):
        raise CsrfRefused("页面已过期或缺少安全校验码，请刷新页面后重新提交。")


def protect(bp: Blueprint) -> None:
    """Check every changing request to `bp`, and offer `csrf_token()` to all templates."""
    bp.add_app_template_global(csrf_token, "csrf_token")
    bp.before_request(check_csrf)
