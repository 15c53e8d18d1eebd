"""deploy/nginx.conf in front of `contest serve --workers 3`, with Debian's nginx: two processes for the pages
and the API, one for the live channel."""

from __future__ import annotations

import os
import queue
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import socketio
from sqlalchemy import select

from contest.models import Entrant
from tests.play_support import (
    make_bank,
    make_contest,
    make_units,
    next_board_with_entries,
    play_full_attempt,
)
from tests.server_process import free_port

DEPLOY = Path(__file__).resolve().parent.parent / "deploy" / "nginx.conf"


def _three_free_ports() -> int:
    for _ in range(50):
        base = free_port()
        with socket.socket() as one, socket.socket() as two:
            try:
                one.bind(("127.0.0.1", base + 1))
                two.bind(("127.0.0.1", base + 2))
                return base
            except OSError:
                continue
    raise RuntimeError("no three consecutive free ports")


def _connections_to(port: int) -> int:
    """Established TCP connections to a local port, from /proc (nginx's to a server process)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as rows:
            for row in list(rows)[1:]:
                local, state = row.split()[1], row.split()[3]
                if int(local.rsplit(":", 1)[1], 16) == port and state == "01":
                    count += 1
    return count


def _wait_for(url: str, process: subprocess.Popen, log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)  # the port is not open yet; bounded by the deadline
    raise RuntimeError(f"{url} did not answer: {log.read_text()[-2000:]}")


@pytest.fixture
def behind_nginx(app, rt, stores, tmp_path):
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if nginx is None:
        pytest.skip("nginx is not installed (apt-get install nginx-light)")
    contest = make_contest(rt, make_bank(rt.session))
    unit = make_units(rt.session)[0]
    base, proxy_port = _three_free_ports(), free_port()
    conf = DEPLOY.read_text()
    for i, sample in enumerate(("127.0.0.1:5001", "127.0.0.1:5002", "127.0.0.1:5003")):
        assert sample in conf
        conf = conf.replace(sample, f"127.0.0.1:{base + i}")
    conf = conf.replace("listen 8080", f"listen 127.0.0.1:{proxy_port}")
    (tmp_path / "nginx.conf").write_text(conf)
    env = {**os.environ, "CONTEST_INSTANCE": str(tmp_path), "DATABASE_URL": stores["database_url"],
           "REDIS_URL": stores["redis_url"], "LIVE_PUSH_INTERVAL": "0.1", "PROXY_COUNT": "1"}
    log = tmp_path / "serve.log"
    with open(log, "ab") as out:
        servers = subprocess.Popen([sys.executable, "-m", "contest.cli", "serve", "--workers", "3", "--port", str(base)],
                                   env=env, stdout=out, stderr=subprocess.STDOUT)
    proxy = None
    try:
        _wait_for(f"http://127.0.0.1:{base}/api/v1/contests", servers, log)
        _wait_for(f"http://127.0.0.1:{base + 1}/api/v1/contests", servers, log)
        _wait_for(f"http://127.0.0.1:{base + 2}/api/v1/contests", servers, log)
        proxy = subprocess.Popen([nginx, "-c", str(tmp_path / "nginx.conf"), "-p", str(tmp_path),
                                  "-g", f"daemon off; pid {tmp_path}/nginx.pid; error_log {tmp_path}/nginx.log;"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        _wait_for(f"http://127.0.0.1:{proxy_port}/api/v1/contests", proxy, tmp_path / "nginx.log")
        yield f"http://127.0.0.1:{proxy_port}", contest.id, unit.id, base + 2
    finally:
        for process in (proxy, servers):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(15)


def test_a_worker_plays_and_a_board_moves_through_nginx(behind_nginx, rt):
    url, cid, unit_id, live_port = behind_nginx
    frames: queue.Queue = queue.Queue()
    board = socketio.Client(reconnection=False)
    board.on("leaderboard", frames.put, namespace="/live")
    # The default transports: long-polling first, then the upgrade, as a browser does.
    board.connect(url, namespaces=["/live"])
    try:
        assert board.call("join", {"contest": cid}, namespace="/live", timeout=10) == {"joined": cid}
        assert frames.get(timeout=10)["entries"] == []

        # From another loopback address: the app must see it, not nginx's own.
        transport = httpx.HTTPTransport(local_address="127.0.0.7")
        with httpx.Client(base_url=url, transport=transport, timeout=10) as http:
            result = play_full_attempt(http, rt.session, cid, unit_id, "钱七", "13300000007")

            # Compressed for the phones' networks (JSON and scripts); small replies left as they are.
            for path in ("/api/v1/openapi.json", "/static/js/quiz.js"):
                big = http.get(path, headers={"Accept-Encoding": "gzip"})
                assert big.status_code == 200 and big.headers["Content-Encoding"] == "gzip", path
            assert "paths" in http.get("/api/v1/openapi.json").json()
            units = http.get(f"/api/v1/contests/{cid}/units")
            assert units.status_code == 200 and "Content-Encoding" not in units.headers
            again = http.get(f"/api/v1/contests/{cid}/units", headers={"If-None-Match": units.headers["ETag"]})
            assert again.status_code == 304

        latest = next_board_with_entries(frames)
        assert latest["entries"][0]["name"] == "钱*" and latest["entries"][0]["score"] == result["score"]
        assert board.transport() == "websocket"
        # The live channel went to the third process, which nginx gives nothing else: the pages'
        # and the API's calls above went to the first two.
        assert _connections_to(live_port) >= 1
    finally:
        board.disconnect()
    rt.session.rollback()
    entrant = rt.session.scalar(select(Entrant).where(Entrant.contest_id == cid))
    assert entrant.client_address == "127.0.0.7"
