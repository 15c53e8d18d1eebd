"""Worker tokens: unguessable, bound to one entrant and one contest, and dead the moment a purge
deletes them, in every process (each caches tokens in memory)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from contest import create_app
from contest.play import privacy
from contest.play.contests import get_contest
from contest.play.entry import hash_token
from contest.state import keys
from tests.play_support import make_bank, make_contest, make_units


@pytest.fixture
def other_process(stores, instance_dir, clock):
    """A second app on the same stores: its own memory, as another server process has."""
    other = create_app({"TESTING": True, "INSTANCE_PATH": str(instance_dir), "DATABASE_URL": stores["database_url"],
                        "REDIS_URL": stores["redis_url"], "SECRET_KEY": "test-secret", "CLOCK": clock,
                        "SOCKETIO_MESSAGE_QUEUE": False})
    yield other
    other.extensions["jd.db"].engine.dispose()


def _enter_and_finish(client, cid, unit_id, phone):
    token = client.post(f"/api/v1/contests/{cid}/entrants",
                        json={"name": "赵六", "phone": phone, "unit_id": unit_id}).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    aid = client.post(f"/api/v1/contests/{cid}/attempts", headers=headers).get_json()["attempt_id"]
    assert client.post(f"/api/v1/attempts/{aid}/submit", headers=headers).status_code == 200
    return token, headers, aid


def test_purged_token_stops_working_at_once_in_every_process(app, client, rt, clock, other_process):
    a_tokens, b_tokens = app.extensions["jd.state"].tokens, other_process.extensions["jd.state"].tokens
    assert a_tokens.wait_listening(10) and b_tokens.wait_listening(10)
    contest = make_contest(rt, make_bank(rt.session))
    unit_id = make_units(rt.session)[0].id
    token, headers, aid = _enter_and_finish(client, contest.id, unit_id, "13700000001")
    other = other_process.test_client()
    for tries in (client, client, other, other):  # known in memory of both processes after the first call
        assert tries.get(f"/api/v1/attempts/{aid}", headers=headers).status_code == 200
    assert b_tokens.known(hash_token(token)) is not None

    clock.set(get_contest(rt.session, contest.id).ends_at + timedelta(minutes=1))
    privacy.purge_personal_data(rt, contest.id)

    assert not rt.state.redis.exists(keys.token(hash_token(token)))
    refused = client.get(f"/api/v1/attempts/{aid}", headers=headers)
    assert refused.status_code == 401 and refused.get_json()["error"] == "bad_token"
    # The other process hears the revocation over Redis pub/sub: bounded wait for its delivery.
    deadline = time.monotonic() + 5
    while b_tokens.known(hash_token(token)) is not None:
        assert time.monotonic() < deadline, "the other process kept the purged token"
        time.sleep(0.01)
    refused = other.get(f"/api/v1/attempts/{aid}", headers=headers)
    assert refused.status_code == 401 and refused.get_json()["error"] == "bad_token"


def test_entering_process_knows_the_token_and_a_purge_still_ends_it(app, client, rt, clock):
    tokens = app.extensions["jd.state"].tokens
    assert tokens.wait_listening(10)
    contest = make_contest(rt, make_bank(rt.session))
    unit_id = make_units(rt.session)[0].id
    entered = client.post(f"/api/v1/contests/{contest.id}/entrants",
                          json={"name": "周九", "phone": "13700000009", "unit_id": unit_id}).get_json()
    # Known in memory from the entry on: the start that follows reads no token from Redis.
    assert tokens.known(hash_token(entered["token"])) == (entered["entrant_id"], contest.id)

    clock.set(get_contest(rt.session, contest.id).ends_at + timedelta(minutes=1))
    privacy.purge_personal_data(rt, contest.id)
    assert tokens.known(hash_token(entered["token"])) is None
    refused = client.post(f"/api/v1/contests/{contest.id}/attempts",
                          headers={"Authorization": f"Bearer {entered['token']}"})
    assert refused.status_code == 401 and refused.get_json()["error"] == "bad_token"


def test_token_is_bound_to_one_entrant_and_one_contest(client, rt):
    bank = make_bank(rt.session)
    first, second = make_contest(rt, bank), make_contest(rt, bank)
    unit_id = make_units(rt.session)[0].id
    token = client.post(f"/api/v1/contests/{first.id}/entrants",
                        json={"name": "钱七", "phone": "13700000002", "unit_id": unit_id}).get_json()["token"]
    assert len(token) >= 40  # 32 random bytes, URL-safe
    headers = {"Authorization": f"Bearer {token}"}
    wrong = client.post(f"/api/v1/contests/{second.id}/attempts", headers=headers)
    assert wrong.status_code == 403 and wrong.get_json()["error"] == "wrong_contest"
    mine = client.post(f"/api/v1/contests/{first.id}/attempts", headers=headers).get_json()["attempt_id"]
    other = client.post(f"/api/v1/contests/{first.id}/entrants",
                        json={"name": "孙八", "phone": "13700000003", "unit_id": unit_id}).get_json()["token"]
    theirs = client.get(f"/api/v1/attempts/{mine}", headers={"Authorization": f"Bearer {other}"})
    assert theirs.status_code == 403 and theirs.get_json()["error"] == "not_yours"
