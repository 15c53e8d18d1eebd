"""Writing accepted answers to SQL, each with its audit-log row (group commits under gevent:
contest/group_commit.py). An acknowledged answer is in SQL before its 200 leaves."""

from __future__ import annotations

from sqlalchemy import Integer, bindparam, insert, select
from sqlalchemy.engine import Connection, Engine

from contest import group_commit
from contest.models import Answer, AnswerLog, Attempt

_ANSWERS = Answer.__table__
_LOG = AnswerLog.__table__
_LOG_STATEMENT = insert(_LOG).values(
    contest_id=bindparam("contest", type_=Integer), entrant_id=bindparam("entrant", type_=Integer),
    attempt_id=bindparam("aid", type_=Integer), question_id=bindparam("qid", type_=Integer),
    answer=bindparam("answer", type_=_LOG.c.answer.type), received_at=bindparam("now", type_=_LOG.c.received_at.type),
)
_ACCEPT: dict[str, object] = {}


def _accept_statement(dialect: str):
    """INSERT the answer only while its attempt is open and the caller's, as one statement.

    One row per attempt and question (a unique constraint): repeats overwrite, never
    duplicate. The attempt is read in the same statement that writes: under SQLite's write
    lock, or with a share lock on PostgreSQL, so finish() (which locks the attempt for
    update) either waits for this answer and scores it, or closes first and this stores nothing.
    RETURNING tells which: psycopg reports no row count for it (-1).
    """
    if dialect not in _ACCEPT:
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as upsert
        else:
            from sqlalchemy.dialects.sqlite import insert as upsert
        source = select(
            bindparam("aid", type_=Integer), bindparam("qid", type_=Integer),
            bindparam("answer", type_=_ANSWERS.c.answer.type), bindparam("now", type_=_ANSWERS.c.received_at.type),
        ).where(Attempt.id == bindparam("aid"), Attempt.status == "open",
                Attempt.entrant_id == bindparam("entrant")).with_for_update(read=True)
        statement = upsert(_ANSWERS).from_select(["attempt_id", "question_id", "answer", "received_at"], source)
        _ACCEPT[dialect] = statement.on_conflict_do_update(
            index_elements=["attempt_id", "question_id"],
            set_={"answer": statement.excluded.answer, "received_at": statement.excluded.received_at},
        ).returning(_ANSWERS.c.id)
    return _ACCEPT[dialect]


def write_rows(connection: Connection, rows: list[dict]) -> list[bool]:
    """Store each answer (aid, qid, answer, now, entrant, contest) and log the stored ones, in
    the caller's transaction; whether each was stored (False: its attempt is closed or not the caller's)."""
    accept = _accept_statement(connection.dialect.name)
    stored = [connection.execute(accept, row).first() is not None for row in rows]
    logged = [row for row, ok in zip(rows, stored, strict=True) if ok]
    if logged:
        connection.execute(_LOG_STATEMENT, logged)
    return stored


def _order(row: dict) -> tuple[int, int]:
    return row["aid"], row["qid"]


def store(engine: Engine, row: dict) -> bool:
    """Store one answer with its log row, committed before this returns; whether it was stored."""
    return group_commit.store(engine, write_rows, row, order=_order)


def writer(engine: Engine) -> group_commit.GroupCommit:
    """A group-commit writer of answers (what store() uses under gevent)."""
    return group_commit.GroupCommit(engine, write_rows, order=_order)
