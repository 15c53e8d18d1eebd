"""Two server processes on one Redis and one database: state and broadcasts are shared."""

from __future__ import annotations

import queue

import httpx
import pytest
import socketio

from tests.play_support import (
    make_bank,
    make_contest,
    make_units,
    next_board_with_entries,
    play_full_attempt,
)
from tests.server_process import ServerProcess


@pytest.fixture
def two_servers(app, rt, stores, tmp_path):
    contest = make_contest(rt, make_bank(rt.session))
    unit = make_units(rt.session)[0]
    rt.session.commit()
    env = {"DATABASE_URL": stores["database_url"], "REDIS_URL": stores["redis_url"], "LIVE_PUSH_INTERVAL": "0.1"}
    servers = [ServerProcess(tmp_path, env=env).start(), ServerProcess(tmp_path, env=env).start()]
    yield servers, contest.id, unit.id
    for server in servers:
        server.stop()


def test_live_client_on_b_sees_answers_made_on_a(two_servers, rt):
    (a, b), cid, unit_id = two_servers
    frames: queue.Queue = queue.Queue()
    client = socketio.Client()
    client.on("leaderboard", frames.put, namespace="/live")
    client.connect(b.url, namespaces=["/live"], transports=["websocket"])
    try:
        ack = client.call("join", {"contest": cid}, namespace="/live", timeout=10)
        assert ack == {"joined": cid}
        assert frames.get(timeout=10)["entries"] == []  # the board sent on join

        with httpx.Client(base_url=a.url, timeout=10) as http:
            result = play_full_attempt(http, rt.session, cid, unit_id, "周九", "13200000000")

        board = next_board_with_entries(frames)
        assert board["entries"][0] == {"rank": 1, "name": "周*", "unit": "测试单位0",
                                       "score": result["score"], "duration_ms": result["duration_ms"]}
    finally:
        client.disconnect()


def test_attempt_started_on_a_continues_on_b(two_servers):
    (a, b), cid, unit_id = two_servers
    token = httpx.post(f"{a.url}/api/v1/contests/{cid}/entrants",
                       json={"name": "吴十", "phone": "13200000001", "unit_id": unit_id}).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    started = httpx.post(f"{a.url}/api/v1/contests/{cid}/attempts", headers=headers).json()
    judge = next(q for q in started["questions"] if q["type"] == "judge")
    assert httpx.put(f"{a.url}/api/v1/attempts/{started['attempt_id']}/answers/{judge['id']}", headers=headers,
                     json={"answer": True}).status_code == 200
    resumed = httpx.post(f"{b.url}/api/v1/contests/{cid}/attempts", headers=headers)
    assert resumed.status_code == 200
    body = resumed.json()
    assert (body["attempt_id"], body["deadline"]) == (started["attempt_id"], started["deadline"])
    assert body["answers"] == {str(judge["id"]): True}
    fill = next(q for q in started["questions"] if q["type"] == "fill")
    assert httpx.put(f"{b.url}/api/v1/attempts/{started['attempt_id']}/answers/{fill['id']}", headers=headers,
                     json={"answer": "上海"}).status_code == 200
    result = httpx.post(f"{b.url}/api/v1/attempts/{started['attempt_id']}/submit", headers=headers).json()
    assert sum(1 for item in result["review"] if item["is_correct"]) == 2
