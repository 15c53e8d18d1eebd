"""Work of seconds of CPU in a child process when the server is cooperative (gevent or eventlet).

Under gevent every request of a process shares one thread: a city-sized export, or reading a
bank of 10,000 questions, computed in the request would hold every worker's answer back for
those seconds (and could push one past its deadline). A child process computes it instead,
on the other core, while the server waits cooperatively. The threaded server (tests,
`--server threading`) and the CLI compute in place.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def cooperative() -> bool:
    """True when gevent or eventlet has patched the standard library of this process."""
    if "gevent" in sys.modules:
        from gevent import monkey

        if monkey.is_module_patched("socket"):
            return True
    if "eventlet" in sys.modules:
        from eventlet import patcher

        if patcher.is_monkey_patched("socket"):
            return True
    return False


def run_child(module: str, args: list[str], timeout_s: float, env: dict[str, str] | None = None
              ) -> subprocess.CompletedProcess:
    """`python -m module args…` in a fresh interpreter of this project; waits cooperatively
    (subprocess is patched) and raises subprocess.TimeoutExpired past `timeout_s`."""
    child_env = {**os.environ, **(env or {})}
    project = str(Path(__file__).resolve().parents[1])
    child_env["PYTHONPATH"] = os.pathsep.join(filter(None, [project, child_env.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-m", module, *args], env=child_env, capture_output=True,
                          text=True, timeout=timeout_s)
