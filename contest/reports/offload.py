"""Write a workbook in a child process when the server is cooperative (gevent or eventlet).

A city-sized export is seconds of CPU. Under gevent every request of the process shares one
thread, so computing it in the request would hold every worker's answer back for those
seconds (and could push one past its deadline). A child process computes it instead while
the server waits cooperatively. The threaded server (tests, `--server threading`) and the
CLI compute in place.

    python -m contest.reports.offload contest|game ID FILE NOW_ISO   (database URL in JD_EXPORT_DATABASE_URL)
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from contest.errors import ContestError

URL_VARIABLE = "JD_EXPORT_DATABASE_URL"
TIMEOUT_S = 600


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


def export_in_child(database_url: str, kind: str, ident: int, path: str, now: datetime) -> None:
    """Run the export in a fresh interpreter; its Chinese fault, if any, is raised here."""
    env = {**os.environ, URL_VARIABLE: database_url}
    project = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [project, env.get("PYTHONPATH")]))
    done = subprocess.run([sys.executable, "-m", "contest.reports.offload", kind, str(ident), path, now.isoformat()],
                          env=env, capture_output=True, text=True, timeout=TIMEOUT_S)
    if done.returncode != 0:
        lines = (done.stderr or "").strip().splitlines()
        raise ContestError(lines[-1] if lines and done.returncode == 1 else "导出失败，请稍后再试。",
                           code="export_failed", status=500 if done.returncode != 1 else 400)


def _write(kind: str, ident: int, path: str, now: datetime) -> None:
    from sqlalchemy.orm import Session

    from contest.extensions import make_engine

    engine = make_engine(os.environ[URL_VARIABLE])
    try:
        with Session(engine) as session:
            if kind == "game":
                from contest.reports.game_book import find_game, write_game_workbook

                write_game_workbook(session, find_game(session, ident), path, now)
            else:
                from contest.play.contests import get_contest
                from contest.reports import figures
                from contest.reports.workbook import write_workbook

                write_workbook(figures.load(session, get_contest(session, ident)), path, now)
    finally:
        engine.dispose()


def main(argv: list[str]) -> int:
    kind, ident, path, now = argv
    try:
        _write(kind, int(ident), path, datetime.fromisoformat(now))
    except ContestError as error:
        print(error.message, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
