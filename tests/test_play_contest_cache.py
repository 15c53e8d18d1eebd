"""The contest as the participants' calls read it: kept per process for contests.CACHE_SECONDS,
forgotten at once when this process changes it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from contest.models import Contest
from contest.play import contests
from tests.play_support import make_bank, make_contest, make_units
from tests.test_play_round_trips import sql_seen


def _enter(client, cid: int, unit_id: int, phone: str) -> dict:
    reply = client.post(f"/api/v1/contests/{cid}/entrants", json={"name": "王小明", "phone": phone, "unit_id": unit_id})
    assert reply.status_code == 201, reply.get_json()
    return {"Authorization": f"Bearer {reply.get_json()['token']}"}


def _start(client, cid: int, headers: dict):
    return client.post(f"/api/v1/contests/{cid}/attempts", headers=headers)


def test_a_start_reads_no_contest_row_while_the_contest_is_kept(app, client, rt):
    contest = make_contest(rt, make_bank(rt.session))
    cid, unit_id = contest.id, make_units(rt.session)[0].id
    first = _enter(client, cid, unit_id, "13900000001")  # reads the contest and keeps it
    second = _enter(client, cid, unit_id, "13900000002")
    rt.session.close()  # nothing of the test's own in a session

    with sql_seen(app) as seen:
        assert _start(client, cid, first).status_code == 201
        assert _start(client, cid, second).status_code == 201
    assert not any(s.startswith("SELECT contests.") for s in seen["statements"]), seen


def test_an_organizers_change_in_this_process_is_seen_at_once(app, client, rt):
    contest = make_contest(rt, make_bank(rt.session))
    cid, unit_id = contest.id, make_units(rt.session)[0].id
    first = _enter(client, cid, unit_id, "13900000001")
    second = _enter(client, cid, unit_id, "13900000002")
    assert _start(client, cid, first).status_code == 201  # the contest is kept now

    closed_at = rt.clock.now() - timedelta(minutes=1)
    rt.session.close()

    # Closed early, through the ORM in a session of its own, as an admin page's request writes it.
    with Session(app.extensions["jd.db"].engine) as organizer:
        organizer.get(Contest, cid).ends_at = closed_at
        organizer.commit()
    reply = _start(client, cid, second)
    assert (reply.status_code, reply.get_json()["error"]) == (403, "contest_closed")


def test_a_copy_kept_between_the_change_and_its_commit_is_forgotten_at_the_commit(app, client, rt):
    contest = make_contest(rt, make_bank(rt.session))
    cid, unit_id = contest.id, make_units(rt.session)[0].id
    worker = _enter(client, cid, unit_id, "13900000001")
    closed_at = rt.clock.now() - timedelta(minutes=1)
    rt.session.close()

    with Session(app.extensions["jd.db"].engine) as organizer:
        organizer.get(Contest, cid).ends_at = closed_at
        organizer.flush()  # written, not yet committed: a request now reads and keeps the old row
        assert client.get(f"/api/v1/contests/{cid}").get_json()["status"] == "open"
        organizer.commit()
    reply = _start(client, cid, worker)
    assert (reply.status_code, reply.get_json()["error"]) == (403, "contest_closed")


def test_a_change_made_elsewhere_is_seen_once_the_copy_expires(app, client, rt, monkeypatch):
    contest = make_contest(rt, make_bank(rt.session))
    cid, unit_id = contest.id, make_units(rt.session)[0].id
    first = _enter(client, cid, unit_id, "13900000001")
    second = _enter(client, cid, unit_id, "13900000002")
    assert _start(client, cid, first).status_code == 201
    closed_at = rt.clock.now() - timedelta(minutes=1)
    rt.session.close()  # the test's session holds no contest the requests' could share

    # Another process closes the contest: on a connection of its own, unseen by this process's ORM.
    with app.extensions["jd.db"].engine.begin() as connection:
        connection.execute(update(Contest).where(Contest.id == cid).values(ends_at=closed_at))
    # Within CACHE_SECONDS this process still starts attempts, as if the start had come that much earlier ...
    assert _start(client, cid, second).status_code == 201
    # ... and once its copy is older than that, it reads the contest again.
    monkeypatch.setattr(contests, "CACHE_SECONDS", 0.0)
    reply = _start(client, cid, second)
    assert (reply.status_code, reply.get_json()["error"]) == (403, "contest_closed")


def test_the_settings_copy_is_of_no_session_and_follows_a_change(app, rt):
    from sqlalchemy.orm import object_session

    cid = make_contest(rt, make_bank(rt.session)).id
    rt.session.close()
    kept = contests.contest_settings(rt.session, cid)
    assert object_session(kept) is None  # a request's rollback or commit cannot expire it
    assert contests.contest_settings(rt.session, cid) is kept  # read from SQL once
    with Session(app.extensions["jd.db"].engine) as organizer:
        organizer.get(Contest, cid).attempts_per_day = 7
        organizer.commit()
    assert contests.contest_settings(rt.session, cid).attempts_per_day == 7
