"""The answer's Redis connection, shared by every request of a process (state/shared_connection.py),
against a real Redis: each caller gets its own reply, and a broken connection costs only the
commands that were on it."""

from __future__ import annotations

import signal
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from contest.extensions import make_redis
from contest.state import shared_connection
from contest.state.shared_connection import SharedConnection

ECHO_BACK = "return ARGV[1]"


@pytest.fixture
def client(stores):
    client = make_redis(stores["redis_url"])  # one node even on a cluster: these commands take no key
    yield client
    client.close()


def test_each_caller_gets_its_own_reply(client):
    shared = SharedConnection(client)
    connection_id = shared.call("CLIENT", "ID")
    start = threading.Barrier(16)

    def caller(n: int) -> list[str]:
        start.wait()
        return [shared.call("ECHO", f"{n}:{i}") for i in range(300)]

    with ThreadPoolExecutor(16) as pool:
        replies = list(pool.map(caller, range(16)))
    assert replies == [[f"{n}:{i}" for i in range(300)] for n in range(16)]
    assert shared.call("CLIENT", "ID") == connection_id  # all of it on the one connection


def test_a_script_redis_does_not_know_is_loaded_first(client):
    shared = SharedConnection(client)
    sha = client.script_load(ECHO_BACK)
    client.script_flush()
    assert shared.evalsha(sha, ECHO_BACK, [], ["一"]) == "一"
    assert client.script_exists(sha) == [True]


def test_an_error_reply_goes_to_its_own_caller_only(client):
    shared = SharedConnection(client)
    with pytest.raises(redis.ResponseError):
        shared.call("NO-SUCH-COMMAND")
    assert shared.call("ECHO", "next") == "next"


def test_a_connection_closed_by_redis_while_idle_is_replaced(client, monkeypatch):
    shared = SharedConnection(client)
    first = shared.call("CLIENT", "ID")
    client.client_kill_filter(_id=first)
    monkeypatch.setattr(shared_connection, "IDLE_CHECK_S", 0.0)  # "idle" at once, not after a second
    assert shared.call("ECHO", "again") == "again"
    assert shared.call("CLIENT", "ID") != first


def test_a_connection_broken_under_a_command_fails_that_command_and_then_recovers(client):
    shared = SharedConnection(client)
    connection_id = shared.call("CLIENT", "ID")
    outcome: dict = {}

    def blocked() -> None:
        try:
            outcome["reply"] = shared.call("BLPOP", "jd:test:never-filled", 30)
        except redis.ConnectionError as error:
            outcome["error"] = error

    waiter = threading.Thread(target=blocked)
    waiter.start()
    while not any(c["id"] == str(connection_id) and c["cmd"] == "blpop" for c in client.client_list()):
        pass  # until Redis shows the command blocked on that connection
    client.client_kill_filter(_id=connection_id)
    waiter.join(timeout=10)
    assert not waiter.is_alive() and "error" in outcome, outcome
    assert shared.call("ECHO", "after") == "after"


def test_a_pipeline_goes_out_at_once_and_answers_in_order(client):
    shared = SharedConnection(client)
    pipe = client.pipeline(transaction=False)
    pipe.set("jd:test:shared", "一", ex=60)
    pipe.get("jd:test:shared")
    pipe.incr("jd:test:shared:n")
    assert shared.execute(pipe) == ["OK", "一", 1]
    assert pipe.command_stack == []  # the pipeline is empty again, as after its own execute
    # A failed command's error is raised, after every reply was read: the connection stays in step.
    pipe.incr("jd:test:shared")  # not a number
    pipe.incr("jd:test:shared:n")
    with pytest.raises(redis.ResponseError):
        shared.execute(pipe)
    assert client.get("jd:test:shared:n") == "2"
    assert shared.call("ECHO", "in step") == "in step"


class _Interrupted(BaseException):
    """What a greenlet killed by gevent.Timeout or a signal raises in the middle of a read."""


def test_a_read_interrupted_midway_costs_its_connection_not_the_next_reply(stores):
    # A socket timeout turns a reply that never comes into a failure instead of a hung test.
    client = redis.Redis.from_url(stores["redis_url"], decode_responses=True, socket_timeout=5)
    shared = SharedConnection(client)
    connection_id = shared.call("CLIENT", "ID")
    main = threading.get_ident()

    def interrupt_once_blocked() -> None:
        while not any(c["id"] == str(connection_id) and c["cmd"] == "blpop" for c in client.client_list()):
            pass  # until Redis shows the command blocked: the caller is then inside its read
        signal.pthread_kill(main, signal.SIGUSR1)

    def raise_interrupted(signum, frame):
        raise _Interrupted

    previous = signal.signal(signal.SIGUSR1, raise_interrupted)
    interrupter = threading.Thread(target=interrupt_once_blocked)
    try:
        interrupter.start()
        with pytest.raises(_Interrupted):
            shared.call("BLPOP", "jd:test:never-filled", 30)
    finally:
        interrupter.join()
        signal.signal(signal.SIGUSR1, previous)
    # The BLPOP's reply is never read as someone else's: the next calls get their own.
    assert shared.call("ECHO", "after") == "after"
    assert shared.call("ECHO", "and after") == "and after"
    client.close()


def test_commands_are_packed_as_redis_py_packs_them():
    packer = redis.Connection()
    commands = [("EVALSHA", "f" * 40, 2, "jd:c:1:attempt:7", "jd:lim:答题", -5, 0, b"\x00raw", '["A","C"]'),
                ("SCRIPT LOAD", "return 1"), ("SET", "k", "", "EX", 60)]
    assert shared_connection._pack(commands) == [b"".join(packer.pack_commands(commands))]
    assert shared_connection._pack([("SET", "k", 1.5)]) is None  # left to redis-py's packer
    assert shared_connection._pack([("SET", "k", True)]) is None
