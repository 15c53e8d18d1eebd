"""Pages for workers: contest list and home, the quiz, the result, the public leaderboards.

The pages are shells driven by the participant API (contest/static/js); the server renders
what it can show to anyone: the contest's rules and the masked public standings.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, render_template

from contest import runtime
from contest.clock import iso
from contest.play import contests, ranking
from contest.play.papers import TYPE_NAMES

bp = Blueprint("participant", __name__)

STATUS_NAMES = {"open": "进行中", "upcoming": "未开始", "closed": "已结束"}
BOARD_SIZE = 50


@bp.app_context_processor
def _names() -> dict:
    return {"status_names": STATUS_NAMES, "type_names": TYPE_NAMES}


def _contest(cid: int):
    # The participants' copy, at most a couple of seconds old as on the API (contests.ContestCache):
    # reading the row was half of a page's CPU time, and every phone loads three pages an attempt.
    rt = runtime.current()
    contest = contests.contest_settings(rt.session, cid)
    return rt, contest, contests.summary(contest, rt.clock.now())


@bp.get("/")
def index():
    rt = runtime.current()
    now = rt.clock.now()
    listed = [contests.summary(c, now) for c in contests.listed_contests(rt.session, now)]
    return render_template("play/index.html", contests=listed)


@bp.get("/c/<int:cid>")
def contest_home(cid: int):
    _rt, contest, summary = _contest(cid)
    return render_template("play/contest.html", contest=summary,
                           review_after_submit=contest.review_after_submit,
                           partial_credit=contest.partial_credit)


@bp.get("/c/<int:cid>/play")
def quiz(cid: int):
    _rt, _contest_row, summary = _contest(cid)
    return render_template("play/quiz.html", contest=summary)


@bp.get("/c/<int:cid>/result/<int:aid>")
def result(cid: int, aid: int):
    _rt, _contest_row, summary = _contest(cid)
    return render_template("play/result.html", contest=summary, aid=aid)


@bp.get("/c/<int:cid>/board")
def board(cid: int):
    rt, contest, summary = _contest(cid)
    kept = current_app.config["BOARD_CACHE_SECONDS"]  # a crowd opening the board shares its bodies
    initial = {"leaderboard": ranking.public_leaderboard(rt, cid, BOARD_SIZE, kept),
               "stats": ranking.public_stats(rt, contest, kept)}
    return render_template("play/board.html", contest=summary, initial=initial, board_size=BOARD_SIZE)


@bp.get("/c/<int:cid>/screen")
def screen(cid: int):
    rt, contest, summary = _contest(cid)
    kept = current_app.config["BOARD_CACHE_SECONDS"]
    initial = {"leaderboard": ranking.public_leaderboard(rt, cid, 10, kept), "stats": ranking.public_stats(rt, contest, kept),
               "activity": _activity(rt, cid)}
    return render_template("screen/dashboard.html", contest=summary, initial=initial)


def _activity(rt, cid: int, minutes: int = 60) -> dict:
    """Answers per minute over the last hour (the screen's chart; live pushes extend it)."""
    now = rt.clock.now()
    counts = rt.state.boards.per_minute(cid)
    keys = [ranking.minute_of(now - timedelta(minutes=m)) for m in range(minutes - 1, -1, -1)]
    return {"server_time": iso(now), "minutes": [{"minute": k[11:16], "answers": counts.get(k, 0)} for k in keys]}
