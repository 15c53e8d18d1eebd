"""Admin pages (login required): the blueprint, who is signed in, and who may do what.

Every /admin page needs a signed-in admin unless its view is marked `@public` (the login
page), so a new page is protected even if its author forgets `@admin_required`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import Blueprint, abort, current_app, jsonify, redirect, request, session, url_for

from contest.models import AdminUser
from contest.runtime import current as current_runtime
from contest.web import csrf
from contest.web.admin.display import FILTERS

bp = Blueprint("admin", __name__, url_prefix="/admin")

# A sign-in lasts at most this long, even in a browser left open.
SESSION_HOURS_DEFAULT = 12
_ADMIN = "jd.admin"  # request.environ key of the signed-in admin, once looked up


def public(view: Callable) -> Callable:
    """Mark a view that anonymous visitors may open (the login page)."""
    view.admin_public = True
    return view


def current_admin() -> AdminUser | None:
    """The signed-in admin, or None; a session from before a password change is ended here."""
    # Cached on the request, not on `g`: an app context (and its `g`) may outlive one request.
    if _ADMIN in request.environ:
        return request.environ[_ADMIN]
    user = None
    admin_id = session.get("admin_id")
    if admin_id is not None:
        user = current_runtime().session.get(AdminUser, admin_id)
        if user is None or user.session_version != session.get("admin_version") or _expired():
            session.clear()
            user = None
    request.environ[_ADMIN] = user
    return user


def sign_in(user: AdminUser) -> None:
    """Start a fresh session for `user`: nothing from before the login is kept (fixation)."""
    session.clear()
    session["admin_id"] = user.id
    session["admin_version"] = user.session_version
    session["admin_since"] = _now_s()
    csrf.csrf_token()
    request.environ[_ADMIN] = user


def sign_out() -> None:
    session.clear()
    request.environ[_ADMIN] = None


def _now_s() -> int:
    return int(current_app.extensions["jd.clock"].now().timestamp())


def _expired() -> bool:
    hours = current_app.config.get("ADMIN_SESSION_HOURS", SESSION_HOURS_DEFAULT)
    return _now_s() - int(session.get("admin_since", 0)) > hours * 3600


def _is_xhr() -> bool:
    return (
        request.headers.get("X-Requested-With") == "XMLHttpRequest"
        or request.is_json
        or request.accept_mimetypes.best == "application/json"
    )


def _refuse_anonymous():
    if _is_xhr():
        return jsonify({"error": "unauthorized", "message": "请先登录管理后台。"}), 401
    target = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for("admin.login", next=target))


def _refuse_role():
    if _is_xhr():
        return jsonify({"error": "forbidden", "message": "您的账号没有此操作的权限。"}), 403
    abort(403)


def admin_required(*roles: str) -> Callable:
    """Only signed-in admins (of one of `roles`, if given) may open the view."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def guarded(*args, **kwargs):
            user = current_admin()
            if user is None:
                return _refuse_anonymous()
            if roles and user.role not in roles:
                return _refuse_role()
            return view(*args, **kwargs)

        return guarded

    return decorate


@bp.before_request
def _require_sign_in():
    view = current_app.view_functions.get(request.endpoint or "")
    if view is not None and getattr(view, "admin_public", False):
        return None
    if current_admin() is None:
        return _refuse_anonymous()
    return None


# After the sign-in check, so an anonymous visitor is sent to the login page first.
csrf.protect(bp)


for _name, _filter in FILTERS.items():
    bp.add_app_template_filter(_filter, _name)


@bp.context_processor
def _admin_in_templates() -> dict:
    return {"admin": current_admin()}


from contest.web.admin import auth, banks, contests, exports, games, home, privacy, roster  # noqa: E402,F401  (routes register on import)
