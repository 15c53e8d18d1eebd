"""Every figure of the staff workbook, computed from the SQL record into pandas DataFrames.

Redis is never read here: the workbook goes into official reports, so it must equal what
the record says. The ranking rule is the live board's (contest/play/ranking.py): an
entrant's best attempt (or the sum of each day's best), then higher score, shorter
duration, earlier finish, lower entrant id.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import String, Text, cast, func, select, text, type_coerce
from sqlalchemy.orm import Session

from contest.models import Answer, Attempt, Contest, Entrant, Question, Unit
from contest.reports import fairness

# Contest days follow China Standard Time (no DST), as in contest/clock.py.
CST_OFFSET = pd.Timedelta(hours=8)
# Below this correct rate a question's key is suspect; a few draws say nothing either way.
SUSPECT_RATE = 0.2
SUSPECT_MIN_DRAWN = 5

STANDING_COLUMNS = ["rank", "entrant_id", "name", "phone", "unit_id", "unit", "score", "duration_ms",
                    "finished_at", "attempts"]


@dataclass
class Figures:
    contest: Contest
    units: pd.DataFrame  # unit_id, name, parent_name, headcount
    entrants: pd.DataFrame  # entrant_id, name, phone, unit_id
    attempts: pd.DataFrame  # finished attempts: attempt_id, entrant_id, score, max_score, correct, duration_ms, started_at, finished_at
    standings: pd.DataFrame  # STANDING_COLUMNS, in rank order
    unit_rows: pd.DataFrame  # per unit participation, ranked by 参与率
    questions: pd.DataFrame  # per question analysis
    answers: int  # answers stored for finished attempts
    fairness: fairness.Fairness  # flags for staff to check (公平性核查)


def _frame(rows, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame.from_records(rows, columns=columns)


def load_units(session: Session) -> pd.DataFrame:
    rows = session.execute(select(Unit.id, Unit.name, Unit.parent_name, Unit.headcount).order_by(Unit.id)).all()
    frame = _frame(rows, ["unit_id", "name", "parent_name", "headcount"])
    frame["headcount"] = frame["headcount"].fillna(0).astype("int64")
    return frame


def load_entrants(session: Session, cid: int) -> pd.DataFrame:
    rows = session.execute(
        select(Entrant.id, Entrant.name, Entrant.phone, Entrant.unit_id).where(Entrant.contest_id == cid)
    ).all()
    return _frame(rows, ["entrant_id", "name", "phone", "unit_id"])


def load_attempts(session: Session, cid: int) -> pd.DataFrame:
    # The stored UTC times come raw (text on SQLite) and are parsed by pandas in one go:
    # row-by-row conversion was the slowest part of a city-sized export.
    rows = session.execute(
        select(Attempt.id, Attempt.entrant_id, Attempt.score, Attempt.max_score, Attempt.correct,
               Attempt.duration_ms, type_coerce(Attempt.started_at, String), type_coerce(Attempt.finished_at, String),
               Attempt.day)
        .where(Attempt.contest_id == cid, Attempt.status == "finished")
    ).all()
    frame = _frame(rows, ["attempt_id", "entrant_id", "score", "max_score", "correct", "duration_ms",
                          "started_at", "finished_at", "day"])
    for column in ("started_at", "finished_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601")
    for column in ("score", "max_score"):
        frame[column] = frame[column].astype("float64")
    for column in ("correct", "duration_ms"):
        frame[column] = frame[column].fillna(0).astype("int64")
    return frame


def finished_ms(moments: pd.Series) -> pd.Series:
    """Milliseconds since the epoch, truncated as contest.clock.to_ms does."""
    return (moments - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(milliseconds=1)


def standings(attempts: pd.DataFrame, entrants: pd.DataFrame, units: pd.DataFrame, mode: str) -> pd.DataFrame:
    """One row per participant, in rank order, by the contest's ranking rule."""
    if attempts.empty:
        return pd.DataFrame(columns=STANDING_COLUMNS)
    ordered = attempts.sort_values(["score", "duration_ms", "finished_at", "attempt_id"],
                                   ascending=[False, True, True, True], kind="mergesort")
    counts = attempts.groupby("entrant_id").size().rename("attempts")
    if mode == "daily_sum":
        # The day it was started on (its allowance's day), as the live board counts it.
        day_bests = ordered.drop_duplicates(["entrant_id", "day"])
        best = day_bests.groupby("entrant_id").agg(
            score=("score", "sum"), duration_ms=("duration_ms", "sum"), finished_at=("finished_at", "max"))
        best["score"] = best["score"].round(2)
        best = best.reset_index()
    else:
        best = ordered.drop_duplicates("entrant_id")[["entrant_id", "score", "duration_ms", "finished_at"]]
    best = best.merge(counts, left_on="entrant_id", right_index=True)
    best["score_centi"] = (best["score"] * 100).round().astype("int64")
    best["finished_ms"] = finished_ms(best["finished_at"])
    best = best.sort_values(["score_centi", "duration_ms", "finished_ms", "entrant_id"],
                            ascending=[False, True, True, True], kind="mergesort")
    people = entrants.merge(units[["unit_id", "name"]].rename(columns={"name": "unit"}), on="unit_id", how="left")
    best = best.merge(people, on="entrant_id", how="left", sort=False)
    best["rank"] = range(1, len(best) + 1)
    return best[STANDING_COLUMNS].reset_index(drop=True)


def unit_participation(units: pd.DataFrame, entrants: pd.DataFrame, attempts: pd.DataFrame,
                       ranked: pd.DataFrame) -> pd.DataFrame:
    """Every unit (those without a participant too), ranked by 参与率, then 参与人数, then unit id."""
    frame = units.copy()
    unit_of = entrants.set_index("entrant_id")["unit_id"]
    per_unit_attempts = attempts["entrant_id"].map(unit_of).value_counts()
    full = attempts[(attempts["max_score"] > 0) & (attempts["score"] >= attempts["max_score"])]
    full_marks = full.drop_duplicates("entrant_id")["entrant_id"].map(unit_of).value_counts()
    participants = ranked.groupby("unit_id").agg(participants=("entrant_id", "size"), best_sum=("score", "sum"))
    frame["participants"] = frame["unit_id"].map(participants["participants"]).fillna(0).astype("int64")
    frame["best_sum"] = frame["unit_id"].map(participants["best_sum"]).fillna(0.0).astype("float64")
    frame["attempts"] = frame["unit_id"].map(per_unit_attempts).fillna(0).astype("int64")
    frame["full_marks"] = frame["unit_id"].map(full_marks).fillna(0).astype("int64")
    has_staff, has_people = frame["headcount"] > 0, frame["participants"] > 0
    frame["rate"] = (frame["participants"] / frame["headcount"].where(has_staff)).fillna(0.0)
    frame["attempts_per_person"] = (frame["attempts"] / frame["participants"].where(has_people)).fillna(0.0)
    frame["avg_best"] = (frame["best_sum"] / frame["participants"].where(has_people)).fillna(0.0)
    frame = frame.sort_values(["rate", "participants", "unit_id"], ascending=[False, False, True], kind="mergesort")
    frame["rank"] = range(1, len(frame) + 1)
    return frame.reset_index(drop=True)


def unit_totals(unit_rows: pd.DataFrame) -> dict:
    """The totals row of the unit sheet."""
    headcount, people = int(unit_rows["headcount"].sum()), int(unit_rows["participants"].sum())
    attempts = int(unit_rows["attempts"].sum())
    return {
        "headcount": headcount,
        "participants": people,
        "rate": people / headcount if headcount else 0.0,
        "attempts": attempts,
        "attempts_per_person": attempts / people if people else 0.0,
        "avg_best": float(unit_rows["best_sum"].sum()) / people if people else 0.0,
        "full_marks": int(unit_rows["full_marks"].sum()),
    }


def question_analysis(session: Session, cid: int) -> pd.DataFrame:
    """Per question drawn in a finished attempt: times drawn, correct rate, the favourite wrong answer."""
    finished = (Attempt.contest_id == cid) & (Attempt.status == "finished")
    drawn = times_drawn(session, cid)
    # One pass over the answers, grouped in SQL on the answer's text, then folded here
    # (PostgreSQL and SQLite space JSON differently).
    correct: Counter[int] = Counter()
    wrong: dict[int, Counter] = defaultdict(Counter)
    answer_text = cast(Answer.answer, Text)
    right = func.coalesce(Answer.is_correct, False)
    for qid, is_right, raw, count in session.execute(
        select(Answer.question_id, right, answer_text, func.count()).join(Attempt, Answer.attempt_id == Attempt.id)
        .where(finished).group_by(Answer.question_id, right, answer_text)
    ):
        if is_right:
            correct[qid] += count
        else:
            wrong[qid][_answer_key(raw)] += count
    columns = ["question_id", "type", "category", "stem", "options", "answer", "drawn", "correct", "rate",
               "wrong_answer", "wrong_count", "suspect"]
    if not drawn:
        return pd.DataFrame(columns=columns)
    questions = session.execute(
        select(Question.id, Question.type, Question.category, Question.stem, Question.options, Question.answer)
        .where(Question.id.in_(list(drawn)))
    ).all()
    rows = []
    for qid, qtype, category, stem, options, key in questions:
        times, right = drawn[qid], correct.get(qid, 0)
        favourite = wrong[qid].most_common(1)
        rate = right / times if times else 0.0
        rows.append([qid, qtype, category, stem, options or [], key, times, right, rate,
                     favourite[0][0] if favourite else None, favourite[0][1] if favourite else 0,
                     rate < SUSPECT_RATE and times >= SUSPECT_MIN_DRAWN])
    frame = pd.DataFrame(rows, columns=columns)
    return frame.sort_values(["rate", "question_id"], kind="mergesort").reset_index(drop=True)


# Counting papers' questions inside the database saves decoding ~90,000 JSON papers in Python.
_DRAWN_SQL = {
    "sqlite": "SELECT json_extract(item.value, '$.qid'), COUNT(*) FROM attempts, json_each(attempts.paper) AS item"
              " WHERE attempts.contest_id = :cid AND attempts.status = 'finished' GROUP BY 1",
    "postgresql": "SELECT (item ->> 'qid')::int, COUNT(*) FROM attempts,"
                  " json_array_elements(attempts.paper::json) AS item"
                  " WHERE attempts.contest_id = :cid AND attempts.status = 'finished' GROUP BY 1",
}


def times_drawn(session: Session, cid: int) -> Counter[int]:
    """How many finished papers contained each question."""
    sql = _DRAWN_SQL.get(session.get_bind().dialect.name)
    drawn: Counter[int] = Counter()
    if sql is not None:
        drawn.update({int(qid): int(count) for qid, count in session.execute(text(sql), {"cid": cid})})
        return drawn
    papers = session.execute(select(Attempt.paper).where(Attempt.contest_id == cid, Attempt.status == "finished"))
    for (paper,) in papers:
        drawn.update(item["qid"] for item in paper)
    return drawn


def _answer_key(raw: str | None) -> str:
    """A stored answer as stable JSON (sorted letters for a multiple choice)."""
    try:
        value = json.loads(raw) if raw is not None else None
    except ValueError:
        value = raw
    if isinstance(value, list):
        value = sorted(value, key=str)
    return json.dumps(value, ensure_ascii=False)


def count_answers(session: Session, cid: int) -> int:
    return session.scalar(
        select(func.count()).select_from(Answer).join(Attempt, Answer.attempt_id == Attempt.id)
        .where(Attempt.contest_id == cid, Attempt.status == "finished")
    ) or 0


def load(session: Session, contest: Contest) -> Figures:
    units = load_units(session)
    entrants = load_entrants(session, contest.id)
    attempts = load_attempts(session, contest.id)
    ranked = standings(attempts, entrants, units, contest.ranking_mode)
    return Figures(
        contest=contest, units=units, entrants=entrants, attempts=attempts, standings=ranked,
        unit_rows=unit_participation(units, entrants, attempts, ranked),
        questions=question_analysis(session, contest.id), answers=count_answers(session, contest.id),
        fairness=fairness.load(session, contest.id, attempts),
    )
