"""Races the server must win: concurrent copies of one answer, of one start, past the daily limit."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from contest.models import Answer, Attempt
from tests.play_support import make_bank, make_contest, make_units

COPIES = 50


def _together(app, count, call):
    """Run `call(client)` from `count` threads released at the same instant."""
    barrier = threading.Barrier(count)

    def run(_):
        client = app.test_client()
        barrier.wait()
        try:
            return call(client)
        finally:
            app.extensions["jd.db"].session.remove()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def _entrant(client, cid, unit_id):
    body = client.post(f"/api/v1/contests/{cid}/entrants",
                       json={"name": "王五", "phone": "13700000000", "unit_id": unit_id}).get_json()
    return {"Authorization": f"Bearer {body['token']}"}


def test_concurrent_starts_open_one_attempt(app, client, rt):
    contest = make_contest(rt, make_bank(rt.session))
    headers = _entrant(client, contest.id, make_units(rt.session)[0].id)
    responses = _together(app, COPIES, lambda c: c.post(f"/api/v1/contests/{contest.id}/attempts", headers=headers))
    assert {r.status_code for r in responses} <= {200, 201}
    assert sum(r.status_code == 201 for r in responses) == 1
    assert len({r.get_json()["attempt_id"] for r in responses}) == 1
    rt.session.rollback()
    assert rt.session.scalar(select(func.count()).select_from(Attempt)) == 1


def test_concurrent_copies_of_one_answer_store_one(app, client, rt):
    contest = make_contest(rt, make_bank(rt.session))
    headers = _entrant(client, contest.id, make_units(rt.session)[0].id)
    attempt = client.post(f"/api/v1/contests/{contest.id}/attempts", headers=headers).get_json()
    q = next(q for q in attempt["questions"] if q["type"] == "judge")
    url = f"/api/v1/attempts/{attempt['attempt_id']}/answers/{q['id']}"
    responses = _together(app, COPIES, lambda c: c.put(url, headers=headers, json={"answer": True}))
    assert [r.status_code for r in responses] == [200] * COPIES
    rt.session.rollback()
    assert rt.session.scalar(select(func.count()).select_from(Answer)) == 1
    assert app.extensions["jd.state"].boards.stats(contest.id)["answers"] == COPIES


def test_daily_limit_cannot_be_raced_past(app, client, rt):
    contest = make_contest(rt, make_bank(rt.session), attempts_per_day=2)
    headers = _entrant(client, contest.id, make_units(rt.session)[0].id)
    first = client.post(f"/api/v1/contests/{contest.id}/attempts", headers=headers).get_json()
    client.post(f"/api/v1/attempts/{first['attempt_id']}/submit", headers=headers)

    def start_and_submit(c):
        r = c.post(f"/api/v1/contests/{contest.id}/attempts", headers=headers)
        if r.status_code in (200, 201):
            c.post(f"/api/v1/attempts/{r.get_json()['attempt_id']}/submit", headers=headers)
        return r

    responses = _together(app, 20, start_and_submit)
    assert {r.status_code for r in responses} <= {200, 201, 429}
    rt.session.rollback()
    assert rt.session.scalar(select(func.count()).select_from(Attempt)) == 2
