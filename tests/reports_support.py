"""Contests with finished attempts written straight into SQL, and readers for the workbook."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import openpyxl
import pandas as pd
from sqlalchemy import null, select

from contest.clock import contest_day
from contest.models import Answer, Attempt, Entrant, Question, Unit

_phones = iter(range(13800000000, 13899999999))


def add_entrant(session, contest, unit: Unit, name: str = "张三", phone: str | None = None) -> Entrant:
    entrant = Entrant(contest_id=contest.id, name=name, phone=phone or str(next(_phones)), unit_id=unit.id)
    session.add(entrant)
    session.flush()
    return entrant


def add_attempt(session, contest, entrant: Entrant, score: float, duration_s: float, finished_at: datetime,
                max_score: float = 10.0, answers: list[tuple[int, object, bool]] | None = None,
                qids: list[int] | None = None) -> Attempt:
    """A finished attempt; `answers` are (question id, canonical answer, is_correct)."""
    answers = answers or []
    qids = qids or [qid for qid, _, _ in answers]
    started = finished_at - timedelta(seconds=duration_s)
    used = session.scalar(select(Attempt.slot).where(Attempt.entrant_id == entrant.id,
                                                     Attempt.day == contest_day(started))
                          .order_by(Attempt.slot.desc()).limit(1)) or 0
    attempt = Attempt(contest_id=contest.id, entrant_id=entrant.id, day=contest_day(started), slot=used + 1,
                      open_marker=null(), status="finished", paper=[{"qid": q, "perm": [0, 1, 2, 3]} for q in qids],
                      paper_bank=contest.bank_id, started_at=started, deadline=started + timedelta(minutes=10),
                      finished_at=finished_at, score=score, max_score=max_score,
                      correct=sum(1 for *_, ok in answers if ok), duration_ms=round(duration_s * 1000))
    session.add(attempt)
    session.flush()
    for qid, answer, ok in answers:
        session.add(Answer(attempt_id=attempt.id, question_id=qid, answer=answer, received_at=finished_at,
                           is_correct=ok, points=1.0 if ok else 0.0))
    return attempt


def question_ids(session, bank, qtype: str) -> list[int]:
    return list(session.scalars(select(Question.id).where(Question.bank_id == bank.id, Question.type == qtype)
                                .order_by(Question.id)))


def export_bytes(rt, cid: int, **kwargs) -> bytes:
    from contest.reports.export import export_contest

    buffer = io.BytesIO()
    export_contest(rt, cid, buffer, **kwargs)
    return buffer.getvalue()


def open_book(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def read_frames(data: bytes) -> dict[str, pd.DataFrame]:
    """Every sheet through pandas, phone numbers and names kept as text."""
    return pd.read_excel(io.BytesIO(data), sheet_name=None, dtype={"手机号": str, "姓名": str})
