"""Deleting a closed contest's personal data from its admin page (organizers and staff)."""

from __future__ import annotations

from flask import current_app, flash, redirect, url_for

from contest import runtime
from contest.play import privacy
from contest.web.admin import admin_required, bp, current_admin


@bp.post("/contests/<int:cid>/purge-personal")
@admin_required("organizer", "staff")
def contest_purge(cid: int):
    rt = runtime.current()
    done = privacy.purge_personal_data(rt, cid)  # refuses (403) while the contest is not over
    current_app.logger.info("admin %s deleted the personal data of contest %s", current_admin().username, cid)
    flash(f"已删除 {done.entrants} 名报名者的姓名和手机号、{done.tokens} 个登录凭证、{done.roster_entries} 条名单记录；"
          "成绩与单位统计保留。", "success")
    return redirect(url_for("admin.contest_monitor", cid=cid))
