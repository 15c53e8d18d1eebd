"""Attempts: start (draw a paper, fix the deadline), save answers, submit, finish.

The server owns the clock: deadlines are absolute, judged on arrival. SQL holds every
acknowledged answer before the acknowledgement leaves; Redis caches the attempt's facts so
an answer costs one locked write and no extra read.
"""

from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import (
    ARRAY,
    Boolean,
    Float,
    Integer,
    bindparam,
    column,
    func,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from contest.clock import contest_day, iso, to_ms
from contest.errors import Conflict, Forbidden, NotFound, TooMany
from contest.models import Answer, Attempt, Contest, Entrant
from contest.play import answer_store, origins, papers, ranking, scoring, throttle
from contest.play.contests import contest_settings, status
from contest.play.entry import Caller
from contest.runtime import Runtime
from contest.state import Standing

# Transit allowance for an answer sent just before the deadline (API.md: no more than 2 s).
GRACE_MS = 2000


def _paper_rng() -> random.Random:
    """A generator for one paper, seeded with 128 bits from the OS: no paper tells anything about
    another's, and a draw costs one system call where SystemRandom made one per number (~50)."""
    return random.Random(os.urandom(16))


# Core statements on the start and submit paths: with table columns a select costs ~95 µs here,
# with ORM attributes ~165 µs, and the ORM's bulk UPDATE machinery more than the SQL itself.
_ATTEMPTS, _ANSWERS = Attempt.__table__, Answer.__table__
_TOUCH_ATTEMPT = update(_ATTEMPTS).where(_ATTEMPTS.c.id == bindparam("aid")).values(status=_ATTEMPTS.c.status)
# On SQLite the no-op write that takes the writer lock returns the row and its entrant's unit:
# one statement where a write and a read were two.
_TOUCH_AND_READ = _TOUCH_ATTEMPT.returning(
    *_ATTEMPTS.c, select(Entrant.unit_id).where(Entrant.id == literal_column("attempts.entrant_id"))
    .scalar_subquery().label("unit_id"))
_MARK_ANSWER = update(_ANSWERS).where(_ANSWERS.c.id == bindparam("row")).values(
    is_correct=bindparam("ok"), points=bindparam("points"))
# On SQLite a paper's marks are one statement over a JSON array of [row, ok, points] (as a batch of
# answers is stored, answer_store.py): an executemany cost SQLAlchemy's work for every row.
_MARK_ANSWERS_SQLITE = text("""
UPDATE answers SET is_correct = json_extract(m.value, '$[1]'), points = json_extract(m.value, '$[2]')
FROM json_each(:marks) AS m WHERE answers.id = json_extract(m.value, '$[0]')
""")
_CLOSED = ("status", "open_marker", "finished_at", "duration_ms", "score", "max_score", "correct")
_CLOSE_ATTEMPT = update(_ATTEMPTS).where(_ATTEMPTS.c.id == bindparam("aid")).values(
    {name: bindparam(name, type_=_ATTEMPTS.c[name].type) for name in _CLOSED})
# On PostgreSQL the marks ride along as a CTE of the same statement: one round trip, where an
# executemany of the marks (psycopg's pipeline) cost more server time than the rest of a submit.
_MARKS = func.unnest(bindparam("rows", type_=ARRAY(Integer)), bindparam("oks", type_=ARRAY(Boolean)),
                     bindparam("points_each", type_=ARRAY(Float))).table_valued(
    column("id", Integer), column("ok", Boolean), column("points", Float)).render_derived(name="m")
_MARK_AND_CLOSE = _CLOSE_ATTEMPT.add_cte(
    update(_ANSWERS).where(_ANSWERS.c.id == _MARKS.c.id).values(is_correct=_MARKS.c.ok, points=_MARKS.c.points)
    .cte("marked"))
# Built once with bound parameters: building a select with its joins per call cost more Python
# than running it (_lock_attempt: 620 µs of CPU built per call, 400 µs prebuilt).
_LOCK_ATTEMPT = (
    select(_ATTEMPTS, Entrant.unit_id).join(Entrant, Entrant.id == _ATTEMPTS.c.entrant_id)
    .where(_ATTEMPTS.c.id == bindparam("aid")).with_for_update(of=_ATTEMPTS)
)
_SAVED_ANSWERS = select(_ANSWERS.c.id, _ANSWERS.c.question_id, _ANSWERS.c.answer).where(
    _ANSWERS.c.attempt_id == bindparam("aid"))
# An open attempt to resume, and today's attempts (how many of the day's are used), in one read.
_MINE = select(_ATTEMPTS.c.id, _ATTEMPTS.c.status, _ATTEMPTS.c.day).where(
    _ATTEMPTS.c.entrant_id == bindparam("entrant"), or_(_ATTEMPTS.c.status == "open", _ATTEMPTS.c.day == bindparam("day")))


def _lock_attempt(session: Session, aid: int) -> tuple[Attempt, int] | tuple[None, None]:
    """The attempt row and its entrant's unit, locked until commit: a row lock on PostgreSQL; on
    SQLite a no-op write first, so the transaction holds the writer lock before it reads (no
    stale read, no upgrade). The attempt comes back as an object of no session, with its contest
    the cached copy (contests.contest_settings): loading both as ORM entities was a third of a
    submit's CPU time. What changes it is written by Core statements (_close)."""
    locking = _TOUCH_AND_READ if session.get_bind().dialect.name == "sqlite" else _LOCK_ATTEMPT
    row = session.execute(locking, {"aid": aid}).one_or_none()
    if row is None:
        return None, None
    values = row._asdict()
    unit_id = values.pop("unit_id")
    attempt = Attempt(contest=contest_settings(session, values["contest_id"]), **values)
    return attempt, unit_id


def _meta(attempt: Attempt) -> dict:
    return {"entrant": attempt.entrant_id, "contest": attempt.contest_id, "bank": attempt.paper_bank,
            "deadline_ms": to_ms(attempt.deadline), "paper": attempt.paper, "status": attempt.status}


def _remember(rt: Runtime, attempt: Attempt, finish_at_ms: int | None = None) -> dict:
    """Cache the open attempt's facts (and, for a new one, queue its finishing) in one round trip."""
    meta = _meta(attempt)
    ttl = int((attempt.deadline - rt.clock.now()).total_seconds()) + 3600
    rt.state.attempts.remember(attempt.contest_id, attempt.id, meta, ttl, finish_at_ms)
    return meta


def attempt_view(rt: Runtime, attempt: Attempt, fresh: bool = False) -> dict:
    """The body of a started (or resumed) attempt: questions without key, saved answers, deadline.

    `fresh`: the attempt was opened by this very call, so it has no saved answers to look up.
    """
    contest = attempt.contest
    bank = papers.BANKS.questions(rt.session, attempt.paper_bank)
    saved = {} if fresh else {
        row.question_id: row.answer
        for row in rt.session.execute(select(_ANSWERS.c.question_id, _ANSWERS.c.answer)
                                      .where(_ANSWERS.c.attempt_id == attempt.id))
    }
    answers = {}
    for item in attempt.paper:
        if item["qid"] in saved:
            answers[str(item["qid"])] = _shown_answer(bank[item["qid"]].type, saved[item["qid"]], item["perm"])
    return {
        "attempt_id": attempt.id,
        "deadline": iso(attempt.deadline),
        "server_time": iso(rt.clock.now()),
        "time_limit_s": contest.time_limit_s,
        "status": attempt.status,
        "questions": [papers.public_question(bank[item["qid"]], item["perm"]) for item in attempt.paper],
        "answers": answers,
    }


def _shown_answer(qtype: str, answer: object, perm: list[int]) -> object:
    if qtype in ("single", "multiple") and isinstance(answer, list):
        return scoring.to_shown_letters(answer, perm)
    return answer


def start(rt: Runtime, caller: Caller, cid: int, address: str | None = None,
          device_id: str | None = None) -> tuple[Attempt, bool]:
    """(attempt, created): the open attempt if there is one, else a new one within today's limit.

    A new attempt is committed together with where it was started from (origins.py).
    """
    if caller.contest_id != cid:
        raise Forbidden("此登录凭证不属于本竞赛。", code="wrong_contest")
    contest = contest_settings(rt.session, cid)
    now = rt.clock.now()
    state = status(contest, now)
    if state == "upcoming":
        raise Forbidden("竞赛尚未开始。", code="not_open")
    if state == "closed":
        raise Forbidden("本次竞赛已结束。", code="contest_closed")

    day = contest_day(now)
    mine = rt.session.execute(_MINE, {"entrant": caller.entrant_id, "day": day}).all()
    open_id = next((aid for aid, state, _day in mine if state == "open"), None)
    if open_id is not None:
        open_attempt = rt.session.get(Attempt, open_id)
        if to_ms(now) <= to_ms(open_attempt.deadline) + GRACE_MS:
            _remember(rt, open_attempt)
            return open_attempt, False
        finish(rt, open_attempt.id)
    used = sum(1 for _aid, _state, started_on in mine if started_on == day)
    if used >= contest.attempts_per_day:
        raise TooMany(f"今天的 {contest.attempts_per_day} 次答题机会已用完，明天再来吧。", code="attempts_used_up")
    bank = papers.BANKS.questions(rt.session, contest.bank_id)
    paper = papers.draw(bank, papers.rules_from_json(contest.paper), contest.shuffle_questions,
                        contest.shuffle_options, _paper_rng())
    deadline = min(now + timedelta(seconds=contest.time_limit_s), contest.ends_at)
    row = {"contest_id": cid, "entrant_id": caller.entrant_id, "day": day, "slot": used + 1, "open_marker": 1,
           "paper_bank": contest.bank_id, "status": "open", "paper": paper, "started_at": now, "deadline": deadline}
    try:
        # A Core INSERT: the ORM's flush of a new object cost the start more than the SQL did.
        aid = origins.insert_with_origin(rt, _ATTEMPTS, row, address, device_id, origin_of_row=True)
        rt.session.commit()
    except IntegrityError:
        # Another start of the same entrant won the race: answer with its attempt.
        rt.session.rollback()
        open_attempt = _open_attempt(rt.session, caller.entrant_id)
        if open_attempt is None:
            raise TooMany(f"今天的 {contest.attempts_per_day} 次答题机会已用完，明天再来吧。",
                          code="attempts_used_up") from None
        return open_attempt, False
    attempt = Attempt(id=aid, contest=contest, **row)  # the row as stored, for the view (not in the session)
    _remember(rt, attempt, finish_at_ms=to_ms(deadline) + GRACE_MS)
    return attempt, True


def _open_attempt(session: Session, entrant_id: int) -> Attempt | None:
    return session.scalar(select(Attempt).where(Attempt.entrant_id == entrant_id, Attempt.status == "open"))


def _meta_for(rt: Runtime, caller: Caller, aid: int) -> dict:
    meta = rt.state.attempts.recall(caller.contest_id, aid)
    if meta is None:
        attempt = rt.session.get(Attempt, aid)
        if attempt is None or attempt.contest_id != caller.contest_id:
            # An attempt of another contest is someone else's, whoever asks.
            if attempt is not None:
                raise Forbidden("这不是您的答卷。", code="not_yours")
            raise NotFound("答卷不存在。", code="attempt_not_found")
        meta = _remember(rt, attempt) if attempt.status == "open" else _meta(attempt)
    if meta["entrant"] != caller.entrant_id:
        raise Forbidden("这不是您的答卷。", code="not_yours")
    return meta


def save_answer(rt: Runtime, caller: Caller, aid: int, qid: int, raw: object,
                counters: list[tuple[str, str, int, int]] | None = None) -> None:
    """Store the answer if it arrived before the deadline; the last one in time counts.

    The hot path of a contest: one Redis round trip (allowances, the cached attempt and the
    monitor's count, taken back if the answer is refused after the allowances) and one SQL statement that writes
    only while the attempt is open. `counters` are the caller's allowances (throttle.counters).
    """
    now = rt.clock.now()
    minute = ranking.minute_of(now)
    allowed, meta = rt.state.answer_gate(counters or [], caller.contest_id, aid, minute)
    if not allowed:  # not counted on the monitor either
        throttle.refuse()
    try:
        _store_answer(rt, caller, aid, qid, raw, now, meta)
    except Exception:  # refused or failed: not an accepted answer after all
        rt.state.boards.uncount_answer(caller.contest_id, minute)
        raise


def _store_answer(rt: Runtime, caller: Caller, aid: int, qid: int, raw: object, now: datetime,
                  meta: dict | None) -> None:
    if meta is None:
        meta = _meta_for(rt, caller, aid)
    elif meta["entrant"] != caller.entrant_id:
        raise Forbidden("这不是您的答卷。", code="not_yours")
    if to_ms(now) > meta["deadline_ms"] + GRACE_MS:
        raise Conflict("答题时间已到，答案未保存。", code="deadline_passed")
    item = next((p for p in meta["paper"] if p["qid"] == qid), None)
    if item is None:
        raise NotFound("本答卷中没有这道题。", code="question_not_in_attempt")
    question = papers.BANKS.questions(rt.session, meta["bank"])[qid]
    answer = scoring.check_shape(question.type, len(item["perm"]), raw)
    if question.type in ("single", "multiple"):
        answer = scoring.to_bank_letters(answer, item["perm"])

    # Committed (with its audit-log row) before this returns, on a connection of its own. The
    # session gives its pooled connection back first: requests holding connections while they
    # wait on the writer, which needs one from the same pool, deadlocked the server under load.
    # (Usually there is no session: the answer path reads nothing from SQL.)
    stored = answer_store.store(rt.engine_apart(), {"aid": aid, "qid": qid, "answer": answer, "now": now,
                                                        "entrant": caller.entrant_id, "contest": meta["contest"]})
    if not stored:
        attempt = rt.session.get(Attempt, aid)
        rt.session.rollback()
        if to_ms(now) > to_ms(attempt.deadline):
            raise Conflict("答题时间已到，答案未保存。", code="deadline_passed")
        raise Conflict("答卷已提交，不能再修改答案。", code="already_submitted")


def submit(rt: Runtime, caller: Caller, aid: int) -> dict:
    """Finish the attempt (idempotent) and answer its result."""
    finished = _finish(rt, aid, caller)
    return result(rt, finished.attempt, finished)


class Saved(NamedTuple):
    """One saved answer as the result shows it."""

    answer: object
    is_correct: bool | None
    points: float | None


@dataclass
class _Finished:
    """What closing an attempt already computed, so the result need not compute it again."""

    attempt: Attempt
    standing: Standing | None = None
    rank: int | None = None
    saved: dict[int, Saved] | None = None


def finish(rt: Runtime, aid: int) -> Attempt:
    """Score and close an attempt once; later calls return it unchanged.

    Finished after the deadline (by the server), it counts the answers saved in time and
    its finishing time is the deadline.
    """
    return _finish(rt, aid).attempt


def _finish(rt: Runtime, aid: int, caller: Caller | None = None) -> _Finished:
    # Plain rows and one executemany rather than ORM objects: submit was the costliest call per
    # request in the load benchmark (a dozen answers' worth of server time).
    session = rt.session
    attempt, unit_id = _lock_attempt(session, aid)
    if attempt is None:
        raise NotFound("答卷不存在。", code="attempt_not_found")
    # A worker's submit: whose it is, told by the locked row (asking Redis first was one more round trip).
    if caller is not None and (attempt.contest_id, attempt.entrant_id) != (caller.contest_id, caller.entrant_id):
        session.rollback()
        raise Forbidden("这不是您的答卷。", code="not_yours")
    if attempt.status == "finished":
        session.rollback()
        return _Finished(attempt)
    contest = attempt.contest
    bank = papers.BANKS.questions(session, attempt.paper_bank)
    now = rt.clock.now()
    finished_at = min(now, attempt.deadline)
    rows = session.execute(_SAVED_ANSWERS, {"aid": aid}).all()
    given = {qid: answer for _, qid, answer in rows}
    marked = scoring.mark_paper(attempt.paper, bank, given, contest.partial_credit)
    row_of = {qid: row_id for row_id, qid, _ in rows}
    marks = [{"row": row_of[qid], "ok": ok, "points": points} for qid, (ok, points) in marked.marks.items()]
    _close(session, attempt, marks, {
        "status": "finished", "open_marker": None, "finished_at": finished_at,
        "duration_ms": max(0, to_ms(finished_at) - to_ms(attempt.started_at)),
        "score": marked.score, "max_score": marked.max_score, "correct": marked.correct,
    })
    # The standing is read in the same transaction (the session flushes the finish first): read
    # after the commit, it cost two more round trips (a new BEGIN and its ROLLBACK).
    standing = ranking.standing_for(session, contest, attempt.entrant_id, unit_id)
    session.commit()

    rank = rt.state.finish_attempt(contest.id, aid, standing)
    ranking.forget_public(contest.id)
    if rank is None:
        ranking.rebuild(rt, contest)
    saved = {qid: Saved(answer, *marked.marks.get(qid, (None, None))) for qid, answer in given.items()}
    return _Finished(attempt, standing, rank, saved)


def _close(session: Session, attempt: Attempt, marks: list[dict], closed: dict) -> None:
    """Write the answers' marks and close the attempt (Core statements; the object is told the new
    values as already stored, so the ORM flushes nothing more)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_MARK_AND_CLOSE, {
            "aid": attempt.id, **closed, "rows": [m["row"] for m in marks], "oks": [m["ok"] for m in marks],
            "points_each": [m["points"] for m in marks]})
    else:
        if marks and answer_store.SQLITE_BATCHES:
            session.execute(_MARK_ANSWERS_SQLITE, {"marks": json.dumps([[m["row"], m["ok"], m["points"]] for m in marks])})
        elif marks:
            session.execute(_MARK_ANSWER, marks)
        session.execute(_CLOSE_ATTEMPT, {"aid": attempt.id, **closed})
    for name, value in closed.items():
        set_committed_value(attempt, name, value)


def result(rt: Runtime, attempt: Attempt, finished: _Finished | None = None) -> dict:
    """API.md's submit answer: score, rank, best, and the review when the contest allows it."""
    contest = attempt.contest
    standing = finished.standing if finished else None
    rank = finished.rank if finished else None
    if standing is None or rank is None:  # not just finished here: ask the record and the board
        ranking.ensure_built(rt, contest)
        unit_id = rt.session.scalar(select(Entrant.unit_id).where(Entrant.id == attempt.entrant_id))
        standing = ranking.standing_for(rt.session, contest, attempt.entrant_id, unit_id)
        rank = rt.state.boards.rank_of(contest.id, attempt.entrant_id)
    body = {
        "attempt_id": attempt.id,
        "score": attempt.score,
        "max_score": attempt.max_score,
        "correct": attempt.correct,
        "question_count": len(attempt.paper),
        "duration_ms": attempt.duration_ms,
        "finished_at": iso(attempt.finished_at),
        "best_score": standing.score if standing else attempt.score,
        "rank": rank,
        "review": review(rt, contest, attempt, finished.saved if finished else None)
        if contest.review_after_submit else [],
    }
    return body


def review(rt: Runtime, contest: Contest, attempt: Attempt, saved: dict[int, Saved] | None = None) -> list[dict]:
    bank = papers.BANKS.questions(rt.session, attempt.paper_bank)
    if saved is None:
        saved = {
            qid: Saved(answer, is_correct, points)
            for qid, answer, is_correct, points in rt.session.execute(
                select(Answer.question_id, Answer.answer, Answer.is_correct, Answer.points)
                .where(Answer.attempt_id == attempt.id)
            )
        }
    items = []
    for item in attempt.paper:
        question, row = bank[item["qid"]], saved.get(item["qid"])
        items.append({
            "id": question.id,
            "stem": question.stem,
            "options": [question.options[i] for i in item["perm"]],
            "type": question.type,
            "answer": _shown_answer(question.type, row.answer, item["perm"]) if row else None,
            "correct_answer": _shown_answer(question.type, question.answer, item["perm"]),
            "is_correct": bool(row.is_correct) if row else False,
            "points": (row.points or 0.0) if row else 0.0,
            "explanation": question.explanation,
        })
    return items


def current(rt: Runtime, caller: Caller, aid: int) -> dict:
    """GET an attempt: the open paper to resume, or the result once finished."""
    meta = _meta_for(rt, caller, aid)
    attempt = rt.session.get(Attempt, aid)
    if attempt.status == "open" and to_ms(rt.clock.now()) > meta["deadline_ms"] + GRACE_MS:
        attempt = finish(rt, aid)
    if attempt.status == "finished":
        return {"status": "finished", "result": result(rt, attempt)}
    return attempt_view(rt, attempt)


def finish_due(rt: Runtime, limit: int = 200) -> int:
    """Finish attempts whose deadline has passed without a submit; returns how many."""
    done = 0
    for _cid, aid in rt.state.attempts.take_due(to_ms(rt.clock.now()), limit):
        finish(rt, aid)
        done += 1
    return done


def finish_overdue_from_sql(rt: Runtime) -> int:
    """At start-up: finish open attempts past their deadline that no queue remembers."""
    cutoff = rt.clock.now() - timedelta(milliseconds=GRACE_MS)
    ids = rt.session.scalars(select(Attempt.id).where(Attempt.status == "open", Attempt.deadline < cutoff)).all()
    rt.session.rollback()
    for aid in ids:
        finish(rt, aid)
    return len(ids)


def reschedule_open(rt: Runtime) -> int:
    """Put every open attempt back on the finisher's queue (after Redis lost its state)."""
    rows = rt.session.execute(select(Attempt.id, Attempt.contest_id, Attempt.deadline).where(Attempt.status == "open")).all()
    for aid, cid, deadline in rows:
        rt.state.attempts.schedule_finish(cid, aid, to_ms(deadline) + GRACE_MS)
    return len(rows)

