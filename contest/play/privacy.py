"""Deleting a contest's personal data once it has ended, keeping every figure.

Names and phones become placeholders (each entrant keeps its row, unit and attempts, so
scores, rankings and unit participation stay as published); tokens, roster entries,
client addresses and device ids are deleted. Free of Flask: the CLI and the admin page share it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import String, cast, delete, func, literal, select, update
from sqlalchemy.orm import Session

from contest.errors import Forbidden, NotFound
from contest.models import (
    Entrant,
    EntrantToken,
    EntryOrigin,
    Game,
    GamePlayer,
    GameRosterEntry,
    RosterEntry,
)
from contest.play import game_record
from contest.play.contests import get_contest, status
from contest.runtime import Runtime

PLACEHOLDER_NAME = "已删除"
# A phone placeholder per entrant keeps (contest_id, phone) unique; no digits run to 11.
PHONE_PREFIX = "deleted-"


@dataclass
class PurgeReport:
    contest_id: int
    entrants: int
    tokens: int
    roster_entries: int


def purge_allowed(rt: Runtime, cid: int) -> bool:
    return status(get_contest(rt.session, cid), rt.clock.now()) == "closed"


def pending(rt: Runtime, cid: int) -> PurgeReport:
    """What a purge would touch (entrants still named, tokens, roster entries)."""
    def count(model, *where) -> int:
        return rt.session.scalar(select(func.count()).select_from(model).where(*where)) or 0

    return PurgeReport(
        contest_id=cid,
        entrants=count(Entrant, Entrant.contest_id == cid, Entrant.phone.not_like(f"{PHONE_PREFIX}%")),
        tokens=count(EntrantToken, EntrantToken.contest_id == cid),
        roster_entries=count(RosterEntry, RosterEntry.contest_id == cid),
    )


def purge_personal_data(rt: Runtime, cid: int) -> PurgeReport:
    """Replace names and phones of a closed contest's entrants; delete tokens, roster, addresses, device ids."""
    contest = get_contest(rt.session, cid)
    if status(contest, rt.clock.now()) != "closed":
        raise Forbidden("竞赛结束后才能删除个人信息。", code="contest_not_ended")
    report = pending(rt, cid)
    # Tokens die in Redis and in every process's memory too: first (Redis away: nothing is deleted),
    # and again after the commit (a token looked up meanwhile was cached again).
    hashes = rt.session.scalars(select(EntrantToken.token_hash).where(EntrantToken.contest_id == cid)).all()
    rt.state.tokens.revoke(cid, hashes)
    rt.session.execute(delete(EntrantToken).where(EntrantToken.contest_id == cid))
    rt.session.execute(delete(RosterEntry).where(RosterEntry.contest_id == cid))
    rt.session.execute(delete(EntryOrigin).where(EntryOrigin.contest_id == cid))
    rt.session.execute(
        update(Entrant)
        .where(Entrant.contest_id == cid)
        .values(name=PLACEHOLDER_NAME, phone=literal(PHONE_PREFIX) + cast(Entrant.id, String), client_address=None)
        .execution_options(synchronize_session=False)
    )
    rt.session.commit()
    rt.state.tokens.revoke(cid, hashes)
    rt.session.expire_all()  # entrants loaded before must not show the old names
    return report


@dataclass
class GamePurgeReport:
    game_id: int
    players: int
    roster_entries: int


def purge_game_personal_data(rt: Runtime, gid: int) -> GamePurgeReport:
    """After a live game is over: players' names become placeholders, addresses and the roster
    (names and phones) are deleted; scores, places and unit standings stay."""
    game = rt.session.get(Game, gid)
    if game is None:
        raise NotFound("没有这场现场竞赛。", code="game_not_found")
    if game.state != "over":
        raise Forbidden("现场竞赛结束后才能删除个人信息。", code="game_not_over")
    players = rt.session.execute(
        update(GamePlayer).where(GamePlayer.game_id == gid, GamePlayer.name != PLACEHOLDER_NAME)
        .values(name=PLACEHOLDER_NAME, client_address=None).execution_options(synchronize_session=False)
    ).rowcount
    listed = rt.session.execute(delete(GameRosterEntry).where(GameRosterEntry.game_id == gid)).rowcount
    rt.session.commit()
    rt.session.expire_all()
    game_record.rebuild(rt, game)  # the live state (podium, board) shows the placeholders too
    return GamePurgeReport(gid, players, listed)


def games_holding_personal_data(session: Session, gids: list[int]) -> set[int]:
    """Which of these games still hold a player's name or a roster entry (not purged yet)."""
    if not gids:
        return set()
    named = select(GamePlayer.game_id).where(GamePlayer.game_id.in_(gids), GamePlayer.name != PLACEHOLDER_NAME)
    listed = select(GameRosterEntry.game_id).where(GameRosterEntry.game_id.in_(gids))
    return set(session.scalars(named.union(listed)))
