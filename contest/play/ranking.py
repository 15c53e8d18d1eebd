"""Standings from the record, the public leaderboard and unit statistics.

SQL is the record: `standing_for` and `rebuild` compute from it; the live board in Redis
is updated as attempts finish and can always be rebuilt to the same order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from contest.clock import iso, to_ms
from contest.models import AnswerLog, Attempt, Contest, Entrant, Unit
from contest.play import contests
from contest.play.unit_cache import UNITS
from contest.runtime import Runtime
from contest.state import Standing

COMPOUND_SURNAMES = {
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文",
    "司徒", "夏侯", "轩辕", "令狐", "端木", "独孤", "南宫", "西门", "万俟", "闻人", "澹台",
}
MAX_LIMIT = 100


def mask_name(name: str) -> str:
    """张三 → 张*, 欧阳娜娜 → 欧阳**: the surname only, never a full name in public."""
    name = name.strip()
    keep = 2 if name[:2] in COMPOUND_SURNAMES and len(name) > 2 else 1
    if len(name) <= 1:
        return "*"
    return name[:keep] + "*" * (len(name) - keep)


def _sort_key(a: tuple) -> tuple:
    # (score, duration_ms, finished_at, id): higher score, shorter, earlier, lower id.
    return (-a[0], a[1], a[2], a[3])


def standings_from_attempts(mode: str, unit_of: dict[int, int],
                            attempts: Iterable[tuple[int, float, int, datetime, int, str]]) -> list[Standing]:
    """Standings of every entrant from its finished attempts (entrant, score, duration, finished, id,
    day). The day is the contest-local day the attempt was started on, which its daily allowance
    was charged to: daily_sum credits it there, even when it was finished after midnight."""
    by_entrant: dict[int, list[tuple]] = defaultdict(list)
    for entrant_id, score, duration_ms, finished_at, attempt_id, day in attempts:
        by_entrant[entrant_id].append((score, duration_ms, finished_at, attempt_id, day))
    standings = []
    for entrant_id, rows in by_entrant.items():
        if mode == "daily_sum":
            best_of_day: dict[str, tuple] = {}
            for row in rows:
                day = row[4]
                if day not in best_of_day or _sort_key(row) < _sort_key(best_of_day[day]):
                    best_of_day[day] = row
            chosen = list(best_of_day.values())
            score = round(sum(r[0] for r in chosen), 2)
            duration = sum(r[1] for r in chosen)
            finished = max(r[2] for r in chosen)
        else:
            score, duration, finished, _, _ = min(rows, key=_sort_key)
        standings.append(
            Standing(entrant_id=entrant_id, unit_id=unit_of[entrant_id], score=score,
                     duration_ms=duration, finished_ms=to_ms(finished), version=len(rows))
        )
    return standings


def _finished_attempts(session: Session, cid: int, entrant_id: int | None = None):
    if entrant_id is not None:  # at every submit: the statement is built once
        return session.execute(_ENTRANTS_FINISHED, {"entrant": entrant_id})
    return session.execute(finished_query(cid))


# Table columns, not ORM attributes: this runs at every submit (a plain select is cheaper).
_ATTEMPTS = Attempt.__table__
_FINISHED = select(_ATTEMPTS.c.entrant_id, _ATTEMPTS.c.score, _ATTEMPTS.c.duration_ms, _ATTEMPTS.c.finished_at,
                   _ATTEMPTS.c.id, _ATTEMPTS.c.day).where(_ATTEMPTS.c.status == "finished")
# One entrant: by its own index only (an entrant belongs to one contest). With the contest in the
# filter too, SQLite picks (contest_id, status) and reads every finished attempt.
_ENTRANTS_FINISHED = _FINISHED.where(_ATTEMPTS.c.entrant_id == bindparam("entrant"))


def finished_query(cid: int, entrant_id: int | None = None):
    """The finished attempts of a contest, or of one of its entrants."""
    if entrant_id is not None:
        return _FINISHED.where(_ATTEMPTS.c.entrant_id == entrant_id)
    return _FINISHED.where(_ATTEMPTS.c.contest_id == cid)


def standing_for(session: Session, contest: Contest, entrant_id: int, unit_id: int) -> Standing | None:
    rows = _finished_attempts(session, contest.id, entrant_id).all()
    found = standings_from_attempts(contest.ranking_mode, {entrant_id: unit_id}, rows)
    return found[0] if found else None


def rebuild(rt: Runtime, contest: Contest, force: bool = True) -> None:
    """Rebuild the contest's live state in Redis from SQL (`contest rebuild-state`), under its lock;
    unless `force`, only if nobody built it while this waited for the lock."""
    with rt.state.boards.rebuilding(contest.id, force) as needed:
        if needed:
            _rebuild(rt, contest)
            forget_public(contest.id)


def _rebuild(rt: Runtime, contest: Contest) -> None:
    session, cid = rt.session, contest.id
    unit_of = dict(session.execute(select(Entrant.id, Entrant.unit_id).where(Entrant.contest_id == cid)).all())
    attempts = _finished_attempts(session, cid).all()
    standings = standings_from_attempts(contest.ranking_mode, unit_of, attempts)
    unit_attempts: dict[int, int] = defaultdict(int)
    for entrant_id, *_ in attempts:
        unit_attempts[unit_of[entrant_id]] += 1
    per_minute = _answers_per_minute(session, cid)
    stats = {"entrants": len(unit_of), "attempts": len(attempts), "answers": sum(per_minute.values())}
    rt.state.boards.replace(cid, standings, dict(unit_attempts), stats, dict(per_minute))


def _answers_per_minute(session: Session, cid: int) -> dict[str, int]:
    """Answers accepted each contest-local minute, counted by the database (at the city's size,
    reading every time into Python took most of a rebuild's 7 s). From the log, as the live count
    counts them: every accepted save, a changed answer too (the answers table keeps the last)."""
    column = AnswerLog.received_at
    if session.get_bind().dialect.name == "postgresql":
        minute = func.date_trunc("minute", column)
    else:  # SQLite keeps "YYYY-MM-DD HH:MM:SS.ffffff" (UTC)
        minute = func.substr(column, 1, 16)
    rows = session.execute(select(minute, func.count()).where(AnswerLog.contest_id == cid).group_by(minute))
    per_minute: dict[str, int] = defaultdict(int)
    for utc_minute, count in rows:
        if isinstance(utc_minute, str):
            utc_minute = datetime.strptime(utc_minute, "%Y-%m-%d %H:%M")
        # A UTC minute is one local minute in every real time zone (offsets are whole minutes).
        per_minute[minute_of(utc_minute.replace(tzinfo=UTC))] += count
    return dict(per_minute)


def ensure_built(rt: Runtime, contest: Contest) -> None:
    if not rt.state.boards.is_built(contest.id):
        rebuild(rt, contest, force=False)


def minute_of(when: datetime) -> str:
    return iso(when)[:16]


class PublicBoards:
    """Public bodies (the leaderboard's; the stats'), shared by one process's requests for a moment.

    Every worker reads the board after submitting: at the city replay's lunch peak those reads
    were a tenth of a server's time, each two SQL queries and three Redis round trips for a body
    that is the same for everyone. The stats (500 units tallied and sorted) went to every page
    load of the board and the big screen and to every join of the live channel: 5.7 ms of CPU a
    board page with 500 units. A body is kept at most `max_age_s` (BOARD_CACHE_SECONDS; the
    live channel pushes no more often either). A finish or rebuild in this process forgets the
    contest's bodies at once (forget_public), so whoever submitted here sees their own result.
    """

    def __init__(self) -> None:
        self._bodies: dict[tuple[int, int], tuple[float, dict]] = {}

    def get(self, cid: int, limit: int, now_s: float, max_age_s: float) -> dict | None:
        kept = self._bodies.get((cid, limit))
        if kept and 0 <= now_s - kept[0] < max_age_s:
            return kept[1]
        return None

    def put(self, cid: int, limit: int, now_s: float, body: dict) -> None:
        self._bodies[(cid, limit)] = (now_s, body)

    def forget(self, cid: int | None = None) -> None:
        """Drop a contest's bodies (every contest's without `cid`)."""
        for key in list(self._bodies):  # a copy in one step: requests on threads may add meanwhile
            if cid is None or key[0] == cid:
                self._bodies.pop(key, None)


PUBLIC_BOARDS = PublicBoards()  # by (contest, entries shown)
PUBLIC_STATS = PublicBoards()  # by (contest, units shown)


def forget_public(cid: int | None = None) -> None:
    """Drop the kept public bodies of a contest (of every contest without `cid`)."""
    PUBLIC_BOARDS.forget(cid)
    PUBLIC_STATS.forget(cid)


def public_leaderboard(rt: Runtime, cid: int, limit: int, max_age_s: float) -> dict:
    """The leaderboard call's body (API.md), at most `max_age_s` old."""
    limit = max(1, min(int(limit), MAX_LIMIT))
    now_s = rt.clock.now().timestamp()
    body = PUBLIC_BOARDS.get(cid, limit, now_s, max_age_s)
    if body is None:
        body = leaderboard(rt, contests.contest_for_play(rt.session, cid), limit)
        PUBLIC_BOARDS.put(cid, limit, now_s, body)
    return body


def leaderboard(rt: Runtime, contest: Contest, limit: int = 10) -> dict:
    """API.md's leaderboard body: masked names, no phone numbers."""
    ensure_built(rt, contest)
    limit = max(1, min(int(limit), MAX_LIMIT))
    top = rt.state.boards.top(contest.id, limit)
    people = {}
    if top:
        people = {
            row.id: (row.name, row.unit)
            for row in rt.session.execute(
                select(Entrant.id, Entrant.name, Unit.name.label("unit"))
                .join(Unit, Entrant.unit_id == Unit.id)
                .where(Entrant.id.in_([entry[0] for entry in top]))
            )
        }
    entries = []
    for rank, (entrant_id, score, duration_ms, _finished) in enumerate(top, start=1):
        name, unit = people.get(entrant_id, ("?", ""))
        entries.append({"rank": rank, "name": mask_name(name), "unit": unit, "score": score,
                        "duration_ms": duration_ms})
    stats = rt.state.boards.stats(contest.id)
    return {"entries": entries, "participants": stats["participants"], "updated_at": iso(rt.clock.now())}


def unit_stats(rt: Runtime, contest: Contest) -> list[dict]:
    """API.md's per-unit statistics, every unit, best participation first."""
    ensure_built(rt, contest)
    tallies = rt.state.boards.unit_tallies(contest.id)
    rows = []
    # The process's copy of the units: the live pusher runs this once a second (500 units).
    for unit in UNITS.get(rt.session).rows:
        tally = tallies.get(unit.id)
        participants = tally.participants if tally else 0
        rows.append({
            "unit_id": unit.id,
            "name": unit.name,
            "headcount": unit.headcount,
            "participants": participants,
            "attempts": tally.attempts if tally else 0,
            "participation_rate": round(participants / unit.headcount, 4) if unit.headcount else 0.0,
            "avg_best_score": round(tally.best_sum / participants, 2) if participants else 0.0,
        })
    rows.sort(key=lambda r: (-r["participation_rate"], -r["participants"], r["unit_id"]))
    return rows


def public_stats(rt: Runtime, contest: Contest, max_age_s: float, top_units: int = 20) -> dict:
    """live_stats, at most `max_age_s` old (PublicBoards): for pages and joins, not the pusher."""
    now_s = rt.clock.now().timestamp()
    body = PUBLIC_STATS.get(contest.id, top_units, now_s, max_age_s)
    if body is None:
        body = live_stats(rt, contest, top_units)
        PUBLIC_STATS.put(contest.id, top_units, now_s, body)
    return body


def live_stats(rt: Runtime, contest: Contest, top_units: int = 20) -> dict:
    """The `stats` frame of the live channel: counters and the leading units."""
    ensure_built(rt, contest)
    counters = rt.state.boards.stats(contest.id)
    return {
        "participants": counters["participants"],
        "attempts": counters["attempts"],
        "entrants": counters["entrants"],
        "answers": counters["answers"],
        "units": unit_stats(rt, contest)[:top_units],
    }
