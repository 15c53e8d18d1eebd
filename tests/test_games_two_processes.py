"""A live game across two server processes: each phone gets its own rank, whichever process closed the question."""

from __future__ import annotations

import queue
import threading
import time

import pytest
import redis
import socketio

from contest.state import State
from tests.game_support import make_game
from tests.server_process import ServerProcess

NS = "/live"


def _wait(condition, what: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)  # polling a subscription count, bounded by the deadline


class RemotePhone:
    """A player on a real server process, keeping the frames it receives."""

    def __init__(self, url: str):
        self.results: queue.Queue = queue.Queue()
        self.own: queue.Queue = queue.Queue()
        self.questions: queue.Queue = queue.Queue()
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("game_question", self.questions.put, namespace=NS)
        self.sio.on("game_result", self.results.put, namespace=NS)
        self.sio.on("game_you", self.own.put, namespace=NS)
        self.sio.connect(url, namespaces=[NS], transports=["websocket"], wait_timeout=10)

    def call(self, event: str, body: dict) -> dict:
        return self.sio.call(event, body, namespace=NS, timeout=10)


@pytest.fixture
def two_servers(app, rt, stores, tmp_path):
    game, host_token = make_game(rt, 2, seconds=30)
    rt.session.commit()
    env = {"DATABASE_URL": stores["database_url"], "REDIS_URL": stores["redis_url"]}
    before = rt.state.games.each_listeners()  # listeners other tests of this session left behind
    servers = [ServerProcess(tmp_path, env=env).start(), ServerProcess(tmp_path, env=env).start()]
    _wait(lambda: rt.state.games.each_listeners() >= before + 2, "the servers did not subscribe to per-phone frames")
    yield servers, game.pin, host_token
    for server in servers:
        server.stop()


def test_each_phone_gets_its_own_rank_from_either_process(two_servers):
    (a, b), pin, host_token = two_servers
    on_a, on_b, host = RemotePhone(a.url), RemotePhone(b.url), RemotePhone(a.url)
    try:
        seat_a = on_a.call("game_join", {"pin": pin, "name": "赵一"})
        seat_b = on_b.call("game_join", {"pin": pin, "name": "钱二"})
        assert host.call("game_host", {"pin": pin, "host_token": host_token, "action": "start"}) == {
            "state": "question"}
        for phone in (on_a, on_b):
            assert phone.questions.get(timeout=10)["index"] == 0
        # b's player answers right, a's wrong; a's answer is the last, so process a closes the question.
        assert on_b.call("game_answer", {"pin": pin, "token": seat_b["token"], "index": 0,
                                         "answer": ["B"]}) == {"accepted": True}
        assert on_a.call("game_answer", {"pin": pin, "token": seat_a["token"], "index": 0,
                                         "answer": ["A"]}) == {"accepted": True}

        mine_a, mine_b = on_a.own.get(timeout=10), on_b.own.get(timeout=10)
        assert (mine_b["index"], mine_b["rank"], mine_b["correct"], mine_b["players"]) == (0, 1, True, 2)
        assert mine_b["score"] > 0
        assert (mine_a["index"], mine_a["rank"], mine_a["correct"], mine_a["score"]) == (0, 2, False, 0)
        for phone in (on_a, on_b):
            assert phone.results.get(timeout=10)["answered"] == 2

        # Closed by the host on process b this time: each phone again gets its own rank, and only its own.
        assert host.call("game_host", {"pin": pin, "host_token": host_token, "action": "next"}) == {
            "state": "question"}
        host_b = RemotePhone(b.url)
        try:
            assert host_b.call("game_host", {"pin": pin, "host_token": host_token, "action": "next"}) == {
                "state": "result"}
        finally:
            host_b.sio.disconnect()
        assert on_a.own.get(timeout=10)["index"] == on_b.own.get(timeout=10)["index"] == 1
        assert on_a.own.empty() and on_b.own.empty()
    finally:
        for phone in (on_a, on_b, host):
            phone.sio.disconnect()


def test_a_listener_hears_batches_again_after_its_connection_drops(rt, stores):
    # Its own client under its own name (as another process has), so the test waits for THIS
    # listener to subscribe, not for any listener an earlier test left in this Redis.
    name = "jd-test-listener"
    other = State(redis.Redis.from_url(stores["redis_url"], decode_responses=True, client_name=name))
    heard: queue.Queue = queue.Queue()

    def deliver(event, frames):
        if event == "boom":
            raise ValueError("a bad batch")
        heard.put((event, frames))

    def subscribed() -> bool:
        return any(client.get("name") == name for client in rt.state.redis.client_list(_type="pubsub"))

    threading.Thread(target=other.games.listen_each, args=(deliver,), daemon=True).start()
    _wait(subscribed, "the listener did not subscribe")
    rt.state.games.publish_each("boom", [])  # a failing delivery does not stop the next ones
    rt.state.games.publish_each("game_you", [("game:1:p:2", {"rank": 1}), ("game:1:p:3", {"rank": 2})])
    assert heard.get(timeout=5) == ("game_you", [("game:1:p:2", {"rank": 1}), ("game:1:p:3", {"rank": 2})])

    rt.state.redis.client_kill_filter(_type="pubsub")  # as a Redis restart would cut it
    assert not subscribed()
    _wait(subscribed, "the listener did not subscribe again")
    # A batch published while the listener is still settling its new connection may be lost,
    # as any pub/sub frame in an outage is (redis-py can resubscribe inside its own retry and
    # then give that connection up); the promise is that batches are heard again.
    deadline = time.monotonic() + 10
    while True:
        rt.state.games.publish_each("game_you", [("game:1:p:2", {"rank": 3})])
        try:
            assert heard.get(timeout=0.5) == ("game_you", [("game:1:p:2", {"rank": 3})])
            break
        except queue.Empty:
            assert time.monotonic() < deadline, "the listener did not hear batches again"
