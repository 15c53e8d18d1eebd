"""Writing live-game answers to SQL, in SQL before acknowledged (group commits under gevent:
contest/group_commit.py). A row already stored (a repeat after a Redis rebuild took it from
SQL) is left as it is."""

from __future__ import annotations

from sqlalchemy.engine import Connection, Engine

from contest import group_commit
from contest.models import GameAnswer

_TABLE = GameAnswer.__table__
_STATEMENTS: dict[str, object] = {}


def _insert(dialect: str):
    if dialect not in _STATEMENTS:
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        _STATEMENTS[dialect] = insert(_TABLE).on_conflict_do_nothing(index_elements=["player_id", "question_index"])
    return _STATEMENTS[dialect]


def write_rows(connection: Connection, rows: list[dict]) -> list[None]:
    """Insert answer rows (GameAnswer columns) in the caller's transaction; repeats change nothing."""
    connection.execute(_insert(connection.dialect.name), rows)
    return [None] * len(rows)


def store(engine: Engine, row: dict) -> None:
    """Store one answer row, committed before this returns."""
    group_commit.store(engine, write_rows, row)
