"""Checking and scoring answers: pure functions over canonical questions (no Flask, no I/O)."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

from contest.errors import BadInput

LETTERS = "ABCDEFGH"
MAX_FILL_LENGTH = 200


def letter(index: int) -> str:
    return LETTERS[index]


def check_shape(qtype: str, option_count: int, answer: object) -> object:
    """The answer in its canonical form for the type, or BadInput naming what is wrong."""
    if qtype in ("single", "multiple"):
        if not isinstance(answer, list) or not all(isinstance(a, str) for a in answer):
            raise BadInput("选择题的答案应为选项字母列表，如 [\"A\"]。", field="answer")
        picked = sorted({a.strip().upper() for a in answer})
        allowed = set(LETTERS[:option_count])
        if not picked or any(a not in allowed for a in picked):
            raise BadInput("所选选项不存在。", field="answer")
        if qtype == "single" and len(picked) != 1:
            raise BadInput("单选题只能选一个选项。", field="answer")
        return picked
    if qtype == "judge":
        if not isinstance(answer, bool):
            raise BadInput("判断题的答案应为 true 或 false。", field="answer")
        return answer
    if qtype == "fill":
        if not isinstance(answer, str):
            raise BadInput("填空题的答案应为文字。", field="answer")
        text = answer.strip()
        if len(text) > MAX_FILL_LENGTH:
            raise BadInput(f"填空题答案不能超过 {MAX_FILL_LENGTH} 个字。", field="answer")
        return text
    raise BadInput("未知题型。", field="answer")


def to_bank_letters(shown: list[str], perm: list[int]) -> list[str]:
    """Letters as shown on an attempt (options shuffled by perm) back to the bank's letters."""
    return sorted(LETTERS[perm[LETTERS.index(a)]] for a in shown)


def to_shown_letters(bank: list[str], perm: list[int]) -> list[str]:
    """The bank's letters as they appear on an attempt whose options were shuffled by perm."""
    return sorted(LETTERS[perm.index(LETTERS.index(a))] for a in bank)


def fold_text(text: str) -> str:
    """Fill answers compare without width, case, or spaces: 'ＣＰＣ ' matches 'cpc'."""
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


def mark(qtype: str, key: object, answer: object, score: float, partial_credit: bool) -> tuple[bool, float]:
    """(is_correct, points) for a canonical answer against the bank's key."""
    if answer is None:
        return False, 0.0
    if qtype == "single":
        right = answer == key
        return right, score if right else 0.0
    if qtype == "multiple":
        chosen, correct = set(answer), set(key)
        if chosen == correct:
            return True, score
        if partial_credit and chosen and chosen < correct:
            return False, round(score / 2, 2)
        return False, 0.0
    if qtype == "judge":
        right = answer is key
        return right, score if right else 0.0
    if qtype == "fill":
        right = fold_text(answer) in {fold_text(k) for k in key}
        return right, score if right else 0.0
    return False, 0.0


@dataclass
class MarkedPaper:
    """An attempt's figures from its answers: what finishing stores and the audit recomputes."""

    score: float
    max_score: float
    correct: int
    # question id -> (is_correct, points), for the questions answered
    marks: dict[int, tuple[bool, float]] = field(default_factory=dict)


def mark_paper(paper: list[dict], bank: Mapping[int, object], answers: Mapping[int, object],
               partial_credit: bool) -> MarkedPaper:
    """Score a drawn paper ([{"qid", "perm"}]) against the bank, from canonical answers by question id."""
    score = max_score = 0.0
    correct = 0
    marks = {}
    for item in paper:
        question = bank[item["qid"]]
        max_score += question.score
        if item["qid"] not in answers:
            continue
        is_correct, points = mark(question.type, question.answer, answers[item["qid"]], question.score,
                                  partial_credit)
        marks[item["qid"]] = (is_correct, points)
        score += points
        correct += int(is_correct)
    return MarkedPaper(round(score, 2), round(max_score, 2), correct, marks)
