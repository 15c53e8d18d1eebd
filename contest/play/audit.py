"""Recomputing a contest's ranking from the audit log alone, and comparing it with what was published.

Issue 7 (fairness): every accepted answer has an `answer_log` row (who, what, when by the
server clock). From the log, each finished attempt is scored again (the last logged answer
of each question, in time) with the contest's own rules (scoring.mark_paper), standings are
ranked again (ranking.standings_from_attempts, the board's order), and both are compared with
the record (attempt scores and stored answers in SQL) and the public board (Redis, what the
leaderboard API shows). Durations and finishing times come from the attempts: the log holds
answers, not submits; they are checked against the attempt's own start and deadline.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from sqlalchemy import Text, cast, select

from contest.clock import to_ms
from contest.models import Answer, AnswerLog, Attempt, Entrant
from contest.play import papers, ranking, scoring
from contest.play.attempts import GRACE_MS
from contest.play.contests import get_contest
from contest.runtime import Runtime
from contest.state import Standing

MAX_LISTED = 50


@dataclass
class Verification:
    contest_id: int
    attempts: int
    log_rows: int
    participants: int
    board_checked: bool
    differences: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences

    def as_dict(self) -> dict:
        return {**asdict(self), "ok": self.ok}


def _row(standing: Standing) -> tuple[int, float, int, int]:
    return standing.entrant_id, standing.score, standing.duration_ms, standing.finished_ms


def _ordered(standings: list[Standing]) -> list[tuple[int, float, int, int]]:
    return [_row(s) for s in sorted(standings, key=Standing.member)]


def _logged_answers(rt: Runtime, cid: int, attempts: dict, found: list[str]) -> tuple[dict, int]:
    """(attempt id -> {question id: JSON text of the last answer logged in time}, log rows read).

    Answers stay JSON text until they are marked: only the last of each question is decoded, and
    the record is compared as text (both are written from the same value by the answer path)."""
    last: dict[int, dict[int, str]] = {aid: {} for aid in attempts}
    limit_ms = {aid: to_ms(attempt.deadline) + GRACE_MS for aid, attempt in attempts.items()}
    rows = rt.session.execute(
        select(AnswerLog.attempt_id, AnswerLog.entrant_id, AnswerLog.question_id, cast(AnswerLog.answer, Text),
               AnswerLog.received_at).where(AnswerLog.contest_id == cid).order_by(AnswerLog.id)
    ).all()
    for aid, entrant_id, qid, answer, received_at in rows:
        attempt = attempts.get(aid)
        if attempt is None:
            continue  # an attempt still open, or not of this contest's record: not ranked
        if entrant_id != attempt.entrant_id:
            found.append(f"日志第 {aid} 号答卷的答案记在报名者 {entrant_id} 名下，答卷属于 {attempt.entrant_id}。")
        elif to_ms(received_at) <= limit_ms[aid]:
            last[aid][qid] = answer
    return last, len(rows)


def _same_answers(logged: dict[int, str], stored: dict[int, str]) -> bool:
    if logged == stored:
        return True
    # Texts may differ in form only (spacing, key order): compare the values.
    return logged.keys() == stored.keys() and all(json.loads(logged[q]) == json.loads(stored[q]) for q in logged)


def _check_attempt(attempt, logged: dict[int, str], stored: dict[int, str],
                   marked: scoring.MarkedPaper, found: list[str]) -> None:
    who = f"答卷 {attempt.id}（报名者 {attempt.entrant_id}）"
    if marked.score != attempt.score:
        found.append(f"{who}：由日志重算得分 {marked.score}，记录得分 {attempt.score}。")
    if not _same_answers(logged, stored):
        changed = sorted(set(logged) ^ set(stored) | {
            q for q in logged if q in stored and json.loads(logged[q]) != json.loads(stored[q])})
        found.append(f"{who}：记录的答案与日志不符（题目 {', '.join(map(str, changed))}）。")
    if attempt.finished_at > attempt.deadline or attempt.duration_ms != to_ms(attempt.finished_at) - to_ms(
            attempt.started_at):
        found.append(f"{who}：用时 {attempt.duration_ms} 毫秒与开始、交卷时间不符或交卷晚于截止时间。")


def _compare(label: str, expected: list[tuple], published: list[tuple], found: list[str]) -> None:
    if len(expected) != len(published):
        found.append(f"{label}：由日志重算有 {len(expected)} 人上榜，公布的有 {len(published)} 人。")
    for rank, (mine, theirs) in enumerate(zip(expected, published, strict=False), start=1):
        if mine != theirs:
            found.append(f"{label}第 {rank} 名：由日志重算为 报名者 {mine[0]} 得分 {mine[1]} 用时 {mine[2]} 毫秒，"
                         f"公布为 报名者 {theirs[0]} 得分 {theirs[1]} 用时 {theirs[2]} 毫秒。")


def verify(rt: Runtime, cid: int) -> Verification:
    """Recompute every finished attempt and the ranking from the log; list what differs from the published."""
    session = rt.session
    contest = get_contest(session, cid)
    # Rows, not Attempt objects: a city-sized contest has 88,843 of them.
    columns = Attempt.__table__.c
    attempts = {a.id: a for a in session.execute(
        select(columns.id, columns.entrant_id, columns.paper_bank, columns.paper, columns.score, columns.duration_ms,
               columns.started_at, columns.deadline, columns.finished_at, columns.day)
        .where(columns.contest_id == cid, columns.status == "finished").order_by(columns.id))}
    found: list[str] = []
    logged, log_rows = _logged_answers(rt, cid, attempts, found)
    stored: dict[int, dict[int, str]] = {aid: {} for aid in attempts}
    for aid, qid, answer in session.execute(
            select(Answer.attempt_id, Answer.question_id, cast(Answer.answer, Text))
            .join(Attempt, Answer.attempt_id == Attempt.id)
            .where(Attempt.contest_id == cid, Attempt.status == "finished")):
        stored[aid][qid] = answer

    recomputed = []
    for attempt in attempts.values():
        bank = papers.BANKS.questions(session, attempt.paper_bank)
        answers = {qid: json.loads(text) for qid, text in logged[attempt.id].items()}
        marked = scoring.mark_paper(attempt.paper, bank, answers, contest.partial_credit)
        _check_attempt(attempt, logged[attempt.id], stored[attempt.id], marked, found)
        recomputed.append((attempt.entrant_id, marked.score, attempt.duration_ms, attempt.finished_at, attempt.id,
                           attempt.day))

    unit_of = dict(session.execute(select(Entrant.id, Entrant.unit_id).where(Entrant.contest_id == cid)).all())
    expected = _ordered(ranking.standings_from_attempts(contest.ranking_mode, unit_of, recomputed))
    from_record = [(a.entrant_id, a.score, a.duration_ms, a.finished_at, a.id, a.day) for a in attempts.values()]
    _compare("数据库排名", expected,
             _ordered(ranking.standings_from_attempts(contest.ranking_mode, unit_of, from_record)), found)
    board_checked = rt.state.boards.is_built(cid)
    if board_checked:  # the leaderboard API's order; an unbuilt board is rebuilt from SQL, checked above
        _compare("排行榜", expected, rt.state.boards.top(cid, len(unit_of) + 1), found)
    session.rollback()
    return Verification(cid, len(attempts), log_rows, len(expected), board_checked, found)
