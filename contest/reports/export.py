"""Export a contest's staff workbook and log who exported it."""

from __future__ import annotations

import re
from typing import IO

from contest.clock import CONTEST_TZ
from contest.models import Contest, ExportLog
from contest.play.contests import get_contest
from contest.reports import figures
from contest.reports.workbook import write_workbook
from contest.runtime import Runtime

_UNSAFE_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


def export_contest(rt: Runtime, cid: int, target: str | IO[bytes], via: str = "cli",
                   admin_id: int | None = None) -> ExportLog:
    """Write the workbook of contest `cid` to `target` (a path or a binary file) and log it."""
    contest = get_contest(rt.session, cid)
    now = rt.clock.now()
    write_workbook(figures.load(rt.session, contest), target, now)
    rt.session.rollback()  # end the read transaction before the log's own
    return log_export(rt, cid, via, admin_id)


def log_export(rt: Runtime, cid: int, via: str, admin_id: int | None) -> ExportLog:
    """Who exported which contest, and when."""
    log = ExportLog(admin_id=admin_id, contest_id=cid, via=via, created_at=rt.clock.now())
    rt.session.add(log)
    rt.session.commit()
    return log


def download_name(contest: Contest, when) -> str:
    """A file name staff recognise: the title and the export time."""
    title = _UNSAFE_NAME.sub("_", contest.title).strip() or f"竞赛{contest.id}"
    return f"{title[:60]}-成绩统计-{when.astimezone(CONTEST_TZ):%Y%m%d-%H%M}.xlsx"
