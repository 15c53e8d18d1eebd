"""Database round trips on a worker's hot path: each one waits on the network and, under gevent,
behind every other ready request, so their number is part of the latency at a peak."""

from __future__ import annotations

import threading
from contextlib import contextmanager

import redis.connection
from sqlalchemy import event, func, select

from contest.models import Answer, Attempt, EntrantToken, EntryOrigin
from contest.state import keys
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


@contextmanager
def redis_sends(monkeypatch):
    """Commands (or pipelines) this thread sends to Redis inside the block, each as its first word."""
    sent: list[str] = []
    send = redis.connection.AbstractConnection.send_packed_command
    here = threading.get_ident()

    def counting(connection, command, check_health=True):
        if threading.get_ident() == here:
            first = command[0] if isinstance(command, list) else command
            sent.append(bytes(first).split(b"\r\n")[2].decode())
        return send(connection, command, check_health)

    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counting)
    try:
        yield sent
    finally:
        monkeypatch.undo()


def test_an_answer_is_one_redis_call_and_one_statement(app, client, rt, monkeypatch):
    """The hot path: the allowances, the cached attempt and the monitor's count are one script in
    Redis (its counters under the contest's hash tag, so it also runs on a cluster); the answer and
    its audit-log row are written by one statement on PostgreSQL, two on SQLite."""
    contest = make_contest(rt, make_bank(rt.session))
    unit_id = make_units(rt.session)[0].id
    entered = client.post(f"/api/v1/contests/{contest.id}/entrants",
                          json={"name": "王小明", "phone": "13912345678", "unit_id": unit_id}).get_json()
    headers = {"Authorization": f"Bearer {entered['token']}"}
    attempt = client.post(f"/api/v1/contests/{contest.id}/attempts", headers=headers).get_json()
    first, second = attempt["questions"][:2]
    url = f"/api/v1/attempts/{attempt['attempt_id']}/answers/"
    assert client.put(url + str(first["id"]), headers=headers,  # loads the script into Redis
                      json={"answer": right_answer(rt.session, first)}).status_code == 200
    answer = right_answer(rt.session, second)
    rt.session.close()

    with redis_sends(monkeypatch) as sent, sql_seen(app) as seen:
        saved = client.put(url + str(second["id"]), headers=headers, json={"answer": answer})
    assert saved.status_code == 200, saved.get_json()
    assert sent == ["EVALSHA"], sent
    postgresql = rt.session.get_bind().dialect.name == "postgresql"
    assert len(seen["statements"]) == (1 if postgresql else 2), seen
    # Both answers counted on the monitor, and the worker's allowance counted in the contest's slot.
    assert rt.state.boards.stats(contest.id)["answers"] == 2
    assert sum(rt.state.boards.per_minute(contest.id).values()) == 2
    counter = keys.contest_limit(contest.id, "answer:who", str(entered["entrant_id"]))
    assert int(rt.state.redis.get(counter)) == 2 and f"{{c{contest.id}}}" in counter


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
    # the entrant's standing: one transaction. SQLite takes its writer lock by a no-op write, which
    # returns the row.
    assert seen["begins"] == 1, seen
    assert not any(s.startswith("SELECT contests.") for s in seen["statements"]), seen
    # On PostgreSQL the marks and the close are one statement (a CTE): 4 in all.
    sqlite = rt.session.get_bind().dialect.name == "sqlite"
    assert len(seen["statements"]) == (5 if sqlite else 4), seen

    # ... and every mark and the closed attempt are stored, as the result said.
    rt.session.expire_all()
    stored = rt.session.get(Attempt, attempt["attempt_id"])
    assert (stored.status, stored.score, stored.correct, stored.open_marker) == (
        "finished", body["score"], body["correct"], None)
    assert stored.duration_ms == body["duration_ms"] and stored.finished_at is not None
    marks = rt.session.execute(select(Answer.is_correct, Answer.points).where(Answer.attempt_id == stored.id)).all()
    assert len(marks) == len(attempt["questions"]) and all(ok is True and points > 0 for ok, points in marks)


def _kinds(seen) -> list[str]:
    """Each statement's kind and table: "INSERT INTO entrants", "SELECT entrants.id", "WITH first_row"."""
    return [" ".join(s.split(" (")[0].split(" FROM")[0].split()[:3]) for s in seen["statements"]]


def test_entry_writes_without_reading_first(app, client, rt):
    """A new entrant costs its INSERTs (entrant, token, origin) in one transaction: the unit is checked
    against the process's copy of the units and the phone by ON CONFLICT, not by reads; on PostgreSQL
    the token and its origin are one statement. The same phone again reads its entrant once and gets
    a new token for the same entrant."""
    contest = make_contest(rt, make_bank(rt.session))
    unit_id = make_units(rt.session)[0].id
    assert client.get(f"/api/v1/contests/{contest.id}/units").status_code == 200  # the page loads the picker
    rt.session.close()
    body = {"name": "王小明", "phone": "13912345678", "unit_id": unit_id}
    postgresql = rt.session.get_bind().dialect.name == "postgresql"
    token_and_origin = ["WITH first_row AS"] if postgresql else ["INSERT INTO entrant_tokens",
                                                                 "INSERT INTO entry_origins"]

    with sql_seen(app) as seen:
        first = client.post(f"/api/v1/contests/{contest.id}/entrants", json=body)
    assert first.status_code == 201, first.get_json()
    assert seen["begins"] == 1, seen
    assert _kinds(seen) == ["INSERT INTO entrants", *token_and_origin], seen

    with sql_seen(app) as seen:
        again = client.post(f"/api/v1/contests/{contest.id}/entrants", json=body)
    assert again.status_code == 201, again.get_json()
    assert _kinds(seen) == ["INSERT INTO entrants", "SELECT entrants.id", *token_and_origin], seen
    assert again.get_json()["entrant_id"] == first.get_json()["entrant_id"]
    assert again.get_json()["token"] != first.get_json()["token"]
    origins = rt.session.execute(select(EntryOrigin.entrant_id, EntryOrigin.attempt_id)).all()
    assert origins == [(first.get_json()["entrant_id"], None)] * 2
    assert rt.session.scalar(select(func.count()).select_from(EntrantToken)) == 2

    # A new attempt: today's attempts read, then the attempt and its origin (one statement on PostgreSQL).
    headers = {"Authorization": f"Bearer {again.get_json()['token']}"}
    rt.session.close()  # the request's session is this one (the same thread): no transaction of the test's
    with sql_seen(app) as seen:
        started = client.post(f"/api/v1/contests/{contest.id}/attempts", headers=headers)
    assert started.status_code == 201, started.get_json()
    assert seen["begins"] == 1, seen
    assert _kinds(seen) == ["SELECT attempts.id, attempts.status,", *(["WITH first_row AS"] if postgresql else [
        "INSERT INTO attempts", "INSERT INTO entry_origins"])], seen
    rt.session.expire_all()
    newest = rt.session.execute(select(EntryOrigin.entrant_id, EntryOrigin.attempt_id, EntryOrigin.seen_at)
                                .order_by(EntryOrigin.id.desc())).first()
    assert newest[:2] == (first.get_json()["entrant_id"], started.get_json()["attempt_id"])
    assert newest.seen_at is not None
    attempt = rt.session.get(Attempt, started.get_json()["attempt_id"])
    assert (attempt.status, attempt.slot, attempt.open_marker, len(attempt.paper)) == (
        "open", 1, 1, len(started.get_json()["questions"]))
