"""Running `contest serve` (or another command serving the app) as a real process on a free port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    def __init__(self, instance: Path, env: dict[str, str] | None = None, port: int | None = None,
                 command: list[str] | None = None) -> None:
        self.instance = instance
        self.port = port or free_port()
        self.command = command or [sys.executable, "-m", "contest.cli", "serve", "--port", str(self.port)]
        self.env = {**os.environ, "CONTEST_INSTANCE": str(instance), **(env or {})}
        self.process: subprocess.Popen | None = None
        self.log = instance / f"server-{self.port}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> ServerProcess:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(self.command, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/api/v1/contests", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.05)  # polling for the port to open, bounded by the deadline
        raise RuntimeError(f"server did not answer in {timeout} s: {self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        """kill -9: no clean shutdown, no atexit."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
