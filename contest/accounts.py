"""Admin accounts: organizers (everything) and staff (view and export only)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from contest.errors import BadInput
from contest.models import AdminUser

ROLES = ("organizer", "staff")


def create_admin(session: Session, username: str, password: str, role: str = "organizer") -> AdminUser:
    if role not in ROLES:
        raise BadInput(f"角色只能是 {'、'.join(ROLES)}。", field="role")
    if len(password) < 8:
        raise BadInput("密码至少 8 位。", field="password")
    user = session.scalar(select(AdminUser).where(AdminUser.username == username))
    if user is None:
        user = AdminUser(username=username, role=role)
        session.add(user)
    else:
        user.role = role
        user.session_version += 1
    user.password_hash = generate_password_hash(password, method="scrypt")
    session.commit()
    return user


def authenticate(session: Session, username: str, password: str) -> AdminUser | None:
    user = session.scalar(select(AdminUser).where(AdminUser.username == username))
    if user is None:
        # Same work as a real check, so timing does not tell which usernames exist.
        check_password_hash(generate_password_hash("x", method="scrypt"), password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


def change_password(session: Session, user: AdminUser, current_password: str, new_password: str) -> None:
    """Set a new password after checking the current one; the admin's other sessions end."""
    if not check_password_hash(user.password_hash, current_password):
        raise BadInput("当前密码不正确。", field="current_password")
    if len(new_password) < 8:
        raise BadInput("新密码至少 8 位。", field="new_password")
    if new_password == current_password:
        raise BadInput("新密码不能与当前密码相同。", field="new_password")
    user.password_hash = generate_password_hash(new_password, method="scrypt")
    user.session_version += 1
    session.commit()
