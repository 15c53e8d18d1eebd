"""Database round trips on a worker's hot path: each one waits on the network and, under gevent,
behind every other ready request, so their number is part of the latency at a peak."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event, select

from contest.models import Answer, Attempt
from tests.play_support import make_bank, make_contest, make_units, right_answer


@contextmanager
def sql_seen(app):
    """Statements and transactions the app's engine runs inside the block."""
    engine = app.extensions["jd.db"].engine
    seen = {"statements": [], "begins": 0}

    def on_statement(conn, cursor, statement, parameters, context, executemany):
        seen["statements"].append(" ".join(statement.split())[:90])

    def on_begin(conn):
        seen["begins"] += 1

    event.listen(engine, "before_cursor_execute", on_statement)
    event.listen(engine, "begin", on_begin)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", on_statement)
        event.remove(engine, "begin", on_begin)


def test_submit_is_one_transaction(app, client, rt):
    contest = make_contest(rt, make_bank(rt.session))
    unit_id = make_units(rt.session)[0].id
    token = client.post(f"/api/v1/contests/{contest.id}/entrants",
                        json={"name": "王小明", "phone": "13912345678", "unit_id": unit_id}).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    attempt = client.post(f"/api/v1/contests/{contest.id}/attempts", headers=headers).get_json()
    for q in attempt["questions"]:
        client.put(f"/api/v1/attempts/{attempt['attempt_id']}/answers/{q['id']}", headers=headers,
                   json={"answer": right_answer(rt.session, q)})
    client.get(f"/api/v1/contests/{contest.id}/leaderboard")  # the board built, as it is after the first
    # Nothing of the test's own stays in the session: a server's request holds only what it loaded,
    # and an object nobody holds leaves the session's (weak) identity map at once.
    rt.session.close()
    del contest

    with sql_seen(app) as seen:
        body = client.post(f"/api/v1/attempts/{attempt['attempt_id']}/submit", headers=headers).get_json()
    assert body["rank"] == 1 and body["best_score"] == body["score"] > 0
    # Lock the attempt (its unit and contest with it), read its answers, mark them, close it, read
    # the entrant's standing: one transaction. SQLite takes its writer lock by a no-op write first.
    assert seen["begins"] == 1, seen
    assert not any(s.startswith("SELECT contests.") for s in seen["statements"]), seen
    # On PostgreSQL the marks and the close are one statement (a CTE): 4 in all.
    sqlite = rt.session.get_bind().dialect.name == "sqlite"
    assert len(seen["statements"]) == (6 if sqlite else 4), seen

    # ... and every mark and the closed attempt are stored, as the result said.
    rt.session.expire_all()
    stored = rt.session.get(Attempt, attempt["attempt_id"])
    assert (stored.status, stored.score, stored.correct, stored.open_marker) == (
        "finished", body["score"], body["correct"], None)
    assert stored.duration_ms == body["duration_ms"] and stored.finished_at is not None
    marks = rt.session.execute(select(Answer.is_correct, Answer.points).where(Answer.attempt_id == stored.id)).all()
    assert len(marks) == len(attempt["questions"]) and all(ok is True and points > 0 for ok, points in marks)


def test_entry_writes_without_reading_first(app, client, rt):
    """A new entrant costs its three INSERTs (entrant, token, origin) in one transaction: the unit is
    checked against the process's copy of the units and the phone by ON CONFLICT, not by reads.
    The same phone again reads its entrant once and gets a new token for the same entrant."""
    contest = make_contest(rt, make_bank(rt.session))
    unit_id = make_units(rt.session)[0].id
    assert client.get(f"/api/v1/contests/{contest.id}/units").status_code == 200  # the page loads the picker
    rt.session.close()
    body = {"name": "王小明", "phone": "13912345678", "unit_id": unit_id}

    with sql_seen(app) as seen:
        first = client.post(f"/api/v1/contests/{contest.id}/entrants", json=body)
    assert first.status_code == 201, first.get_json()
    assert seen["begins"] == 1, seen
    assert [s.split(" (")[0] for s in seen["statements"]] == [
        "INSERT INTO entrants", "INSERT INTO entrant_tokens", "INSERT INTO entry_origins"], seen

    with sql_seen(app) as seen:
        again = client.post(f"/api/v1/contests/{contest.id}/entrants", json=body)
    assert again.status_code == 201, again.get_json()
    assert [s.split(" (")[0].split(" FROM")[0] for s in seen["statements"]] == [
        "INSERT INTO entrants", "SELECT entrants.id", "INSERT INTO entrant_tokens", "INSERT INTO entry_origins"], seen
    assert again.get_json()["entrant_id"] == first.get_json()["entrant_id"]
    assert again.get_json()["token"] != first.get_json()["token"]
