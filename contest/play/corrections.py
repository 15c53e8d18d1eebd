"""Correcting a question's key (更正答案) and re-scoring every finished attempt it marked.

题目分析 in the staff workbook flags questions that were drawn often but rarely answered right
(a possible wrong key). Correcting one changes the key in the bank and, in the same
transaction, re-marks every saved answer to it in finished attempts and adjusts those
attempts' scores; then the live boards of the contests concerned are rebuilt. Attempts still
open are marked with the new key when they finish.

Each server process keeps a copy of a bank for up to papers.CACHE_SECONDS. The process that
corrects drops its copy at once; another one (or every one, when the CLI corrects) may still
mark a finishing attempt with the old key until its copy expires. So a second pass re-scores
the question again once every copy has expired (the finisher's loop takes it from Redis);
re-scoring is idempotent and can also be run by hand (`contest regrade QID`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import bindparam, func, select, update

from contest.banks.reader import parse_answer
from contest.clock import to_ms
from contest.errors import BadInput, NotFound, Unavailable
from contest.models import AdminUser, Answer, Attempt, Contest, KeyCorrection, Question
from contest.play import papers, ranking, scoring
from contest.runtime import Runtime
from contest.state.health import FAULTS

log = logging.getLogger(__name__)

# The second pass comes once every process's copy of the bank has expired, with a margin.
SECOND_PASS_S = papers.CACHE_SECONDS + 5
MAX_KEY_TEXT = 500  # as the form's field allows
RETRY_MS = 5000  # a second pass that failed (the database away) is tried again this much later

_ANSWERS, _ATTEMPTS = Answer.__table__, Attempt.__table__
_REMARK_ANSWER = update(_ANSWERS).where(_ANSWERS.c.id == bindparam("row")).values(
    is_correct=bindparam("ok"), points=bindparam("new_points"))
_RESCORE_ATTEMPT = update(_ATTEMPTS).where(_ATTEMPTS.c.id == bindparam("aid")).values(
    score=bindparam("new_score"), correct=bindparam("new_correct"))


@dataclass
class Regraded:
    """What one re-scoring found and changed."""

    answers: int = 0            # saved answers to the question in finished attempts
    attempts_changed: int = 0   # attempts whose score or count of right answers changed
    contests: set[int] = field(default_factory=set)  # contests where scores changed
    answered_in: set[int] = field(default_factory=set)  # contests with answers to the question


def parse_key(question: Question, text: str) -> object:
    """The canonical key from what an organizer typed (B, A,C, 对, 上海|上海市), as the bank file reads it."""
    text = (text or "").strip()
    if len(text) > MAX_KEY_TEXT:
        raise BadInput(f"答案不能超过 {MAX_KEY_TEXT} 字。", field="answer")
    problems: list[str] = []
    key = parse_answer(question.type, text, question.options, problems)
    if problems or key is None:
        raise BadInput("；".join(problems) or "答案无法识别。", field="answer")
    return key


def correct_key(rt: Runtime, qid: int, text: str, admin_id: int | None = None, via: str = "admin") -> KeyCorrection:
    """Set the question's key and re-score what it marked, in one transaction; the record of it."""
    session = rt.session
    question = session.get(Question, qid)
    if question is None:
        raise NotFound("题目不存在。", code="question_not_found")
    key = parse_key(question, text)
    if key == question.answer:
        raise BadInput("新答案与原答案相同，无需更正。", field="answer")
    correction = KeyCorrection(question_id=qid, old_answer=question.answer, new_answer=key, admin_id=admin_id,
                               via=via, created_at=rt.clock.now())
    question.answer = key
    session.add(correction)
    session.flush()  # the key first: on SQLite this takes the write lock, so no finish interleaves
    regraded = _remark(rt, question)
    correction.answers_regraded = regraded.answers
    correction.attempts_changed = regraded.attempts_changed
    session.commit()
    papers.BANKS.forget(question.bank_id)
    try:
        rt.state.regrades.schedule(qid, to_ms(rt.clock.now()) + SECOND_PASS_S * 1000)
        _rebuild_boards(rt, regraded.contests)
    except FAULTS:
        # The record is right; only the live boards lag. Saying "try again" would lead to
        # "the key is already that": say what was done and what to do.
        raise Unavailable("答案已更正，已交卷的答卷也已重新评分，但排行榜暂未更新（缓存服务暂时不可用）。"
                          "请稍后点「按当前答案再次核对评分」。", code="boards_not_updated") from None
    return correction


def regrade(rt: Runtime, qid: int, rebuild_all: bool = False) -> Regraded:
    """Re-mark every saved answer to the question in finished attempts with its current key.

    The boards are rebuilt where scores changed; with `rebuild_all` (by hand: it also repairs
    boards a correction could not update) in every contest with answers to the question.
    """
    session = rt.session
    question = session.get(Question, qid, populate_existing=True)
    if question is None:
        raise NotFound("题目不存在。", code="question_not_found")
    regraded = _remark(rt, question)
    session.commit()
    _rebuild_boards(rt, regraded.answered_in if rebuild_all else regraded.contests)
    return regraded


def regrade_due(rt: Runtime) -> int:
    """The second passes whose time has come (the finisher's loop); how many questions."""
    done = 0
    for qid in rt.state.regrades.take_due(to_ms(rt.clock.now())):
        try:
            regraded = regrade(rt, qid)
        except NotFound:  # the bank was deleted meanwhile
            continue
        except Exception:
            # Taken off the queue already: put it back for a later round, then let the loop log it.
            rt.session.rollback()
            rt.state.regrades.schedule(qid, to_ms(rt.clock.now()) + RETRY_MS)
            raise
        if regraded.attempts_changed:
            log.info("second pass of question %s: %s attempts re-scored", qid, regraded.attempts_changed)
        done += 1
    return done


def key_text(qtype: str, key: object) -> str:
    """A key as an organizer types it back in: AC, 正确/错误, 上海|上海市."""
    if isinstance(key, bool):
        return "正确" if key else "错误"
    if isinstance(key, list):
        return "|".join(map(str, key)) if qtype == "fill" else "".join(map(str, key))
    return str(key)


@dataclass
class Impact:
    """What a correction of the question would touch, and the corrections made before."""

    answered: int                   # saved answers in finished attempts
    contests: list[str]             # titles of the contests drawing from its bank
    history: list[tuple[KeyCorrection, str | None]]  # newest first, with the admin's name (None: CLI)


def impact(rt: Runtime, qid: int) -> Impact:
    session = rt.session
    question = session.get(Question, qid)
    if question is None:
        raise NotFound("题目不存在。", code="question_not_found")
    answered = session.scalar(
        select(func.count()).select_from(_ANSWERS).join(_ATTEMPTS, _ATTEMPTS.c.id == _ANSWERS.c.attempt_id)
        .where(_ANSWERS.c.question_id == qid, _ATTEMPTS.c.status == "finished")) or 0
    titles = session.scalars(select(Contest.title).where(Contest.bank_id == question.bank_id).order_by(Contest.id))
    history = session.execute(
        select(KeyCorrection, AdminUser.username).outerjoin(AdminUser, AdminUser.id == KeyCorrection.admin_id)
        .where(KeyCorrection.question_id == qid).order_by(KeyCorrection.id.desc())).all()
    return Impact(answered, list(titles), [(row, name) for row, name in history])


def _remark(rt: Runtime, question: Question) -> Regraded:
    """Re-mark in the session's transaction (no commit): answer rows, then their attempts' totals.

    The attempts are locked while read (FOR UPDATE on PostgreSQL; SQLite's writer lock is held
    already), so a concurrent re-scoring of another question of the same attempt cannot lose
    this one's change.
    """
    session = rt.session
    if session.get_bind().dialect.name == "sqlite":
        # Hold the writer lock before reading (as _lock_attempt does): no stale read, no upgrade.
        session.execute(update(Question).where(Question.id == question.id).values(answer=Question.answer))
    rows = session.execute(
        select(_ANSWERS.c.id, _ANSWERS.c.answer, _ANSWERS.c.is_correct, _ANSWERS.c.points,
               _ATTEMPTS.c.id, _ATTEMPTS.c.contest_id, _ATTEMPTS.c.score, _ATTEMPTS.c.correct, Contest.partial_credit)
        .join(_ATTEMPTS, _ATTEMPTS.c.id == _ANSWERS.c.attempt_id)
        .join(Contest, Contest.id == _ATTEMPTS.c.contest_id)
        .where(_ANSWERS.c.question_id == question.id, _ATTEMPTS.c.status == "finished")
        .order_by(_ATTEMPTS.c.id)
        .with_for_update(of=_ATTEMPTS)
    ).all()
    regraded = Regraded(answers=len(rows))
    marks, totals = [], []
    for row_id, answer, was_right, had_points, aid, cid, score, correct, partial in rows:
        regraded.answered_in.add(cid)
        right, points = scoring.mark(question.type, question.answer, answer, question.score, partial)
        was_right, had_points = bool(was_right), had_points or 0.0
        if right == was_right and abs(points - had_points) < 0.005:
            continue
        marks.append({"row": row_id, "ok": right, "new_points": points})
        totals.append({"aid": aid, "new_score": round((score or 0.0) - had_points + points, 2),
                       "new_correct": (correct or 0) - int(was_right) + int(right)})
        regraded.contests.add(cid)
    if marks:
        session.execute(_REMARK_ANSWER, marks)
        session.execute(_RESCORE_ATTEMPT, totals)
    regraded.attempts_changed = len(totals)
    return regraded


def _rebuild_boards(rt: Runtime, contest_ids: set[int]) -> None:
    """These contests' live boards, from SQL (and pushed)."""
    for cid in sorted(contest_ids):
        contest = rt.session.get(Contest, cid)
        ranking.rebuild(rt, contest)
        rt.state.live.mark(cid)
