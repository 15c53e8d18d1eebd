"""Editing a stored question's text (编辑题目): a typo in a stem, an option or the explanation.

The key and the score are not edited here: they decide marks, and changing them goes through a
key correction (contest/play/corrections.py), which re-scores what was answered. The number of
options stays too: every attempt's paper shuffled the options by their count. Each edit is
recorded with who made it and every changed field before and after.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contest.banks import notation
from contest.banks.questions import stem_key
from contest.banks.reader import MAX_OPTION, MAX_STEM
from contest.errors import BadInput, Conflict, NotFound
from contest.models import AdminUser, Question, QuestionEdit

MAX_EXPLANATION = 5000
MAX_CATEGORY = 100
MAX_DIFFICULTY = 20
FIELD_NAMES = {"stem": "题目", "options": "选项", "explanation": "解析", "category": "分类", "difficulty": "难度"}


@dataclass
class Edited:
    question: Question
    record: QuestionEdit | None      # None: nothing was different


def edit_question(session: Session, qid: int, form: dict, admin_id: int | None) -> Edited:
    """Apply the form's text fields to the question and record what changed; commits.

    `form` holds stem, explanation, category, difficulty and, for a choice question, one text per
    option as option_A, option_B, …; a field left out of the form keeps its value.
    """
    question = session.get(Question, qid)
    if question is None:
        raise NotFound("题目不存在。", code="question_not_found")
    current = {"stem": question.stem, "options": list(question.options or []),
               "explanation": question.explanation or "", "category": question.category or "",
               "difficulty": question.difficulty or ""}
    wanted = {
        "stem": _text(form, "stem", current["stem"], MAX_STEM, required=True),
        "options": _options(form, current["options"]),
        "explanation": _text(form, "explanation", current["explanation"], MAX_EXPLANATION),
        "category": _text(form, "category", current["category"], MAX_CATEGORY),
        "difficulty": _text(form, "difficulty", current["difficulty"], MAX_DIFFICULTY),
    }
    changes = {name: [current[name], value] for name, value in wanted.items() if value != current[name]}
    if not changes:
        return Edited(question, None)
    if "stem" in changes:
        key = stem_key(wanted["stem"])
        twin = session.scalar(select(Question.id).where(Question.bank_id == question.bank_id,
                                                        Question.stem_key == key, Question.id != qid))
        if twin is not None:
            raise Conflict(f"题目：本题库中已有相同的题目（题目编号 {twin}），同一题库中题目不能重复。",
                           code="duplicate_stem", field="stem")
        question.stem_key = key
    for name, (_before, after) in changes.items():
        setattr(question, name, after)
    record = QuestionEdit(question_id=qid, admin_id=admin_id, changes=changes)
    session.add(record)
    try:
        session.commit()
    except IntegrityError:  # the same stem stored meanwhile by another edit or an import
        session.rollback()
        raise Conflict("题目：本题库中刚刚有了相同的题目，未保存，请刷新后再改。", code="duplicate_stem",
                       field="stem") from None
    return Edited(question, record)


def history(session: Session, qid: int) -> list[tuple[QuestionEdit, str | None]]:
    """The question's edits, newest first, with the admin's name."""
    return [tuple(row) for row in session.execute(
        select(QuestionEdit, AdminUser.username).outerjoin(AdminUser, AdminUser.id == QuestionEdit.admin_id)
        .where(QuestionEdit.question_id == qid).order_by(QuestionEdit.id.desc())
    )]


def _clean(value: object) -> str:
    return notation.printable(str(value)).replace("\r\n", "\n").replace("\r", "\n").strip()


def _text(form: dict, name: str, current: str, limit: int, required: bool = False) -> str:
    if name not in form:
        return current
    value = _clean(form[name])
    label = FIELD_NAMES[name]
    if required and not value:
        raise BadInput(f"{label}不能为空。", code="invalid_field", field=name)
    if len(value) > limit:
        raise BadInput(f"{label}超过 {limit} 字（现有 {len(value)} 字）。", code="invalid_field", field=name)
    return value


def _options(form: dict, current: list[str]) -> list[str]:
    """One text per existing option; labels typed in (A. / A、) come off as on import."""
    options = []
    for index, old in enumerate(current):
        letter = notation.LETTERS[index]
        name = f"option_{letter}"
        if name not in form:
            options.append(old)
            continue
        text = notation.strip_option_label(_clean(form[name]), letter)
        if not text:
            raise BadInput(f"选项 {letter} 不能为空（选项个数不能改变：各答卷已按 {len(current)} 个选项打乱顺序）。",
                          code="invalid_field", field=name)
        if len(text) > MAX_OPTION:
            raise BadInput(f"选项 {letter} 超过 {MAX_OPTION} 字（现有 {len(text)} 字）。", code="invalid_field", field=name)
        options.append(text)
    return options
