"""kill -9 the server mid-question: the game resumes where it stood, from Redis or rebuilt from SQL."""

from __future__ import annotations

import queue

import pytest
import redis
import socketio

from contest import create_app
from contest.runtime import current
from tests.game_support import make_game
from tests.server_process import ServerProcess

NS = "/live"


@pytest.fixture
def served(tmp_path, stores):
    db_url = f"sqlite:///{tmp_path / 'games-restart.sqlite3'}"
    app = create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": db_url, "REDIS_URL": stores["redis_url"],
                      "SECRET_KEY": "x", "SOCKETIO_MESSAGE_QUEUE": False})
    with app.app_context():
        # Long enough for the restart to come before the question's deadline on a busy machine (with
        # 10 s, a restart under the two suites run side by side came after it).
        game, host_token = make_game(current(), 2, seconds=20)
        links = (game.pin, host_token)
    app.extensions["jd.db"].session.remove()
    app.extensions["jd.db"].engine.dispose()
    server = ServerProcess(tmp_path, env={"DATABASE_URL": db_url, "REDIS_URL": stores["redis_url"]})
    yield server, links
    server.stop()


def _client(url: str, frames: queue.Queue | None = None) -> socketio.Client:
    client = socketio.Client(reconnection=False)
    if frames is not None:
        client.on("game_result", frames.put, namespace=NS)
    client.connect(url, namespaces=[NS], transports=["websocket"], wait_timeout=10)
    return client


@pytest.mark.parametrize("redis_lost", [False, True], ids=["redis-kept", "redis-lost"])
def test_kill_9_mid_question_resumes_the_game(served, stores, redis_lost):
    server, (pin, host_token) = served
    server.start()
    host, phone = _client(server.url), _client(server.url)
    seat = phone.call("game_join", {"pin": pin, "name": "钱七"}, namespace=NS, timeout=10)
    phone.call("game_join", {"pin": pin, "name": "孙八"}, namespace=NS, timeout=10)  # a seat that never answers
    assert host.call("game_host", {"pin": pin, "host_token": host_token, "action": "start"},
                     namespace=NS, timeout=10) == {"state": "question"}
    before = phone.call("game_rejoin", {"pin": pin, "token": seat["token"]}, namespace=NS, timeout=10)
    ack = phone.call("game_answer", {"pin": pin, "token": seat["token"], "index": 0, "answer": ["B"]},
                     namespace=NS, timeout=10)
    assert ack == {"accepted": True}
    for client in (host, phone):
        client.disconnect()

    server.kill()
    if redis_lost:
        redis.Redis.from_url(stores["redis_url"]).flushdb()
    server.start()

    results: queue.Queue = queue.Queue()
    phone = _client(server.url, results)
    try:
        snap = phone.call("game_rejoin", {"pin": pin, "token": seat["token"]}, namespace=NS, timeout=10)
        assert snap["state"] == "question" and snap["answered"] is True
        assert snap["deadline"] == before["deadline"] and snap["question"]["index"] == 0
        again = phone.call("game_answer", {"pin": pin, "token": seat["token"], "index": 0, "answer": ["B"]},
                           namespace=NS, timeout=10)
        assert again["error"] == "already_answered"
        # The restarted server's closer closes the question at its deadline.
        result = results.get(timeout=40)
        assert result["index"] == 0 and result["answered"] == 1 and result["players"] == 2
        assert result["top"][0]["score"] > 0
        laptop = _client(server.url)
        watch = laptop.call("game_host", {"pin": pin, "host_token": host_token, "action": "watch"},
                            namespace=NS, timeout=10)
        assert watch["state"] == "result" and watch["result"]["index"] == 0
        laptop.disconnect()
    finally:
        phone.disconnect()
