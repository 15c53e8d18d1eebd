"""kill -9 the server at random points during a burst of answers, restart it: no acknowledged answer
lost, none counted twice, deadlines unchanged."""

from __future__ import annotations

import random
import threading
import time

import httpx
import pytest
from sqlalchemy import create_engine, text

from contest import create_app
from contest.runtime import current
from tests.play_support import make_bank, make_contest, make_units
from tests.server_process import ServerProcess

WORKERS = 6


@pytest.fixture
def served(tmp_path, stores):
    db_url = f"sqlite:///{tmp_path / 'faults.sqlite3'}"
    app = create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": db_url, "REDIS_URL": stores["redis_url"],
                      "SECRET_KEY": "x", "SOCKETIO_MESSAGE_QUEUE": False})
    with app.app_context():
        rt = current()
        contest = make_contest(rt, make_bank(rt.session), paper="single=6,judge=2")
        unit = make_units(rt.session)[0]
        ids = (contest.id, unit.id)
    app.extensions["jd.db"].session.remove()
    app.extensions["jd.db"].engine.dispose()
    server = ServerProcess(tmp_path, env={"DATABASE_URL": db_url, "REDIS_URL": stores["redis_url"]})
    yield server, ids, db_url
    server.stop()


def _answers(question: dict, n: int):
    if question["type"] == "judge":
        return n % 2 == 0
    return ["ABCD"[n % len(question["options"])]]


def _burst(base_url: str, worker: dict, acknowledged: dict, sent: dict, acks: list, stop: threading.Event) -> None:
    """Answer every question over and over; remember what was acknowledged and what was sent."""
    with httpx.Client(base_url=base_url, timeout=5, headers=worker["headers"]) as http:
        n = 0
        while not stop.is_set():
            for question in worker["questions"]:
                answer = _answers(question, n)
                key = (worker["attempt_id"], question["id"])
                sent.setdefault(key, []).append(answer)
                try:
                    response = http.put(f"/api/v1/attempts/{worker['attempt_id']}/answers/{question['id']}",
                                        json={"answer": answer})
                except httpx.TransportError:
                    return  # the server died under us
                if response.status_code == 200:
                    acknowledged[key] = len(sent[key]) - 1  # which send was acknowledged
                    acks.append(key)
                n += 1


@pytest.mark.parametrize("seed", [1, 2])
def test_kill_9_during_a_burst_loses_no_acknowledged_answer(served, seed):
    server, (cid, unit_id), db_url = served
    server.start()
    workers = []
    with httpx.Client(base_url=server.url, timeout=10) as http:
        for i in range(WORKERS):
            token = http.post(f"/api/v1/contests/{cid}/entrants",
                              json={"name": f"职工{i}", "phone": f"1390000{seed}{i:03d}", "unit_id": unit_id}).json()["token"]
            headers = {"Authorization": f"Bearer {token}"}
            attempt = http.post(f"/api/v1/contests/{cid}/attempts", headers=headers).json()
            workers.append({"headers": headers, "attempt_id": attempt["attempt_id"], "deadline": attempt["deadline"],
                            "questions": attempt["questions"]})

    acknowledged: dict = {}
    sent: dict = {}
    acks: list = []
    stop = threading.Event()
    threads = [threading.Thread(target=_burst, args=(server.url, w, acknowledged, sent, acks, stop)) for w in workers]
    for thread in threads:
        thread.start()
    # A random point in the burst: after some number of acknowledged answers.
    kill_after = random.Random(seed).randint(20, 200)
    give_up = time.monotonic() + 60
    while len(acks) < kill_after and time.monotonic() < give_up:
        time.sleep(0.005)  # polling the burst's progress, bounded; not papering over a race
    server.kill()
    stop.set()
    for thread in threads:
        thread.join(10)
    assert acknowledged, "the burst acknowledged nothing before the kill"

    server.start()
    with httpx.Client(base_url=server.url, timeout=10) as http:
        for worker in workers:
            resumed = http.post(f"/api/v1/contests/{cid}/attempts", headers=worker["headers"])
            assert resumed.status_code == 200
            body = resumed.json()
            assert body["attempt_id"] == worker["attempt_id"] and body["deadline"] == worker["deadline"]

    engine = create_engine(db_url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT attempt_id, question_id, COUNT(*) FROM answers GROUP BY attempt_id, question_id"))
        counts = {(a, q): n for a, q, n in rows}
    engine.dispose()
    assert all(n == 1 for n in counts.values()), "an answer was stored twice"
    for key in acknowledged:
        assert key in counts, f"acknowledged answer {key} lost"
    # What is stored is the last acknowledged answer, or one sent after it whose reply the kill cut off.
    with httpx.Client(base_url=server.url, timeout=10) as http:
        for worker in workers:
            saved = http.post(f"/api/v1/contests/{cid}/attempts", headers=worker["headers"]).json()["answers"]
            for question in worker["questions"]:
                key = (worker["attempt_id"], question["id"])
                if key not in acknowledged:
                    continue
                allowed = [sorted(a) if isinstance(a, list) else a for a in sent[key][acknowledged[key]:]]
                assert saved[str(question["id"])] in allowed
