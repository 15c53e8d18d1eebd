"""deploy/gunicorn.conf.py: gunicorn with one gevent worker serves the API and /live over websocket."""

from __future__ import annotations

import importlib
import queue
import signal
import sys
from pathlib import Path

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
from tests.server_process import ServerProcess, free_port

CONFIG = Path(__file__).resolve().parent.parent / "deploy" / "gunicorn.conf.py"


@pytest.fixture
def under_gunicorn(app, rt, stores, tmp_path):
    contest = make_contest(rt, make_bank(rt.session))
    unit = make_units(rt.session)[0]
    rt.session.commit()
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "-c", str(CONFIG), "-b", f"127.0.0.1:{port}", "contest.wsgi:app"]
    env = {"DATABASE_URL": stores["database_url"], "REDIS_URL": stores["redis_url"], "LIVE_PUSH_INTERVAL": "0.1"}
    server = ServerProcess(tmp_path, env=env, port=port, command=command).start()
    yield server, contest.id, unit.id
    server.stop()


def test_a_worker_plays_and_a_websocket_board_moves_under_gunicorn(under_gunicorn, rt):
    server, cid, unit_id = under_gunicorn
    frames: queue.Queue = queue.Queue()
    board = socketio.Client(reconnection=False)
    board.on("leaderboard", frames.put, namespace="/live")
    board.connect(server.url, namespaces=["/live"], transports=["websocket"])
    try:
        assert board.call("join", {"contest": cid}, namespace="/live", timeout=10) == {"joined": cid}
        assert frames.get(timeout=10)["entries"] == []
        with httpx.Client(base_url=server.url, timeout=10) as http:
            result = play_full_attempt(http, rt.session, cid, unit_id, "郑一", "13100000001")
        latest = next_board_with_entries(frames)
        assert latest["entries"][0]["name"] == "郑*" and latest["entries"][0]["score"] == result["score"]
        assert board.transport() == "websocket"
    finally:
        board.disconnect()

    # A graceful stop (what systemd sends): the worker finishes and gunicorn exits cleanly.
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(30) == 0
    assert "Traceback" not in server.log.read_text()


def test_the_wsgi_module_refuses_to_run_without_gevent():
    sys.modules.pop("contest.wsgi", None)
    with pytest.raises(RuntimeError, match="gevent worker"):
        importlib.import_module("contest.wsgi")
