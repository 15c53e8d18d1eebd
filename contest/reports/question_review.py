"""题目分析 on a contest's admin page: the questions answered right least often first, the
possible wrong keys marked, each a click away from 更正答案 (the workbook's sheet, on screen)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy.orm import Session

from contest.reports.figures import SUSPECT_MIN_DRAWN, SUSPECT_RATE, question_analysis
from contest.reports.workbook import answer_label

# The page lists this many; the workbook's 题目分析 sheet has them all.
SHOWN = 200


@dataclass
class QuestionRow:
    id: int
    type: str
    category: str
    stem: str
    key: str
    drawn: int
    correct: int
    rate: float
    wrong: str | None       # the wrong answer chosen most often
    wrong_count: int
    suspect: bool


@dataclass
class Review:
    rows: list[QuestionRow]
    drawn: int       # questions drawn in finished attempts
    suspects: int
    min_drawn: int = SUSPECT_MIN_DRAWN
    suspect_rate: float = SUSPECT_RATE


def review(session: Session, cid: int, shown: int = SHOWN) -> Review:
    frame = question_analysis(session, cid)
    rows = [
        QuestionRow(int(r.question_id), r.type, r.category or "", r.stem, answer_label(r.type, r.answer, r.options),
                    int(r.drawn), int(r.correct), float(r.rate),
                    answer_label(r.type, json.loads(r.wrong_answer), r.options) if isinstance(r.wrong_answer, str)
                    else None, int(r.wrong_count), bool(r.suspect))
        for r in frame.head(shown).itertuples(index=False)
    ]
    return Review(rows, len(frame), int(frame["suspect"].sum()) if len(frame) else 0)
