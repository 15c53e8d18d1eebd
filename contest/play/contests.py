"""Creating and describing contests (the organizer's side of a timed contest), and the per-process
copy of each that the participants' calls read (ContestCache)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import event, exists, inspect, select
from sqlalchemy.orm import Session, make_transient_to_detached, object_session

from contest.clock import iso
from contest.errors import BadInput, NotFound
from contest.models import Attempt, Bank, Contest
from contest.play import papers

RANKING_MODES = {"best": "以个人最好成绩排名", "daily_sum": "每日最好成绩累计排名"}


@dataclass
class ContestSettings:
    """What an organizer sets; validated by `validate` before it touches the record."""

    title: str
    bank_id: int
    paper: list[papers.PaperRule]
    time_limit_s: int
    starts_at: datetime
    ends_at: datetime
    description: str = ""
    attempts_per_day: int = 3
    shuffle_questions: bool = True
    shuffle_options: bool = True
    roster_only: bool = False
    review_after_submit: bool = True
    ranking_mode: str = "best"
    partial_credit: bool = False


def validate(session: Session, settings: ContestSettings) -> None:
    if not settings.title.strip():
        raise BadInput("竞赛名称不能为空。", field="title")
    if len(settings.title) > 200:
        raise BadInput("竞赛名称不能超过 200 个字。", field="title")
    if session.get(Bank, settings.bank_id) is None:
        raise BadInput(f"题库 {settings.bank_id} 不存在。", field="bank")
    if not 10 <= settings.time_limit_s <= 24 * 3600:
        raise BadInput("答题时限应在 10 秒到 24 小时之间。", field="time_limit")
    if not 1 <= settings.attempts_per_day <= 100:
        raise BadInput("每日答题次数应在 1 到 100 之间。", field="attempts_per_day")
    if settings.ends_at <= settings.starts_at:
        raise BadInput("结束时间必须晚于开始时间。", field="ends_at")
    if settings.ranking_mode not in RANKING_MODES:
        raise BadInput("排名方式只能是 best 或 daily_sum。", field="ranking_mode")
    questions = papers.BANKS.questions(session, settings.bank_id)
    papers.check_rules(questions, settings.paper)


def create_contest(session: Session, settings: ContestSettings) -> Contest:
    validate(session, settings)
    contest = Contest(bank_id=settings.bank_id)
    _apply(contest, settings)
    session.add(contest)
    session.commit()
    return contest


def update_contest(session: Session, contest: Contest, settings: ContestSettings) -> Contest:
    """Save a contest's new settings. Half credit cannot change once an attempt is finished: those
    were scored by the old rule. (A new ranking rule applies to every attempt: the caller rebuilds
    the board.)"""
    validate(session, settings)
    if settings.partial_credit != contest.partial_credit and session.scalar(
            select(exists().where(Attempt.contest_id == contest.id, Attempt.status == "finished"))):
        raise BadInput("已有答卷按原来的计分方式评分，不能再更改「多选题少选得一半分」；如需更改，请复制为新竞赛。",
                       field="partial_credit")
    _apply(contest, settings)
    session.commit()
    return contest


def _apply(contest: Contest, s: ContestSettings) -> None:
    contest.title = s.title.strip()
    contest.description = s.description.strip()
    contest.bank_id = s.bank_id
    contest.paper = [rule.to_json() for rule in s.paper]
    contest.time_limit_s = s.time_limit_s
    contest.starts_at = s.starts_at
    contest.ends_at = s.ends_at
    contest.attempts_per_day = s.attempts_per_day
    contest.shuffle_questions = s.shuffle_questions
    contest.shuffle_options = s.shuffle_options
    contest.roster_only = s.roster_only
    contest.review_after_submit = s.review_after_submit
    contest.ranking_mode = s.ranking_mode
    contest.partial_credit = s.partial_credit


def get_contest(session: Session, cid: int) -> Contest:
    # An id past the database's integer (as RowId bounds them in URLs) is no contest: SQLite would overflow.
    contest = session.get(Contest, cid) if 0 < cid < 2**31 else None
    if contest is None:
        raise NotFound("竞赛不存在。", code="contest_not_found")
    return contest


CACHE_SECONDS = 2.0
_COLUMNS = [column.key for column in inspect(Contest).column_attrs]


class ContestCache:
    """Per-process copies of contests for the participants' calls (entry, start, the boards, the
    live channel): one SQL read per contest and process every CACHE_SECONDS, where each call read
    the contest (a round trip; py-spy put the read at 5–7 % of a server's samples on PostgreSQL in
    a city replay, bench/call_cost.py at 1.3 % of a whole attempt's Python calls).

    A change written through the ORM in this process is seen at once (the events below); another
    process's within CACHE_SECONDS, as if its request had been that much earlier. The organizers'
    pages read the contest itself (get_contest).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._copies: dict[int, tuple[float, Contest]] = {}

    def get(self, session: Session, cid: int) -> Contest:
        """The contest, in `session` (NotFound if there is none)."""
        kept = self._fresh(cid)
        if kept is not None:
            key = inspect(Contest).identity_key_from_primary_key((cid,))
            present = session.identity_map.get(key)
            # merge without loading: a new instance of this session from the copy, no SQL.
            return present if present is not None else session.merge(kept, load=False)
        return self._load(session, cid)[0]

    def copy(self, session: Session, cid: int) -> Contest:
        """The kept copy itself, of no session: to read, never to change (NotFound if there is
        none). Merging it into the session was a sixth of a start's CPU time."""
        kept = self._fresh(cid)
        return kept if kept is not None else self._load(session, cid)[1]

    def _fresh(self, cid: int) -> Contest | None:
        with self._lock:
            kept = self._copies.get(cid)
        if kept is not None and time.monotonic() - kept[0] < CACHE_SECONDS:
            return kept[1]
        return None

    def _load(self, session: Session, cid: int) -> tuple[Contest, Contest]:
        """(the contest in `session`, its new kept copy)."""
        contest = get_contest(session, cid)
        copy = Contest(**{name: getattr(contest, name) for name in _COLUMNS})
        make_transient_to_detached(copy)  # of no session: no request's rollback can expire it
        with self._lock:
            self._copies[cid] = (time.monotonic(), copy)
        return contest, copy

    def forget(self, cid: int | None = None) -> None:
        """Drop a contest's copy (every contest's without `cid`)."""
        with self._lock:
            if cid is None:
                self._copies.clear()
            else:
                self._copies.pop(cid, None)


CONTESTS = ContestCache()


_CHANGED = "jd.changed_contests"


@event.listens_for(Contest, "after_update")
@event.listens_for(Contest, "after_delete")
def _changed(_mapper, _connection, target: Contest) -> None:
    CONTESTS.forget(target.id)
    # Again once committed: between the flush and the commit another request may keep the old row.
    session = object_session(target)
    if session is not None:
        session.info.setdefault(_CHANGED, set()).add(target.id)


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    for cid in session.info.pop(_CHANGED, ()):
        CONTESTS.forget(cid)


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop(_CHANGED, None)


def contest_for_play(session: Session, cid: int) -> Contest:
    """The contest as the participants' calls read it: at most CACHE_SECONDS old (ContestCache)."""
    return CONTESTS.get(session, cid)


def contest_settings(session: Session, cid: int) -> Contest:
    """Like contest_for_play, as a copy of no session, only to be read (ContestCache.copy)."""
    return CONTESTS.copy(session, cid)


def status(contest: Contest, now: datetime) -> str:
    if now < contest.starts_at:
        return "upcoming"
    if now >= contest.ends_at:
        return "closed"
    return "open"


def question_count(contest: Contest) -> int:
    return sum(int(rule["count"]) for rule in contest.paper)


def summary(contest: Contest, now: datetime) -> dict:
    """The API's view of a contest (API.md `GET /contests`), plus what the contest page shows."""
    return {
        "id": contest.id,
        "title": contest.title,
        "description": contest.description,
        "starts_at": iso(contest.starts_at),
        "ends_at": iso(contest.ends_at),
        "time_limit_s": contest.time_limit_s,
        "question_count": question_count(contest),
        "attempts_per_day": contest.attempts_per_day,
        "status": status(contest, now),
        "roster_only": contest.roster_only,
        "ranking_mode": contest.ranking_mode,
        "ranking_rule": ranking_rule(contest),
        "paper": contest.paper,
    }


def ranking_rule(contest: Contest) -> str:
    """The rule shown to workers on the contest page."""
    basis = "每日最好成绩累计得分" if contest.ranking_mode == "daily_sum" else "个人最好成绩"
    return f"按{basis}排名：得分高者在前；得分相同，用时短者在前；仍相同，先完成者在前。"


def listed_contests(session: Session, now: datetime) -> list[Contest]:
    """Open and upcoming contests, soonest ending first."""
    rows = session.scalars(select(Contest).where(Contest.ends_at > now).order_by(Contest.ends_at))
    return list(rows)


def default_window(now: datetime, days: int = 7) -> tuple[datetime, datetime]:
    return now - timedelta(minutes=1), now + timedelta(days=days)
