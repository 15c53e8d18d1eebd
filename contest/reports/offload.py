"""Write a workbook in a child process (contest/offload.py says when and why).

    python -m contest.reports.offload contest|game ID FILE NOW_ISO   (database URL in JD_EXPORT_DATABASE_URL)
"""

from __future__ import annotations

import os
import sys
from datetime import datetime

from contest.errors import ContestError
from contest.offload import run_child

URL_VARIABLE = "JD_EXPORT_DATABASE_URL"
TIMEOUT_S = 600


def export_in_child(database_url: str, kind: str, ident: int, path: str, now: datetime) -> None:
    """Run the export in a fresh interpreter; its Chinese fault, if any, is raised here."""
    done = run_child("contest.reports.offload", [kind, str(ident), path, now.isoformat()], TIMEOUT_S,
                     {URL_VARIABLE: database_url})
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
