"""Roster-only live games: only people on the list (姓名, 手机号, 单位) take a seat, one seat per phone.

A game with roster entries is roster-only. The seat's name and unit come from the list, so the
big screen shows what the organizer imported, and the same phone coming back from another
device takes the same seat (its old token stops working).
"""

from __future__ import annotations

from sqlalchemy import exists, func, insert, select, update
from sqlalchemy.orm import Session

from contest.errors import BadInput, Forbidden
from contest.models import GameRosterEntry, RosterEntry
from contest.play.phones import PHONE, normalized
from contest.play.roster import RosterRow


def store(session: Session, game_id: int, rows: list[RosterRow]) -> int:
    """Add these people to the game's list (the game is new, so there is nothing to replace)."""
    session.execute(insert(GameRosterEntry), [{"game_id": game_id, "name": row.name, "phone": row.phone,
                                               "unit_id": row.unit_id} for row in rows])
    return len(rows)


def from_contest(session: Session, contest_id: int) -> list[RosterRow]:
    """A contest's roster, for a final played by the people of that contest."""
    rows = session.execute(
        select(RosterEntry.name, RosterEntry.phone, RosterEntry.unit_id)
        .where(RosterEntry.contest_id == contest_id).order_by(RosterEntry.id)
    ).all()
    if not rows:
        raise BadInput("所选竞赛没有参赛名单。", field="roster_contest")
    return [RosterRow(name, phone, unit_id) for name, phone, unit_id in rows]


def is_roster_only(session: Session, game_id: int) -> bool:
    return bool(session.scalar(select(exists().where(GameRosterEntry.game_id == game_id))))


def counts(session: Session, game_id: int) -> tuple[int, int]:
    """(people on the list, of whom seated)."""
    listed, seated = session.execute(
        select(func.count(), func.count(GameRosterEntry.player_id)).where(GameRosterEntry.game_id == game_id)
    ).one()
    return listed, seated


def find(session: Session, game_id: int, name: str, phone: object) -> GameRosterEntry | None:
    """None for an open game; for a roster-only one, the entry of this phone and name, or a refusal."""
    if not is_roster_only(session, game_id):
        return None
    phone = normalized(phone)
    if not phone:
        raise BadInput("本场仅限名单内人员参加，请填写手机号。", code="phone_required", field="phone")
    if not PHONE.fullmatch(phone):
        raise BadInput("手机号应为 1 开头的 11 位数字。", field="phone")
    entry = session.scalar(select(GameRosterEntry).where(GameRosterEntry.game_id == game_id,
                                                         GameRosterEntry.phone == phone))
    # One answer for both cases, so the form does not tell which phones are on the list.
    if entry is None or " ".join(entry.name.split()) != name:
        raise Forbidden("本场仅限名单内人员参加：名单中没有这个手机号和姓名，请核对后再试。", code="not_on_roster")
    return entry


def claim(session: Session, entry: GameRosterEntry, player_id: int) -> bool:
    """Give the entry its seat unless another join of the same phone got there first."""
    done = session.execute(
        update(GameRosterEntry).where(GameRosterEntry.id == entry.id, GameRosterEntry.player_id.is_(None))
        .values(player_id=player_id).execution_options(synchronize_session=False)
    )
    return done.rowcount == 1
