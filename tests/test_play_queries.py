"""Queries on a worker's hot path read that worker's rows, not the whole contest's (SQLite's plan)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from contest.play import ranking


def _plan(rt, statement) -> str:
    compiled = statement.compile(dialect=rt.session.get_bind().dialect, compile_kwargs={"literal_binds": True})
    return " ".join(row[-1] for row in rt.session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))


def test_one_entrants_finished_attempts_are_found_by_the_entrant_index(rt):
    if rt.session.get_bind().dialect.name != "sqlite":
        pytest.skip("the plan checked here is SQLite's (PostgreSQL plans by statistics)")
    plan = _plan(rt, ranking.finished_query(1, entrant_id=5))
    # Submit runs this for every finished attempt: by (contest_id, status) it would read every
    # finished attempt of the contest (88,843 in the city contest) each time.
    assert "entrant_id=?" in plan and "contest_status" not in plan, plan
