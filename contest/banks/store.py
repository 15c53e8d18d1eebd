"""Storing a read bank: all or nothing, and no stem twice in one bank."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contest.banks.questions import TYPES, Fault, LoadResult
from contest.errors import Conflict, NotFound
from contest.models import Answer, Bank, Contest, Game, GameAnswer, Question


class BankRefused(Conflict):
    """Nothing was stored: the file has faults, or the bank changed underneath."""

    code = "bank_refused"


def check_against_bank(session: Session, result: LoadResult, bank_id: int | None) -> LoadResult:
    """The same result, plus a fault for each question whose stem is already in that bank."""
    if bank_id is None:
        return result
    existing = set(session.scalars(select(Question.stem_key).where(Question.bank_id == bank_id)))
    checked = LoadResult(faults=list(result.faults))
    for row in result.rows:
        question = row["question"]
        faults = list(row["faults"])
        if question is not None and not faults and question.stem_key in existing:
            fault = Fault(row["row"], "题目在这个题库中已经存在", row["sheet"])
            faults.append(fault)
            checked.faults.append(fault)
        checked.rows.append({**row, "faults": faults})
        if question is not None and not faults:
            checked.questions.append(question)
    return checked


def store_bank(session: Session, result: LoadResult, name: str, bank_id: int | None = None,
               source_file: str | None = None) -> Bank:
    """Store every question of a faultless result into a new bank (or add them to `bank_id`)."""
    result = check_against_bank(session, result, bank_id)
    if result.faults:
        raise BankRefused(f"文件中有 {len(result.faults)} 处问题，未导入任何题目。")
    if not result.questions:
        raise BankRefused("文件中没有题目，未导入任何题目。")
    try:
        if bank_id is None:
            bank = Bank(name=name, source_file=source_file)
            session.add(bank)
            session.flush()
        else:
            bank = session.get(Bank, bank_id)
            if bank is None:
                raise BankRefused("要追加题目的题库不存在。")
        rows = [
            {**replace(question, row=None).canonical(), "score": float(question.score), "bank_id": bank.id,
             "stem_key": question.stem_key, "source_row": question.row}
            for question in result.questions
        ]
        session.execute(insert(Question), rows)
        session.commit()
    except IntegrityError:
        session.rollback()  # a concurrent import stored one of these stems first (or took the name)
        raise BankRefused("导入时题库发生了变化（题目重复或名称已被占用），未导入任何题目，请重新上传。") from None
    except BaseException:
        session.rollback()
        raise
    from contest.play.papers import BANKS  # late: play depends on banks, not the other way

    BANKS.forget(bank.id)
    return bank


def bank_users(session: Session, bank_id: int) -> list[str]:
    """What keeps a bank: the contests and live games drawing from it, and any answers to its
    questions (a contest may have moved to another bank after it was played)."""
    users = [f"竞赛「{title}」" for title in session.scalars(select(Contest.title).where(Contest.bank_id == bank_id))]
    users += [f"现场竞赛「{title}」" for title in session.scalars(select(Game.title).where(Game.bank_id == bank_id))]
    questions = select(Question.id).where(Question.bank_id == bank_id)
    for table, what in ((Answer, "竞赛作答记录"), (GameAnswer, "现场竞赛作答记录")):
        if session.scalar(select(table.id).where(table.question_id.in_(questions)).limit(1)) is not None:
            users.append(what)
    return users


def delete_bank(session: Session, bank_id: int) -> str:
    """Delete a bank nothing uses, with its questions and their records; returns its name."""
    bank = session.get(Bank, bank_id)
    if bank is None:
        raise NotFound("题库不存在。", code="bank_not_found")
    users = bank_users(session, bank_id)
    if users:
        raise Conflict(f"题库「{bank.name}」不能删除：{'、'.join(users[:5])}{' 等' if len(users) > 5 else ''}"
                       "仍在使用它（成绩和回顾要用到其中的题目）。", code="bank_in_use")
    name = bank.name
    try:
        # Questions and their edit and correction records go with the bank (ON DELETE CASCADE).
        session.execute(delete(Question).where(Question.bank_id == bank_id))
        session.execute(delete(Bank).where(Bank.id == bank_id))
        session.commit()
    except IntegrityError:  # a contest or an answer took it up after the check: it stays
        session.rollback()
        raise Conflict(f"题库「{name}」刚刚开始被使用，未删除。", code="bank_in_use") from None
    from contest.play.papers import BANKS  # late: play depends on banks, not the other way

    BANKS.forget(bank_id)
    return name


def bank_summaries(session: Session) -> list[dict]:
    """Every bank with its question count by type, newest first."""
    counts: dict[int, dict[str, int]] = {}
    for bank_id, kind, count in session.execute(
        select(Question.bank_id, Question.type, func.count()).group_by(Question.bank_id, Question.type)
    ):
        counts.setdefault(bank_id, dict.fromkeys(TYPES, 0))[kind] = count
    summaries = []
    for bank in session.scalars(select(Bank).order_by(Bank.id.desc())):
        by_type = counts.get(bank.id, dict.fromkeys(TYPES, 0))
        summaries.append({"id": bank.id, "name": bank.name, "questions": sum(by_type.values()),
                          "by_type": by_type, "created_at": bank.created_at, "source_file": bank.source_file})
    return summaries
