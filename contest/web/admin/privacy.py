"""Deleting the personal data of a closed contest or a finished live game from its admin page."""

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


@bp.post("/games/<int:gid>/purge-personal")
@admin_required("organizer", "staff")
def game_purge(gid: int):
    rt = runtime.current()
    done = privacy.purge_game_personal_data(rt, gid)  # refuses (403) while the game is not over
    current_app.logger.info("admin %s deleted the personal data of game %s", current_admin().username, gid)
    flash(f"已删除 {done.players} 名选手的姓名和地址、{done.roster_entries} 条名单记录；名次与单位成绩保留。", "success")
    # Staff may not open a game's page (it carries the host link): they go back to the list.
    if current_admin().role == "organizer":
        return redirect(url_for("admin.game_detail", gid=gid))
    return redirect(url_for("admin.games_list"))
