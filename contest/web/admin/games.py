"""Admin pages for live games: the list, creating a game, and its host links and results."""

from __future__ import annotations

from pathlib import Path

from flask import current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from contest import runtime
from contest.errors import BadInput, ContestError, NotFound
from contest.models import Bank, Contest, Game, GamePlayer, Question, RosterEntry
from contest.numbers import whole_number
from contest.play import game_roster, games, papers, privacy
from contest.play.roster import RosterRow, read_roster
from contest.web.admin import admin_required, bp, current_admin
from contest.web.game_pages import join_url, qr_svg

STATES = {"lobby": "等待开始", "question": "答题中", "result": "公布结果", "over": "已结束"}


def _number(name: str, label: str, default: int | None = None) -> int | None:
    raw = request.form.get(name, "").strip()
    if not raw:
        return default
    number = whole_number(raw)
    if number is None:
        raise BadInput(f"{label}应为整数。", field=name)
    return number


def _positions(name: str, label: str) -> set[int]:
    raw = request.form.get(name, "").replace("，", ",")
    numbers = [whole_number(p) for p in raw.split(",") if p.strip()]
    if None in numbers:
        raise BadInput(f"{label}应为逗号分隔的题号，如 3,7。", field=name)
    return set(numbers)


def _settings_from_form() -> games.GameSettings:
    ids_text = request.form.get("question_ids", "").replace("，", ",").strip()
    ids = None
    if ids_text:
        ids = [whole_number(p) for p in ids_text.split(",") if p.strip()]
        if None in ids:
            raise BadInput("指定题目应为逗号分隔的题目编号。", field="question_ids")
    rules_text = request.form.get("rules", "").strip()
    return games.GameSettings(
        bank_id=_number("bank_id", "题库", 0),
        count=_number("count", "题数"),
        question_ids=ids,
        rules=papers.parse_rules(rules_text) if rules_text else None,
        seconds=_number("seconds", "每题秒数", 20),
        scoring=request.form.get("scoring", "speed"),
        streak_bonus="streak_bonus" in request.form,
        unit_ranking=request.form.get("unit_ranking", "avg"),
        title=request.form.get("title", ""),
        doubled=_positions("doubled", "翻倍题号"),
        buzzer=_positions("buzzer", "抢答题号"),
        mask_names="nicknames" not in request.form,
        created_by=current_admin().id,
        roster=_roster_from_form(),
    )


def _roster_from_form() -> list[RosterRow] | None:
    """A roster-only game's list: an uploaded file or a contest's roster (one of them), else None."""
    rt = runtime.current()
    upload = request.files.get("roster_file")
    contest_id = request.form.get("roster_contest", "").strip()
    if upload is not None and upload.filename and contest_id:
        raise BadInput("参赛名单请二选一：上传文件，或使用竞赛的名单。", field="roster_file")
    if upload is not None and upload.filename:
        return read_roster(rt.session, upload.read(), Path(upload.filename).name)
    if contest_id:
        number = whole_number(contest_id)
        if number is None:
            raise BadInput("所选竞赛不存在。", field="roster_contest")
        return game_roster.from_contest(rt.session, number)
    return None


def _render(values: dict, error: ContestError | None = None, status: int = 200):
    rt = runtime.current()
    banks = rt.session.execute(
        select(Bank.id, Bank.name, func.count().label("questions"))
        .join(Question, Question.bank_id == Bank.id).where(Question.type.in_(games.PLAYABLE))
        .group_by(Bank.id, Bank.name).order_by(Bank.id)
    ).all()
    rows = rt.session.scalars(select(Game).order_by(Game.id.desc()).limit(100)).all()
    seated = dict(rt.session.execute(
        select(GamePlayer.game_id, func.count()).where(GamePlayer.removed.is_(False)).group_by(GamePlayer.game_id)
    ).all())
    # Contests with a roster, for a final among their people.
    rosters = rt.session.execute(
        select(Contest.id, Contest.title, func.count().label("people"))
        .join(RosterEntry, RosterEntry.contest_id == Contest.id).group_by(Contest.id, Contest.title)
        .order_by(Contest.id.desc())
    ).all()
    personal = privacy.games_holding_personal_data(rt.session, [g.id for g in rows if g.state == "over"])
    return render_template("admin/games.html", banks=banks, games=rows, seated=seated, states=STATES,
                           rosters=rosters, personal=personal, values=values, error=error), status


@bp.get("/games")
@admin_required()
def games_list():
    return _render({"count": 10, "seconds": 20, "scoring": "speed", "unit_ranking": "avg", "title": "现场竞赛"})


@bp.post("/games")
@admin_required("organizer")
def game_create():
    rt = runtime.current()
    try:
        game, _ = games.create_game(rt, _settings_from_form(), current_app.config["SECRET_KEY"])
    except ContestError as error:
        rt.session.rollback()
        return _render(request.form.to_dict(), error, 400)
    flash(f"现场竞赛已创建，PIN 码 {game.pin}。", "success")
    return redirect(url_for("admin.game_detail", gid=game.id))


@bp.get("/games/<int:gid>")
@admin_required("organizer")
def game_detail(gid: int):
    rt = runtime.current()
    game = rt.session.get(Game, gid)
    if game is None:
        raise NotFound("没有这场现场竞赛。", code="game_not_found")
    host_token = games.host_token_for(current_app.config["SECRET_KEY"], game)
    if games.hash_token(host_token) != game.host_token_hash:
        host_token = None  # made with another secret (e.g. by the CLI of another instance)
    players = rt.session.scalars(
        select(GamePlayer).where(GamePlayer.game_id == gid).order_by(GamePlayer.score.desc(), GamePlayer.id)
    ).all()
    url = join_url(game.pin)
    host_url = url_for("game_pages.host_screen", pin=game.pin, _external=True) + f"#{host_token}" if host_token else None
    listed, listed_seated = game_roster.counts(rt.session, gid)
    personal = game.state == "over" and bool(privacy.games_holding_personal_data(rt.session, [gid]))
    return render_template("admin/game_detail.html", game=game, players=players, join_url=url, qr=qr_svg(url),
                           host_url=host_url, states=STATES, listed=listed, listed_seated=listed_seated,
                           personal=personal)
