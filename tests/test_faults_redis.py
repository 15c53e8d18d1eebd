"""Redis stopped mid-contest and started again: workers get 503 and a Chinese retry message while
it is away, nothing half-written; afterwards the contest goes on, every acknowledged answer is
there, deadlines are kept (an attempt due meanwhile is finished by the server) and the
leaderboard equals a rebuild from SQL. Two faults: SIGTERM and a restart from the append-only
file; SIGKILL and a restart with no data at all (the server notices and rebuilds from SQL)."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import redis
import socketio
from sqlalchemy import create_engine, text

from contest import create_app, embedded_redis
from contest.models import Bank, Contest
from contest.play import ranking
from contest.runtime import current
from tests.play_support import make_bank, make_contest, make_units
from tests.server_process import ServerProcess, free_port

RETRY = {"error": "unavailable", "message": "服务器繁忙，请稍后重试。"}
WORKERS = 4
SHORT_LIMIT_S = 3


class RedisProcess:
    """A redis-server of this test's own, on a TCP port, persisting to an append-only file in `folder`."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [embedded_redis.server_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(folder),
             "--appendonly", "yes", "--appendfsync", "everysec", "--save", "", "--logfile", str(folder / "log")],
        )
        client = redis.Redis.from_url(self.url, socket_timeout=1)
        deadline = time.monotonic() + 10
        while True:
            try:
                if client.ping():
                    return
            except redis.RedisError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)  # polling for the port to open, bounded by the deadline

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(10)


@pytest.fixture
def contest_on_own_redis(tmp_path):
    own = RedisProcess(free_port())
    own.start(tmp_path / "redis")
    try:
        yield from _contest_on(own, tmp_path)
    finally:  # also when the set-up failed: no redis-server outlives the test
        own.stop(signal.SIGKILL)


def _contest_on(own: RedisProcess, tmp_path):
    db_url = f"sqlite:///{tmp_path / 'faults.sqlite3'}"
    # A single Redis of its own, also when the suite runs on a cluster (TEST_REDIS_CLUSTER).
    settings = {"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": db_url, "REDIS_URL": own.url, "SECRET_KEY": "x",
                "SOCKETIO_MESSAGE_QUEUE": False, "REDIS_CLUSTER": False}
    app = create_app(settings)
    with app.app_context():
        rt = current()
        bank = make_bank(rt.session)
        main = make_contest(rt, bank, paper="single=4,judge=2").id
        unit = make_units(rt.session)[0].id
        bank_id = bank.id
    app.extensions["jd.db"].session.remove()
    server = ServerProcess(tmp_path, env={"DATABASE_URL": db_url, "REDIS_URL": own.url, "REDIS_CLUSTER": "",
                                             "LIVE_PUSH_INTERVAL": "0.1"})
    try:
        yield own, server, app, (main, bank_id, unit), db_url
    finally:
        server.stop()
        app.extensions["jd.db"].engine.dispose()


def _short_contest(app, bank_id: int) -> int:
    """A contest ending in a few seconds: an attempt started now is due while Redis is away or just after."""
    with app.app_context():
        rt = current()
        cid = make_contest(rt, rt.session.get(Bank, bank_id), paper="single=2",
                           ends_at=rt.clock.now() + timedelta(seconds=SHORT_LIMIT_S)).id
        rt.session.close()
    return cid


def _enter(http: httpx.Client, cid: int, unit_id: int, n: int) -> dict:
    token = http.post(f"/api/v1/contests/{cid}/entrants",
                      json={"name": f"职工{n}", "phone": f"1380000{n:04d}", "unit_id": unit_id}).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    attempt = http.post(f"/api/v1/contests/{cid}/attempts", headers=headers).json()
    return {"headers": headers, "attempt_id": attempt["attempt_id"], "deadline": attempt["deadline"],
            "questions": attempt["questions"]}


def _answer(question: dict, n: int):
    return n % 2 == 0 if question["type"] == "judge" else ["ABCD"[n % len(question["options"])]]


def _burst(url: str, worker: dict, log: dict, stop: threading.Event) -> None:
    """Answer over and over; keep which send was acknowledged and every refusal."""
    with httpx.Client(base_url=url, timeout=10, headers=worker["headers"]) as http:
        n = 0
        while not stop.is_set():
            for question in worker["questions"]:
                key = (worker["attempt_id"], question["id"])
                answer = _answer(question, n)
                log["sent"].setdefault(key, []).append(answer)
                response = http.put(f"/api/v1/attempts/{key[0]}/answers/{key[1]}", json={"answer": answer})
                if response.status_code == 200:
                    log["acknowledged"][key] = len(log["sent"][key]) - 1
                    log["acks"] += 1
                else:
                    log["refusals"].append((response.status_code, response.json(), response.headers.get("Retry-After")))
                n += 1


def _wait_for(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.02)  # polling progress made by other threads/processes, bounded


def _boards(http: httpx.Client, cids) -> dict:
    found = {}
    for cid in cids:
        board = http.get(f"/api/v1/contests/{cid}/leaderboard?limit=100").json()
        board.pop("updated_at")
        found[cid] = (board, http.get(f"/api/v1/contests/{cid}/units/stats").json())
    return found


@pytest.mark.parametrize("fault", ["sigterm_keep_aof", "sigkill_empty"])
def test_redis_outage_mid_contest(contest_on_own_redis, tmp_path, fault):
    own, server, app, (main, bank_id, unit_id), db_url = contest_on_own_redis
    server.start()
    http = httpx.Client(base_url=server.url, timeout=10)
    workers = [_enter(http, main, unit_id, n) for n in range(WORKERS)]
    # One finishes before the outage, so the board has something to lose.
    first = workers.pop()
    assert http.post(f"/api/v1/attempts/{first['attempt_id']}/submit", headers=first["headers"]).status_code == 200
    log = {"sent": {}, "acknowledged": {}, "acks": 0, "refusals": []}
    stop = threading.Event()
    threads = [threading.Thread(target=_burst, args=(server.url, w, log, stop)) for w in workers]
    for thread in threads:
        thread.start()
    try:
        _wait_for(lambda: log["acks"] >= 30, 30, "answers before the outage")
        # An attempt whose deadline falls while Redis is away or just after: the server must finish it.
        short = _short_contest(app, bank_id)
        idle = _enter(http, short, unit_id, 99)
        assert http.put(f"/api/v1/attempts/{idle['attempt_id']}/answers/{idle['questions'][0]['id']}",
                        headers=idle["headers"], json={"answer": ["A"]}).status_code == 200

        own.stop(signal.SIGTERM if fault == "sigterm_keep_aof" else signal.SIGKILL)
        _wait_for(lambda: len(log["refusals"]) >= 10, 30, "answers refused during the outage")

        # While Redis is away: every call a worker makes is a 503 with the retry message, nothing kept.
        engine = create_engine(db_url)
        with engine.connect() as conn:
            entrants = conn.execute(text("SELECT COUNT(*) FROM entrants")).scalar()
            attempts = conn.execute(text("SELECT COUNT(*) FROM attempts")).scalar()
        refused = [
            http.post(f"/api/v1/contests/{main}/entrants",
                      json={"name": "新来的", "phone": "13899999999", "unit_id": unit_id}),
            http.post(f"/api/v1/contests/{main}/attempts", headers=first["headers"]),
            http.post(f"/api/v1/attempts/{workers[0]['attempt_id']}/submit", headers=workers[0]["headers"]),
            http.get(f"/api/v1/contests/{main}/leaderboard"),
        ]
        for response in refused:
            assert response.status_code == 503 and response.json() == RETRY
            assert int(response.headers["Retry-After"]) > 0
        with engine.connect() as conn:
            assert conn.execute(text("SELECT COUNT(*) FROM entrants")).scalar() == entrants
            assert conn.execute(text("SELECT COUNT(*) FROM attempts")).scalar() == attempts
            assert conn.execute(text("SELECT COUNT(*) FROM attempts WHERE status = 'finished'")).scalar() == 1
        live = socketio.Client()
        live.connect(server.url, namespaces=["/live"], transports=["websocket"])
        try:
            assert live.call("join", {"contest": main}, namespace="/live", timeout=10) == RETRY
        finally:
            live.disconnect()

        own.start(tmp_path / ("redis" if fault == "sigterm_keep_aof" else "redis-empty"))
        before = log["acks"]
        _wait_for(lambda: log["acks"] > before + 20, 30, "answers accepted again")
    finally:
        stop.set()
        for thread in threads:
            thread.join(10)
    assert all(status == 503 and body == RETRY and retry and int(retry) > 0
               for status, body, retry in log["refusals"]), log["refusals"][:5]

    # The contest goes on: same attempts, same deadlines, every acknowledged answer there.
    for worker in workers:
        resumed = http.post(f"/api/v1/contests/{main}/attempts", headers=worker["headers"])
        assert resumed.status_code == 200
        body = resumed.json()
        assert (body["attempt_id"], body["deadline"]) == (worker["attempt_id"], worker["deadline"])
        for question in worker["questions"]:
            key = (worker["attempt_id"], question["id"])
            if key in log["acknowledged"]:
                allowed = [sorted(a) if isinstance(a, list) else a for a in log["sent"][key][log["acknowledged"][key]:]]
                assert body["answers"][str(question["id"])] in allowed
        assert http.post(f"/api/v1/attempts/{worker['attempt_id']}/submit", headers=worker["headers"]).status_code == 200

    # The short attempt's deadline passed with nobody submitting: the server finished it by itself.
    with engine.connect() as conn:
        def idle_finished() -> bool:
            return conn.execute(text("SELECT status FROM attempts WHERE id = :id"),
                                {"id": idle["attempt_id"]}).scalar() == "finished"
        _wait_for(idle_finished, SHORT_LIMIT_S + 20, "the server to finish the overdue attempt")
    engine.dispose()

    served = _boards(http, (main, short))
    assert served[main][0]["participants"] == WORKERS and served[short][0]["participants"] == 1
    with app.app_context():  # what a rebuild from SQL gives, served again
        rt = current()
        for cid in (main, short):
            ranking.rebuild(rt, rt.session.get(Contest, cid))
    assert _boards(http, (main, short)) == served
    http.close()
