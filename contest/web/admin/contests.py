"""Admin pages for timed contests: list, create and edit, and the live monitor (with the roster card)."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import flash, jsonify, redirect, render_template, request, url_for
from sqlalchemy import func, select

from contest import runtime
from contest.clock import CONTEST_TZ
from contest.errors import BadInput, ContestError
from contest.models import Attempt, Bank, Contest, Entrant, RosterEntry
from contest.numbers import whole_number
from contest.play import contests, papers, ranking
from contest.reports import question_review
from contest.web.admin import admin_required, bp

FORM_TIME = "%Y-%m-%dT%H:%M"


def _local_input(when: datetime) -> str:
    return when.astimezone(CONTEST_TZ).strftime(FORM_TIME)


def _time_field(name: str, label: str) -> datetime:
    raw = request.form.get(name, "").strip()
    try:
        return datetime.strptime(raw, FORM_TIME).replace(tzinfo=CONTEST_TZ)
    except ValueError:
        raise BadInput(f"请填写{label}（年-月-日 时:分）。", field=name) from None


def _int_field(name: str, label: str, default: int = 0) -> int:
    raw = request.form.get(name, "").strip()
    if not raw:
        return default
    number = whole_number(raw)
    if number is None:
        raise BadInput(f"{label}应为整数。", field=name)
    return number


def _settings_from_form() -> contests.ContestSettings:
    """The contest form → settings; faults name the field in Chinese."""
    rules = []
    for qtype in papers.TYPES:
        count = _int_field(f"count_{qtype}", f"{papers.TYPE_NAMES[qtype]}题数")
        if count:
            category = request.form.get(f"category_{qtype}", "").strip() or None
            rules.append(papers.PaperRule(qtype, count, category))
    if not rules:
        raise BadInput("请至少设置一种题型的题数。", field="count_single")
    bank_id = _int_field("bank_id", "题库")
    return contests.ContestSettings(
        title=request.form.get("title", ""),
        description=request.form.get("description", ""),
        bank_id=bank_id,
        paper=rules,
        time_limit_s=_int_field("time_limit_min", "答题时限", 10) * 60 + _int_field("time_limit_sec", "答题时限"),
        starts_at=_time_field("starts_at", "开始时间"),
        ends_at=_time_field("ends_at", "结束时间"),
        attempts_per_day=_int_field("attempts_per_day", "每日答题次数", 3),
        shuffle_questions="shuffle_questions" in request.form,
        shuffle_options="shuffle_options" in request.form,
        roster_only="roster_only" in request.form,
        review_after_submit="review_after_submit" in request.form,
        ranking_mode=request.form.get("ranking_mode", "best"),
        partial_credit="partial_credit" in request.form,
    )


def _form_values(contest: Contest | None) -> dict:
    now = runtime.current().clock.now()
    if contest is None:
        start, end = now.replace(second=0, microsecond=0) + timedelta(hours=1), now + timedelta(days=7, hours=1)
        return {"title": "", "description": "", "bank_id": None, "counts": {"single": 10, "multiple": 5, "judge": 5},
                "categories": {}, "time_limit_min": 10, "time_limit_sec": 0, "starts_at": _local_input(start),
                "ends_at": _local_input(end), "attempts_per_day": 3, "shuffle_questions": True,
                "shuffle_options": True, "roster_only": False, "review_after_submit": True,
                "ranking_mode": "best", "partial_credit": False}
    return {
        "title": contest.title, "description": contest.description, "bank_id": contest.bank_id,
        "counts": {r["type"]: r["count"] for r in contest.paper},
        "categories": {r["type"]: r.get("category") or "" for r in contest.paper},
        "time_limit_min": contest.time_limit_s // 60, "time_limit_sec": contest.time_limit_s % 60,
        "starts_at": _local_input(contest.starts_at), "ends_at": _local_input(contest.ends_at),
        "attempts_per_day": contest.attempts_per_day, "shuffle_questions": contest.shuffle_questions,
        "shuffle_options": contest.shuffle_options, "roster_only": contest.roster_only,
        "review_after_submit": contest.review_after_submit, "ranking_mode": contest.ranking_mode,
        "partial_credit": contest.partial_credit,
    }


def _submitted_values() -> dict:
    """What the organizer typed, to show the form again after a fault (nothing is lost)."""
    form = request.form
    return {
        "title": form.get("title", ""), "description": form.get("description", ""),
        "bank_id": whole_number(form.get("bank_id", "")),
        "counts": {t: form.get(f"count_{t}", "") for t in papers.TYPES},
        "categories": {t: form.get(f"category_{t}", "") for t in papers.TYPES},
        "time_limit_min": form.get("time_limit_min", ""), "time_limit_sec": form.get("time_limit_sec", ""),
        "starts_at": form.get("starts_at", ""), "ends_at": form.get("ends_at", ""),
        "attempts_per_day": form.get("attempts_per_day", ""),
        **{name: name in form for name in ("shuffle_questions", "shuffle_options", "roster_only",
                                           "review_after_submit", "partial_credit")},
        "ranking_mode": form.get("ranking_mode", "best"),
    }


def _render_form(contest: Contest | None, values: dict, error: ContestError | None = None, status: int = 200):
    rt = runtime.current()
    banks = rt.session.execute(
        select(Bank.id, Bank.name, func.count().label("questions")).join(Bank.questions).group_by(Bank.id, Bank.name)
    ).all()
    listed = roster_counts(contest.id)["listed"] if contest else 0
    return render_template("admin/contest_form.html", contest=contest, values=values, banks=banks, error=error,
                           types=papers.TYPE_NAMES, modes=contests.RANKING_MODES, roster_listed=listed), status


def roster_counts(cid: int) -> dict[str, int]:
    """How many people are on the roster, and how many of them have entered (by phone)."""
    session = runtime.current().session
    listed = session.scalar(select(func.count()).select_from(RosterEntry).where(RosterEntry.contest_id == cid))
    entered = session.scalar(
        select(func.count()).select_from(RosterEntry)
        .join(Entrant, (Entrant.contest_id == RosterEntry.contest_id) & (Entrant.phone == RosterEntry.phone))
        .where(RosterEntry.contest_id == cid))
    return {"listed": listed or 0, "entered": entered or 0}


def _warn_if_nobody_may_enter(contest: Contest) -> None:
    if contest.roster_only and not roster_counts(contest.id)["listed"]:
        flash("本竞赛仅限名单内人员参加，但名单还是空的：导入名单前任何人都无法报名。请在下方「参赛名单」中导入。",
              "warning")


def render_monitor(contest: Contest, roster_faults: list[str] | None = None, status: int = 200):
    """The monitor page; `roster_faults` are the lines of a refused roster upload, shown in its card."""
    now = runtime.current().clock.now()
    return render_template("admin/contest_monitor.html", contest=contest, status=contests.status(contest, now),
                           summary=contests.summary(contest, now), roster=roster_counts(contest.id),
                           roster_faults=roster_faults), status


@bp.get("/contests")
@admin_required()
def contests_list():
    rt = runtime.current()
    now = rt.clock.now()
    rows = rt.session.scalars(select(Contest).order_by(Contest.starts_at.desc())).all()
    counts = dict(rt.session.execute(
        select(Entrant.contest_id, func.count()).group_by(Entrant.contest_id)).all())
    finished = dict(rt.session.execute(
        select(Attempt.contest_id, func.count()).where(Attempt.status == "finished").group_by(Attempt.contest_id)).all())
    items = [{"contest": c, "status": contests.status(c, now), "entrants": counts.get(c.id, 0),
              "attempts": finished.get(c.id, 0), "questions": contests.question_count(c)} for c in rows]
    return render_template("admin/contests.html", items=items)


def _copied_values(source: Contest) -> dict:
    """A contest's settings for a new one (the next month's round): the same paper, rules and
    options; the same length of window, starting in an hour. The roster and awards stay behind."""
    values = _form_values(source)
    now = runtime.current().clock.now()
    start = now.replace(second=0, microsecond=0) + timedelta(hours=1)
    values.update(title=f"{source.title}（复制）"[:200], starts_at=_local_input(start),
                  ends_at=_local_input(start + (source.ends_at - source.starts_at)))
    return values


@bp.route("/contests/new", methods=["GET", "POST"])
@admin_required("organizer")
def contest_new():
    if request.method == "GET":
        source = request.args.get("copy", type=int)
        if source:
            return _render_form(None, _copied_values(contests.get_contest(runtime.current().session, source)))
        return _render_form(None, _form_values(None))
    rt = runtime.current()
    try:
        contest = contests.create_contest(rt.session, _settings_from_form())
    except ContestError as error:
        rt.session.rollback()
        return _render_form(None, _submitted_values(), error, 400)
    flash(f"竞赛「{contest.title}」已创建。", "success")
    _warn_if_nobody_may_enter(contest)
    return redirect(url_for("admin.contest_monitor", cid=contest.id))


@bp.route("/contests/<int:cid>/edit", methods=["GET", "POST"])
@admin_required("organizer")
def contest_edit(cid: int):
    rt = runtime.current()
    contest = contests.get_contest(rt.session, cid)
    if request.method == "GET":
        return _render_form(contest, _form_values(contest))
    ranked_by = contest.ranking_mode
    try:
        contests.update_contest(rt.session, contest, _settings_from_form())
    except ContestError as error:
        rt.session.rollback()
        return _render_form(contest, _submitted_values(), error, 400)
    if contest.ranking_mode != ranked_by:
        ranking.rebuild(rt, contest)  # every standing again by the new rule, not only the next submit's
    flash("竞赛设置已保存。", "success")
    _warn_if_nobody_may_enter(contest)
    return redirect(url_for("admin.contest_monitor", cid=cid))


@bp.get("/contests/<int:cid>")
@admin_required()
def contest_monitor(cid: int):
    return render_monitor(contests.get_contest(runtime.current().session, cid))


@bp.get("/contests/<int:cid>/monitor.json")
@admin_required()
def contest_monitor_data(cid: int):
    """Counters, answers per minute (last hour) and every unit's participation, for the monitor."""
    rt = runtime.current()
    contest = contests.get_contest(rt.session, cid)
    stats = ranking.live_stats(rt, contest, top_units=1000)
    now = rt.clock.now()
    per_minute = rt.state.boards.per_minute(cid)
    minutes = [ranking.minute_of(now - timedelta(minutes=m)) for m in range(59, -1, -1)]
    return jsonify({
        **stats,
        "open_attempts": rt.session.scalar(
            select(func.count()).select_from(Attempt).where(Attempt.contest_id == cid, Attempt.status == "open")),
        "per_minute": [{"minute": m[11:16], "answers": per_minute.get(m, 0)} for m in minutes],
        "updated_at": now.isoformat(),
    })


@bp.get("/contests/<int:cid>/questions")
@admin_required()
def contest_questions(cid: int):
    """题目分析: the questions answered right least often, possible wrong keys first."""
    rt = runtime.current()
    contest = contests.get_contest(rt.session, cid)
    return render_template("admin/contest_questions.html", contest=contest,
                           review=question_review.review(rt.session, cid))
