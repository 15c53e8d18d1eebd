"""kill -9 the server mid-attempt: the attempt resumes with its deadline and every acknowledged answer."""

from __future__ import annotations

import httpx
import pytest
import redis

from contest import create_app
from contest.runtime import current
from tests.play_support import make_bank, make_contest, make_units
from tests.server_process import ServerProcess


@pytest.fixture
def served(tmp_path, stores):
    """A fresh instance (own SQLite, the shared test Redis) with a contest, served by a real process."""
    db_url = f"sqlite:///{tmp_path / 'restart.sqlite3'}"
    app = create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": db_url, "REDIS_URL": stores["redis_url"],
                      "SECRET_KEY": "x", "SOCKETIO_MESSAGE_QUEUE": False})
    with app.app_context():
        rt = current()
        contest = make_contest(rt, make_bank(rt.session))
        unit = make_units(rt.session)[0]
        ids = (contest.id, unit.id)
    app.extensions["jd.db"].session.remove()
    app.extensions["jd.db"].engine.dispose()
    server = ServerProcess(tmp_path, env={"DATABASE_URL": db_url, "REDIS_URL": stores["redis_url"]})
    yield server, ids
    server.stop()


@pytest.mark.parametrize("redis_lost", [False, True], ids=["redis-kept", "redis-lost"])
def test_kill_9_mid_attempt_loses_no_acknowledged_answer(served, stores, redis_lost):
    server, (cid, unit_id) = served
    server.start()
    with httpx.Client(base_url=server.url, timeout=10) as http:
        token = http.post(f"/api/v1/contests/{cid}/entrants",
                          json={"name": "钱七", "phone": "13300000000", "unit_id": unit_id}).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        attempt = http.post(f"/api/v1/contests/{cid}/attempts", headers=headers).json()
        acknowledged = {}
        for q in attempt["questions"][:4]:
            answer = {"single": ["A"], "multiple": ["A", "B"], "judge": False, "fill": "北京"}[q["type"]]
            r = http.put(f"/api/v1/attempts/{attempt['attempt_id']}/answers/{q['id']}", headers=headers,
                         json={"answer": answer})
            assert r.status_code == 200
            acknowledged[str(q["id"])] = sorted(answer) if isinstance(answer, list) else answer

    server.kill()
    if redis_lost:
        redis.Redis.from_url(stores["redis_url"]).flushdb()
    server.start()

    with httpx.Client(base_url=server.url, timeout=10) as http:
        resumed = http.post(f"/api/v1/contests/{cid}/attempts", headers=headers)
        assert resumed.status_code == 200
        body = resumed.json()
        assert body["attempt_id"] == attempt["attempt_id"]
        assert body["deadline"] == attempt["deadline"]
        assert body["answers"] == acknowledged
        result = http.post(f"/api/v1/attempts/{attempt['attempt_id']}/submit", headers=headers).json()
        answered = [item for item in result["review"] if item["answer"] is not None]
        assert len(answered) == 4
