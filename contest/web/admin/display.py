"""How questions and times read on admin pages (template filters)."""

from __future__ import annotations

from datetime import UTC, datetime

from contest.clock import CONTEST_TZ

TYPE_LABELS = {"single": "单选", "multiple": "多选", "judge": "判断", "fill": "填空"}


def question_type(kind: str) -> str:
    return TYPE_LABELS.get(kind, kind)


def answer_text(answer: object, kind: str) -> str:
    """An answer as an organizer writes it: AC, 正确/错误, or accepted texts separated by /."""
    if kind == "judge":
        return "正确" if answer is True else "错误" if answer is False else str(answer)
    if isinstance(answer, list):
        return " / ".join(map(str, answer)) if kind == "fill" else "".join(map(str, answer))
    return "" if answer is None else str(answer)


def option_letter(index: int) -> str:
    return chr(ord("A") + index)


def score_text(score: float | int | None) -> str:
    if score is None:
        return ""
    return str(int(score)) if float(score).is_integer() else f"{score:g}"


def local_time(when: datetime | str | None) -> str:
    """A moment in China Standard Time, to the minute."""
    if when is None:
        return ""
    if isinstance(when, str):
        when = datetime.fromisoformat(when)
    if when.tzinfo is None:  # stored times are UTC
        when = when.replace(tzinfo=UTC)
    return when.astimezone(CONTEST_TZ).strftime("%Y-%m-%d %H:%M")


# Registered as template filters by the admin blueprint, under these names.
FILTERS = {
    "question_type": question_type,
    "answer_text": answer_text,
    "option_letter": option_letter,
    "score_text": score_text,
    "local_time": local_time,
}
