"""Login, logout and password change for admins."""

from __future__ import annotations

from pathlib import Path

from flask import current_app, flash, redirect, render_template, request, url_for

from contest.accounts import authenticate, change_password
from contest.errors import ContestError
from contest.runtime import current as current_runtime
from contest.web.admin import bp, current_admin, public, sign_in, sign_out

# Failed logins allowed per username and per address in one window.
LOGIN_FAILURES_ALLOWED = 10
LOGIN_WINDOW_S = 15 * 60


def _safe_next(target: str | None) -> str:
    """Only go on to an admin page of this site after login (no open redirect)."""
    if target and target.startswith("/admin") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("admin.home")


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    if request.method == "GET":
        if current_admin() is not None:
            return redirect(_safe_next(request.args.get("next")))
        return render_template("admin/login.html", next=request.args.get("next", ""))

    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    next_page = request.form.get("next", "")
    if not username or not password:
        return _login_refused("请输入用户名和密码。", username, next_page, 400)

    rt = current_runtime()
    address = request.remote_addr or "unknown"
    # The try is counted before the (slow) password check, so parallel guesses cannot
    # all slip in under the limit; a successful login gives its try back.
    counters = [("login_user", username.lower()), ("login_addr", address)]
    if not rt.state.limits.take(counters, LOGIN_FAILURES_ALLOWED, LOGIN_WINDOW_S):
        return _login_refused("登录失败次数过多，请 15 分钟后再试。", username, next_page, 429)
    user = authenticate(rt.session, username, password)
    if user is None:
        return _login_refused("用户名或密码不正确。", username, next_page, 401)
    rt.state.limits.clear("login_user", username.lower())
    rt.state.limits.give_back("login_addr", address)
    sign_in(user)
    current_app.logger.info("admin %s signed in from %s", user.username, address)
    return redirect(_safe_next(next_page))


def _login_refused(message: str, username: str, next_page: str, status: int):
    page = render_template("admin/login.html", error=message, username=username, next=next_page)
    return page, status


@bp.post("/logout")
def logout():
    sign_out()
    flash("您已退出登录。", "info")
    return redirect(url_for("admin.login"))


@bp.route("/password", methods=["GET", "POST"])
def password():
    if request.method == "GET":
        return render_template("admin/password.html")
    user = current_admin()
    old = request.form.get("current_password", "")
    new = request.form.get("new_password", "")
    if new != request.form.get("confirm_password", ""):
        return render_template("admin/password.html", error="两次输入的新密码不一致。"), 400
    try:
        change_password(current_runtime().session, user, old, new)
    except ContestError as error:
        return render_template("admin/password.html", error=error.message), error.status
    # This session stays signed in under the new version; every other session ends.
    sign_in(user)
    _forget_demo_password(old)
    flash("密码已修改，其他设备上的登录已失效。", "success")
    return redirect(url_for("admin.home"))


def _forget_demo_password(old_password: str) -> None:
    """`make run` prints the demo password from a file; once it is changed the file only misleads."""
    demo_file = Path(current_app.instance_path) / "admin_password.txt"
    if demo_file.exists() and demo_file.read_text().strip() == old_password:
        demo_file.unlink()
