"""Admin pages for the staff workbook: the download (organizer and staff) and the award settings."""

from __future__ import annotations

import io
import os
import tempfile

from flask import current_app, flash, redirect, render_template, request, send_file, url_for
from sqlalchemy import select

from contest import runtime
from contest.clock import CONTEST_TZ
from contest.errors import ContestError
from contest.models import AdminUser, ExportLog
from contest.numbers import whole_number
from contest.offload import cooperative
from contest.play import contests
from contest.reports import awards, offload
from contest.reports.export import download_name, export_contest, log_export
from contest.reports.game_book import find_game, write_game_workbook
from contest.web.admin import admin_required, bp, current_admin

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TIER_ROWS = 6
MAX_TIER_ROWS = 100


@bp.get("/contests/<int:cid>/export.xlsx")
@admin_required("organizer", "staff")
def contest_export(cid: int):
    """The staff workbook, logged with who asked for it."""
    rt = runtime.current()
    contest = contests.get_contest(rt.session, cid)
    name = download_name(contest, rt.clock.now())
    if cooperative():
        buffer = _from_child("contest", cid)
        log_export(rt, cid, "admin", current_admin().id)
    else:
        buffer = io.BytesIO()
        export_contest(rt, cid, buffer, via="admin", admin_id=current_admin().id)
    buffer.seek(0)
    return send_file(buffer, mimetype=XLSX, as_attachment=True, download_name=name, max_age=0)


def _from_child(kind: str, ident: int) -> io.BytesIO:
    """The workbook written by a child process, so this server's other requests go on meanwhile."""
    rt = runtime.current()
    rt.session.rollback()
    with tempfile.TemporaryDirectory(prefix="jd-export-") as folder:
        path = os.path.join(folder, "export.xlsx")
        offload.export_in_child(current_app.config["DATABASE_URL"], kind, ident, path, rt.clock.now())
        with open(path, "rb") as handle:
            return io.BytesIO(handle.read())


@bp.get("/games/<int:gid>/export.xlsx")
@admin_required("organizer", "staff")
def game_export(gid: int):
    """A live game's workbook: players with full names, units, questions."""
    rt = runtime.current()
    game = find_game(rt.session, gid)
    if cooperative():
        buffer = _from_child("game", gid)
    else:
        buffer = io.BytesIO()
        write_game_workbook(rt.session, game, buffer, rt.clock.now())
    buffer.seek(0)
    when = rt.clock.now().astimezone(CONTEST_TZ)
    return send_file(buffer, mimetype=XLSX, as_attachment=True, max_age=0,
                     download_name=f"现场竞赛-{game.pin}-{when:%Y%m%d-%H%M}.xlsx")


def _form_values(raw: dict | None) -> dict:
    raw = raw or {}
    tiers = [{key: _shown(t.get(key)) for key in ("name", "top", "min_score", "draw", "seed")}
             for t in raw.get("tiers") or []]
    tiers += [dict.fromkeys(("name", "top", "min_score", "draw", "seed"), "")
              for _ in range(max(0, TIER_ROWS - len(tiers)))]
    org = raw.get("org_award") or {}
    weights = org.get("weights") or {}
    return {"tiers": tiers, "org_enabled": bool(raw.get("org_award")),
            "org_min": _shown(org.get("min_participants", 5)), "org_top": _shown(org.get("top")),
            "org_top_share": _shown(org.get("top_share")),
            "weights": {part: _shown(weights.get(part)) for part in awards.WEIGHT_PARTS}}


def _shown(value: object) -> str:
    """A stored number as typed (80, not 80.0); text as it is; nothing as empty."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _awards_from_form() -> dict:
    form = request.form
    tiers = []
    # The form's hidden count of tier rows: anything but a small number is the default, not a 500
    # or a loop of a billion rows.
    count = whole_number(form.get("tier_rows", ""))
    for i in range(min(TIER_ROWS if count is None else count, MAX_TIER_ROWS)):
        fields = {key: form.get(f"tier_{key}_{i}", "").strip() for key in ("name", "top", "min_score", "draw", "seed")}
        if any(fields.values()):
            tiers.append({key: value for key, value in fields.items() if value})
    org = None
    if "org_enabled" in form:
        weights = {part: form.get(f"weight_{part}", "").strip() for part in awards.WEIGHT_PARTS}
        org = {"min_participants": form.get("org_min", "").strip() or 0,
               "top": form.get("org_top", "").strip() or None,
               "top_share": form.get("org_top_share", "").strip() or None,
               "weights": {k: v for k, v in weights.items() if v} or None}
    return {"tiers": tiers, "org_award": org}


def _exports(session, cid: int) -> list:
    return session.execute(
        select(ExportLog.created_at, ExportLog.via, AdminUser.username)
        .outerjoin(AdminUser, ExportLog.admin_id == AdminUser.id)
        .where(ExportLog.contest_id == cid).order_by(ExportLog.id.desc()).limit(10)
    ).all()


@bp.route("/contests/<int:cid>/awards", methods=["GET", "POST"])
@admin_required("organizer")
def contest_awards(cid: int):
    rt = runtime.current()
    contest = contests.get_contest(rt.session, cid)
    error, status = None, 200
    if request.method == "POST":
        raw = _awards_from_form()
        try:
            awards.set_awards(rt.session, contest, raw)
        except ContestError as fault:
            rt.session.rollback()
            error, status = fault, 400
            values = _form_values(raw)
        else:
            flash("奖项设置已保存。", "success")
            return redirect(url_for("admin.contest_awards", cid=cid))
    else:
        values = _form_values(contest.awards)
    return render_template("admin/contest_awards.html", contest=contest, values=values, error=error,
                           parts=awards.WEIGHT_PARTS, exports=_exports(rt.session, cid)), status
