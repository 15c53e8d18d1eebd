"""Entering a contest (name, phone, unit) and knowing an entrant by its bearer token."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from contest.errors import BadInput, Forbidden, Unauthorized
from contest.models import Entrant, EntrantToken, RosterEntry
from contest.numbers import whole_number
from contest.play import origins, phones
from contest.play.contests import contest_for_play, status
from contest.play.unit_cache import UNITS
from contest.runtime import Runtime

MAX_NAME = 32


@dataclass(frozen=True)
class Caller:
    """Who a bearer token speaks for."""

    entrant_id: int
    contest_id: int



def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _clean_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise BadInput("请填写姓名。", field="name")
    name = " ".join(name.split())
    if len(name) > MAX_NAME:
        raise BadInput(f"姓名不能超过 {MAX_NAME} 个字。", field="name")
    return name


def _clean_phone(phone: object) -> str:
    phone = phones.normalized(phone)
    if not phones.PHONE.fullmatch(phone):
        raise BadInput("手机号应为 1 开头的 11 位数字。", field="phone")
    return phone


def enter(rt: Runtime, cid: int, name: object, phone: object, unit_id: object,
          address: str | None = None, device_id: str | None = None) -> tuple[int, str]:
    """(entrant id, a fresh token): the entrant for this phone in this contest, created if new.

    `address` and `device_id` (the optional X-Device-Id header) are recorded with each entry
    for the workbook's fairness flags. A new entrant costs two SQL statements on PostgreSQL
    (three on SQLite) and one Redis round trip besides the allowance: entries were the slowest
    call at a shift break's peak, where each round trip waits its turn.
    """
    contest = contest_for_play(rt.session, cid)
    if status(contest, rt.clock.now()) == "closed":
        raise Forbidden("本次竞赛已结束。", code="contest_closed")
    name, phone = _clean_name(name), _clean_phone(phone)
    unit_id = whole_number(unit_id)  # true or 1.9 are no unit's id
    if unit_id is None:
        raise BadInput("请选择所在单位。", field="unit_id")
    if not 0 < unit_id < 2**31 or not UNITS.exists(rt.session, unit_id):  # a huge number overflows SQL
        raise BadInput("所选单位不存在。", field="unit_id")
    if contest.roster_only:
        listed = rt.session.scalar(
            select(RosterEntry).where(RosterEntry.contest_id == cid, RosterEntry.phone == phone)
        )
        if listed is None:
            raise Forbidden("本竞赛仅限名单内人员参加，未找到该手机号。", code="not_on_roster")
        if listed.unit_id:
            unit_id = listed.unit_id

    row = {"contest_id": cid, "name": name, "phone": phone, "unit_id": unit_id,
           "client_address": origins.clean_address(address)}
    try:
        # Inserted unless the phone is known (the same phone comes back to the same entrant,
        # also when it enters on two devices at once): no read first for a new entrant.
        entrant_id = rt.session.execute(_new_entrant(rt.session.get_bind().dialect.name), row).scalar()
    except IntegrityError:  # the unit was removed since this process's copy of the units was taken
        rt.session.rollback()
        UNITS.forget()
        raise BadInput("所选单位不存在。", field="unit_id") from None
    created = entrant_id is not None
    if not created:
        entrant_id = rt.session.scalar(select(Entrant.id).where(Entrant.contest_id == cid, Entrant.phone == phone))
    token = secrets.token_urlsafe(32)
    origins.insert_with_origin(rt, EntrantToken.__table__, {
        "token_hash": hash_token(token), "entrant_id": entrant_id, "contest_id": cid, "created_at": rt.clock.now()},
        address, device_id)
    rt.session.commit()
    rt.state.entered(hash_token(token), entrant_id, cid, created)
    return entrant_id, token


_NEW_ENTRANT: dict[str, object] = {}


def _new_entrant(dialect: str):
    """INSERT … ON CONFLICT (contest, phone) DO NOTHING RETURNING id, for this database."""
    if dialect not in _NEW_ENTRANT:
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        else:
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        _NEW_ENTRANT[dialect] = (dialect_insert(Entrant.__table__)
                                 .on_conflict_do_nothing(index_elements=["contest_id", "phone"])
                                 .returning(Entrant.__table__.c.id))
    return _NEW_ENTRANT[dialect]


def caller_for(rt: Runtime, authorization: str | None) -> Caller:
    """The entrant behind an `Authorization: Bearer <token>` header, or 401."""
    if not authorization or not authorization.startswith("Bearer "):
        raise Unauthorized("请先报名登录。", code="no_token")
    token_hash = hash_token(authorization[len("Bearer "):].strip())
    # Known to this process: no Redis read (nor the SQL one behind it); a purge makes every process forget.
    known = rt.state.tokens.known(token_hash)
    if known is not None:
        return Caller(*known)
    cached = rt.state.attempts.token_owner(token_hash)
    if cached:
        caller = Caller(*cached)
    else:
        row = rt.session.get(EntrantToken, token_hash)
        if row is None:
            raise Unauthorized("登录已失效，请重新报名登录。", code="bad_token")
        rt.state.attempts.remember_token(token_hash, row.entrant_id, row.contest_id)
        caller = Caller(row.entrant_id, row.contest_id)
    rt.state.tokens.keep(token_hash, (caller.entrant_id, caller.contest_id))
    return caller
