"""Work of seconds of CPU in a child process when the server is cooperative (gevent or eventlet).

    python -m contest.offload MODULE FUNCTION ARGS_PICKLE OUTCOME_PICKLE      (what call() runs)

Under gevent every request of a process shares one thread: a city-sized export, or reading a
bank of 10,000 questions, computed in the request would hold every worker's answer back for
those seconds (and could push one past its deadline). A child process computes it instead,
on the other core, while the server waits cooperatively. The threaded server (tests,
`--server threading`) and the CLI compute in place.
"""

from __future__ import annotations

import importlib
import os
import pickle
import subprocess
import sys
import tempfile
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


def call(module: str, function: str, *args, timeout_s: float = 300):
    """`module.function(*args)`, in a child process when this one is cooperative, else here. What
    it returns, or raises, comes back as if it had run here (pickled; nothing of this process's
    state goes with it, so the function must take all it needs as arguments)."""
    if not cooperative():
        return getattr(importlib.import_module(module), function)(*args)
    with tempfile.TemporaryDirectory(prefix="jd-offload-") as folder:
        given, back = Path(folder, "args.pickle"), Path(folder, "outcome.pickle")
        given.write_bytes(pickle.dumps(args, protocol=pickle.HIGHEST_PROTOCOL))
        done = run_child("contest.offload", [module, function, str(given), str(back)], timeout_s)
        if done.returncode != 0 or not back.exists():
            raise RuntimeError(f"{module}.{function} failed in a child process: {(done.stderr or '')[-2000:]}")
        failed, value = pickle.loads(back.read_bytes())  # written by our own child just now
    if failed:
        raise value
    return value


def main(argv: list[str]) -> int:
    module, function, given, back = argv
    args = pickle.loads(Path(given).read_bytes())
    try:
        outcome = (False, getattr(importlib.import_module(module), function)(*args))
    except Exception as error:  # raised again in the caller, as if the function had run there
        outcome = (True, error)
    Path(back).write_bytes(pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
