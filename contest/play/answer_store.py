"""Writing accepted answers to SQL, each with its audit-log row (group commits under gevent:
contest/group_commit.py). An acknowledged answer is in SQL before its 200 leaves."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC

from sqlalchemy import Integer, bindparam, insert, select, text
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


# On PostgreSQL a whole batch is accepted and logged by one statement, run on its own (autocommit)
# by the group-commit writer: one round trip. Row by row, each answer was a round trip (with BEGIN
# and COMMIT around them), and under load the writer greenlet waited behind every request greenlet
# after each one (answer p50 1.1 s at 280 answers/s in the city replay). The statement is one
# transaction: the FOR SHARE lock on each attempt holds until it commits, as finish() requires.
_ACCEPT_AND_LOG = text("""
WITH v AS (
    SELECT * FROM unnest(CAST(:aids AS integer[]), CAST(:qids AS integer[]), CAST(:answers AS json[]),
                         CAST(:nows AS timestamp[]), CAST(:entrants AS integer[]), CAST(:contests AS integer[]),
                         CAST(:seqs AS integer[])) AS v(aid, qid, answer, now, entrant, contest, seq)
), last AS (  -- of several answers to one question in the batch, the last one is written
    SELECT DISTINCT ON (aid, qid) * FROM v ORDER BY aid, qid, seq DESC
), accepted AS (
    INSERT INTO answers (attempt_id, question_id, answer, received_at)
    SELECT last.aid, last.qid, last.answer, last.now FROM last
    JOIN attempts ON attempts.id = last.aid AND attempts.status = 'open' AND attempts.entrant_id = last.entrant
    ORDER BY last.aid, last.qid
    FOR SHARE OF attempts
    ON CONFLICT (attempt_id, question_id) DO UPDATE SET answer = excluded.answer, received_at = excluded.received_at
    RETURNING attempt_id, question_id
), logged AS (  -- every answer of an accepted question is logged, in arrival order
    INSERT INTO answer_log (contest_id, entrant_id, attempt_id, question_id, answer, received_at)
    SELECT v.contest, v.entrant, v.aid, v.qid, v.answer, v.now FROM v
    JOIN accepted ON accepted.attempt_id = v.aid AND accepted.question_id = v.qid
    ORDER BY v.seq
)
SELECT attempt_id, question_id FROM accepted
""")


def write_rows(connection: Connection, rows: list[dict]) -> list[bool]:
    """Store each answer (aid, qid, answer, now, entrant, contest) and log the stored ones, in
    the caller's transaction (on PostgreSQL: in one statement, so also without one); whether each
    was stored (False: its attempt is closed or not the caller's)."""
    if connection.dialect.name == "postgresql":
        if _one_entrant_per_attempt(rows):
            return _accept_and_log(connection, rows)
        return [_accept_and_log(connection, [row])[0] for row in rows]  # never in practice: keep them apart
    if SQLITE_BATCHES and len(rows) > 1 and _one_entrant_per_attempt(rows):
        return _accept_and_log_sqlite(connection, rows)
    accept = _accept_statement(connection.dialect.name)
    stored = [connection.execute(accept, row).first() is not None for row in rows]
    logged = [row for row, ok in zip(rows, stored, strict=True) if ok]
    if logged:
        connection.execute(_LOG_STATEMENT, logged)
    return stored


# On SQLite a batch is accepted, and then logged, by one statement each: the rows go in as one
# JSON array, read back with json_each (SQLite has no arrays to unnest). Row by row, SQLAlchemy's
# work around each INSERT cost more than SQLite's: 7 % of the server's time in contest_load's mix.
# The values are bound as the columns' types would bind them, so they are stored exactly alike.
# `WHERE` is required: without it SQLite would read ON CONFLICT as a join's ON.
# json_each is part of every SQLite from 3.38 (before, only where it was compiled in): an older
# one writes row by row.
SQLITE_BATCHES = sqlite3.sqlite_version_info >= (3, 38, 0)
_ACCEPT_BATCH_SQLITE = """
INSERT INTO answers (attempt_id, question_id, answer, received_at)
SELECT json_extract(v.value, '$[0]'), json_extract(v.value, '$[1]'), json_extract(v.value, '$[2]'),
       json_extract(v.value, '$[3]')
FROM json_each(?) AS v
WHERE EXISTS (SELECT 1 FROM attempts WHERE attempts.id = json_extract(v.value, '$[0]')
              AND attempts.status = 'open' AND attempts.entrant_id = json_extract(v.value, '$[4]'))
ORDER BY v.key
ON CONFLICT (attempt_id, question_id) DO UPDATE SET answer = excluded.answer, received_at = excluded.received_at
RETURNING attempt_id, question_id
"""
_LOG_BATCH_SQLITE = """
INSERT INTO answer_log (contest_id, entrant_id, attempt_id, question_id, answer, received_at)
SELECT json_extract(v.value, '$[5]'), json_extract(v.value, '$[4]'), json_extract(v.value, '$[0]'),
       json_extract(v.value, '$[1]'), json_extract(v.value, '$[2]'), json_extract(v.value, '$[3]')
FROM json_each(?) AS v
ORDER BY v.key
"""


def _accept_and_log_sqlite(connection: Connection, rows: list[dict]) -> list[bool]:
    """SQLite: store the batch in its order (of two answers to one question the later counts) and
    log the stored rows in that order; whether each row was stored. Every row of one attempt has
    one entrant (the caller checks), so the (attempt, question) pairs written tell which rows were."""
    dialect = connection.dialect
    as_json = _ANSWERS.c.answer.type.dialect_impl(dialect).bind_processor(dialect)
    as_time = _ANSWERS.c.received_at.type.dialect_impl(dialect).bind_processor(dialect)
    values = [[row["aid"], row["qid"], as_json(row["answer"]), as_time(row["now"]), row["entrant"], row["contest"]]
              for row in rows]
    written = {tuple(key) for key in connection.exec_driver_sql(_ACCEPT_BATCH_SQLITE, (_json_array(values),))}
    stored = [(value[0], value[1]) in written for value in values]
    logged = [value for value, ok in zip(values, stored, strict=True) if ok]
    if logged:
        connection.exec_driver_sql(_LOG_BATCH_SQLITE, (_json_array(logged),))
    return stored


def _json_array(values: list[list]) -> str:
    return json.dumps(values, ensure_ascii=False)


def _one_entrant_per_attempt(rows: list[dict]) -> bool:
    owners: dict[int, int] = {}
    return all(owners.setdefault(row["aid"], row["entrant"]) == row["entrant"] for row in rows)


def _accept_and_log(connection: Connection, rows: list[dict]) -> list[bool]:
    params = {"aids": [], "qids": [], "answers": [], "nows": [], "entrants": [], "contests": [], "seqs": []}
    for seq, row in enumerate(rows):
        params["aids"].append(row["aid"])
        params["qids"].append(row["qid"])
        params["answers"].append(json.dumps(row["answer"]))
        params["nows"].append(row["now"].astimezone(UTC).replace(tzinfo=None))  # as UTCDateTime stores it
        params["entrants"].append(row["entrant"])
        params["contests"].append(row["contest"])
        params["seqs"].append(seq)
    written = {tuple(key) for key in connection.execute(_ACCEPT_AND_LOG, params)}
    return [(row["aid"], row["qid"]) in written for row in rows]


def _order(row: dict) -> tuple[int, int]:
    return row["aid"], row["qid"]


def store(engine: Engine, row: dict) -> bool:
    """Store one answer with its log row, committed before this returns; whether it was stored."""
    return group_commit.store(engine, write_rows, row, order=_order, autocommit=_single_statement(engine))


def writer(engine: Engine) -> group_commit.GroupCommit:
    """A group-commit writer of answers (what store() uses under gevent)."""
    return group_commit.GroupCommit(engine, write_rows, order=_order, autocommit=_single_statement(engine))


def _single_statement(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"
