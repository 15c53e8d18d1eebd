"""The roster card's actions (organizers only): import a roster, download it, download the blank template.

The roster holds phone numbers, so every route here is for organizers; staff see only the
counts on the monitor page.
"""

from __future__ import annotations

import io
from pathlib import Path

from flask import current_app, flash, redirect, request, send_file, url_for
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from contest import runtime
from contest.models import RosterEntry, Unit
from contest.play import contests
from contest.play.roster import MAX_FAULT_LINES, RosterRefused, import_roster
from contest.play.roster_book import TEMPLATE_NAME, XLSX_TYPE, build_roster_template, write_roster
from contest.web.admin import admin_required, bp, current_admin
from contest.web.admin.contests import render_monitor


@bp.post("/contests/<int:cid>/roster")
@admin_required("organizer")
def upload_roster(cid: int):
    """Replace the roster with the uploaded file's people: all of them, or (on any fault) none."""
    rt = runtime.current()
    contest = contests.get_contest(rt.session, cid)
    if contests.status(contest, rt.clock.now()) == "closed":
        # Nobody can enter any more, and a purge may already have deleted the old roster's phones.
        return render_monitor(contest, ["竞赛已结束，不再导入名单。"], 400)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return render_monitor(contest, ["请选择名单文件（.xlsx 或 .csv）。"], 400)
    try:
        count = import_roster(rt.session, cid, upload.read(), Path(upload.filename).name)
    except RosterRefused as refused:
        rt.session.rollback()
        return render_monitor(contest, _shown_faults(refused.lines), 400)
    except IntegrityError:  # another organizer's import of the same contest committed first
        rt.session.rollback()
        return render_monitor(contest, ["另一位组织者刚刚导入了名单，请刷新页面后再试。"], 409)
    current_app.logger.info("admin %s imported a roster of %d for contest %d", current_admin().username, count, cid)
    flash(f"已导入参赛名单：共 {count} 人（原名单已被替换）。", "success")
    return redirect(url_for("admin.contest_monitor", cid=cid) + "#roster")


def _shown_faults(lines: list[str]) -> list[str]:
    extra = len(lines) - MAX_FAULT_LINES
    return lines[:MAX_FAULT_LINES] + ([f"……另有 {extra} 处问题未列出"] if extra > 0 else [])


@bp.get("/contests/<int:cid>/roster.xlsx")
@admin_required("organizer")
def roster_download(cid: int):
    """The current roster with phone numbers, in the import's shape; logged with who took it."""
    rt = runtime.current()
    contest = contests.get_contest(rt.session, cid)
    people = rt.session.execute(
        select(RosterEntry.name, RosterEntry.phone, Unit.name).outerjoin(Unit, RosterEntry.unit_id == Unit.id)
        .where(RosterEntry.contest_id == cid).order_by(RosterEntry.id)
    ).all()
    current_app.logger.info("admin %s downloaded the roster of contest %d", current_admin().username, cid)
    return send_file(io.BytesIO(write_roster((n, p, u or "") for n, p, u in people)), mimetype=XLSX_TYPE,
                     as_attachment=True, download_name=f"参赛名单-{contest.id}.xlsx", max_age=0)


@bp.get("/roster/template.xlsx")
@admin_required("organizer")
def roster_template():
    names = list(runtime.current().session.scalars(select(Unit.name).order_by(Unit.id)))
    return send_file(io.BytesIO(build_roster_template(names)), mimetype=XLSX_TYPE, as_attachment=True,
                     download_name=TEMPLATE_NAME, max_age=0)
