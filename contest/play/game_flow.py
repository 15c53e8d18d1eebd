"""The host's side of a live game: start, next, pause/resume, skip, remove, judge, end, and closing.

Host actions and closes of one game hold the game's Redis lock, so two host screens (the
projector and the laptop beside it) and the deadline closer never step on each other.
Each step is committed to SQL before Redis moves, so a restart resumes where SQL stands.
"""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta

from sqlalchemy import select

from contest.clock import iso, to_ms
from contest.errors import BadInput, Conflict, Forbidden, NotFound
from contest.models import Game, GameAnswer, GamePlayer
from contest.play import game_record, game_roster, game_views, games
from contest.play.entry import hash_token
from contest.play.game_views import Emit, EmitEach, Outcome
from contest.runtime import Runtime

ACTIONS = ("watch", "start", "next", "pause", "resume", "skip", "end", "remove", "judge")


def check_host(game: Game, host_token: object) -> None:
    if not isinstance(host_token, str) or not hmac.compare_digest(hash_token(host_token), game.host_token_hash):
        raise Forbidden("主持人凭证无效。", code="bad_host_token")


def host(rt: Runtime, pin: object, host_token: object, action: object, body: dict | None = None) -> Outcome:
    """One host action; acknowledges {"state", ...} (watch: the whole snapshot)."""
    try:
        game = games.find_game(rt, pin)
    except NotFound:  # the same refusal as a wrong token: this call must not tell which PINs exist
        raise Forbidden("主持人凭证无效。", code="bad_host_token") from None
    check_host(game, host_token)
    if action not in ACTIONS:
        raise BadInput("未知的主持操作。", field="action")
    if action == "watch":
        return Outcome(host_snapshot(rt, game), game_id=game.id)
    with rt.state.games.lock(game.id):
        rt.session.refresh(game)
        info = games.ensure_built(rt, game)
        emits = _STEPS[action](rt, game, info, body or {})
    return Outcome({"state": rt.state.games.info(game.id).get("state", game.state)}, emits, game.id)


def host_snapshot(rt: Runtime, game: Game) -> dict:
    body = games.snapshot(rt, game, None)
    body["pin"] = game.pin
    body["lobby"] = [{"player_id": pid, **public} for pid, public in sorted(rt.state.games.players(game.id).items())]
    listed, _ = game_roster.counts(rt.session, game.id)
    if listed:  # a roster-only game: the lobby counts towards the list
        body["listed"] = listed
    return body


def _open(rt: Runtime, game: Game, index: int) -> list[Emit | EmitEach]:
    """Show question `index` with a fresh deadline."""
    now = rt.clock.now()
    game.state, game.current_index = "question", index
    game.question_started_at, game.deadline = now, now + timedelta(seconds=game.seconds)
    game.paused_left_ms = None
    if game.started_at is None:
        game.started_at = now
    rt.session.commit()
    buzzer = 1 if game.questions[index].get("buzzer") else 0
    deadline_ms = to_ms(game.deadline)
    rt.state.games.set_fields(game.id, {"state": "question", "index": index, "deadline_ms": deadline_ms,
                                        "buzzer": buzzer}, drop=("paused_left_ms",))
    rt.state.games.schedule_close(game.id, deadline_ms + game_record.GRACE_MS)
    info = rt.state.games.info(game.id)
    return [Emit("game_question", game_views.question_body(rt, game, index, info), game_views.game_room(game.id))]


def _closed(rt: Runtime, game: Game, index: int, skipped: bool, closed_at: datetime) -> list[Emit | EmitEach]:
    """Record a closed question and tell the room: the result, then each player's own rank (one batch)."""
    game.state, game.paused_left_ms = "result", None
    if skipped:
        game_record.void_question(rt, game, index)
    rt.session.commit()
    result = game_views.result_body(rt, game, index, skipped)
    result["closed_at"] = iso(closed_at)  # when the question closed (the benchmark measures from here)
    own = [(game_views.player_room(game.id, pid), body) for pid, body in game_views.personal_rows(rt, game, index)]
    return [Emit("game_result", result, game_views.game_room(game.id)), EmitEach("game_you", own)]


def close_question(rt: Runtime, game: Game, index: int, force: bool, skipped: bool = False) -> list[Emit | EmitEach]:
    """Close the open question once (by the clock, or forced); [] if it was not due or already closed."""
    now = rt.clock.now()
    closed = rt.state.games.close(game.id, index, to_ms(now), game_record.GRACE_MS, force=force, void=skipped)
    return _closed(rt, game, index, skipped, now) if closed else []


def _over(rt: Runtime, game: Game) -> list[Emit | EmitEach]:
    game.state, game.ended_at, game.paused_left_ms = "over", rt.clock.now(), None
    game_record.settle_totals(rt, game)
    rt.session.commit()
    rt.state.games.set_fields(game.id, {"state": "over"}, drop=("paused_left_ms",))
    rt.state.games.unschedule(game.id)
    rt.state.games.forget_later(game.id, game.pin, len(game.questions))
    return [Emit("game_over", game_views.over_body(rt, game), game_views.game_room(game.id))]


def _start(rt: Runtime, game: Game, info: dict, body: dict) -> list[Emit | EmitEach]:
    if info["state"] != "lobby":
        raise Conflict("游戏已经开始。", code="already_started")
    if int(info.get("players", 0)) < 1:
        raise Conflict("还没有选手加入。", code="no_players")
    return _open(rt, game, 0)


def _next(rt: Runtime, game: Game, info: dict, body: dict) -> list[Emit | EmitEach]:
    state, index = info["state"], int(info["index"])
    if state == "lobby":
        return _start(rt, game, info, body)
    if state == "question":  # show the result now
        return close_question(rt, game, index, force=True)
    if state == "result":
        return _open(rt, game, index + 1) if index + 1 < len(game.questions) else _over(rt, game)
    raise Conflict("游戏已结束。", code="game_over")


def _skip(rt: Runtime, game: Game, info: dict, body: dict) -> list[Emit | EmitEach]:
    state, index = info["state"], int(info["index"])
    if state != "question":
        return _next(rt, game, info, body)
    emits = close_question(rt, game, index, force=True, skipped=True)
    following = _open(rt, game, index + 1) if index + 1 < len(game.questions) else _over(rt, game)
    return emits + following


def _pause(rt: Runtime, game: Game, info: dict, body: dict) -> list[Emit | EmitEach]:
    if info["state"] != "question" or "paused_left_ms" in info:
        raise Conflict("当前没有正在计时的题目。", code="not_running")
    left = game_views.left_ms(rt, info)
    game.paused_left_ms = left
    rt.session.commit()
    rt.state.games.set_fields(game.id, {"paused_left_ms": left})
    rt.state.games.unschedule(game.id)
    clock = {"index": int(info["index"]), "paused": True, "left_ms": left, "deadline": None}
    return [Emit("game_clock", clock, game_views.game_room(game.id))]


def _resume(rt: Runtime, game: Game, info: dict, body: dict) -> list[Emit | EmitEach]:
    if info["state"] != "question" or "paused_left_ms" not in info:
        raise Conflict("计时没有暂停。", code="not_paused")
    left = int(info["paused_left_ms"])
    now = rt.clock.now()
    game.deadline, game.paused_left_ms = now + timedelta(milliseconds=left), None
    rt.session.commit()
    deadline_ms = to_ms(game.deadline)
    rt.state.games.set_fields(game.id, {"deadline_ms": deadline_ms}, drop=("paused_left_ms",))
    rt.state.games.schedule_close(game.id, deadline_ms + game_record.GRACE_MS)
    info = rt.state.games.info(game.id)
    question = game_views.question_body(rt, game, int(info["index"]), info)
    clock = {"index": question["index"], "paused": False, "left_ms": left, "deadline": question["deadline"],
             "server_time": question["server_time"]}
    return [Emit("game_clock", clock, game_views.game_room(game.id))]


def _end(rt: Runtime, game: Game, info: dict, body: dict) -> list[Emit | EmitEach]:
    if info["state"] == "over":
        return []
    emits = close_question(rt, game, int(info["index"]), force=True) if info["state"] == "question" else []
    return emits + _over(rt, game)


def _remove(rt: Runtime, game: Game, info: dict, body: dict) -> list[Emit | EmitEach]:
    pid = body.get("player_id")
    if type(pid) is not int or not 0 < pid < 2**31:  # 1e999, 10**30, true: no player of the database
        raise BadInput("请指明要移出的选手。", field="player_id")
    player = rt.session.get(GamePlayer, pid)
    if player is None or player.game_id != game.id or player.removed:
        raise NotFound("没有这位选手。", code="player_not_found")
    player.removed = True
    rt.session.commit()
    open_index = int(info["index"]) if info.get("state") == "question" else None
    count = rt.state.games.remove_player(game.id, pid, player.token_hash, open_index)
    emits = [Emit("game_removed", {"player_id": pid}, game_views.player_room(game.id, pid)),
             Emit("game_player_removed", {"player_id": pid, "count": count}, game_views.host_room(game.id))]
    info = rt.state.games.info(game.id)
    if info.get("state") == "question" and _all_answered(rt, game.id, info):
        emits += close_question(rt, game, int(info["index"]), force=True)
    return emits


def _all_answered(rt: Runtime, gid: int, info: dict) -> bool:
    if info.get("buzzer") == "1":
        return False  # a buzzer question closes with the host's verdict or the clock
    seated = set(rt.state.games.players(gid))
    return bool(seated) and seated <= set(rt.state.games.answers(gid, int(info["index"])))


def _judge(rt: Runtime, game: Game, info: dict, body: dict) -> list[Emit | EmitEach]:
    """The host marks the first waiting buzzer right (points, question closes) or wrong (the next answers)."""
    index = int(info["index"])
    if info["state"] != "question" or not game.questions[index].get("buzzer"):
        raise Conflict("当前不是抢答题。", code="not_buzzer")
    right = body.get("right")
    if not isinstance(right, bool):
        raise BadInput("请判定对或错。", field="right")
    points = game_views.buzz_points(game, index)
    pid = rt.state.games.judge(game.id, index, right, points)
    if pid is None:
        raise Conflict("没有等待判定的抢答者。", code="nobody_waiting")
    row = rt.session.scalar(select(GameAnswer).where(GameAnswer.player_id == pid, GameAnswer.question_index == index))
    if row is not None:
        row.is_correct, row.points = right, points if right else 0
    rt.session.commit()
    emits = [Emit("game_buzz", {"index": index, "order": game_views.buzz_rows(rt, game.id, index)},
                  game_views.game_room(game.id))]
    waiting = set(rt.state.games.buzz_order(game.id, index)) - set(rt.state.games.judged(game.id, index))
    time_up = to_ms(rt.clock.now()) >= int(info["deadline_ms"]) + game_record.GRACE_MS
    if right or (not waiting and time_up):
        emits += close_question(rt, game, index, force=True)
    return emits


_STEPS = {"start": _start, "next": _next, "pause": _pause, "resume": _resume, "skip": _skip, "end": _end,
          "remove": _remove, "judge": _judge}


def close_due(rt: Runtime) -> list[Emit | EmitEach]:
    """Close every question whose deadline has passed (the background closer; idempotent)."""
    emits: list[Emit | EmitEach] = []
    for gid in rt.state.games.due(to_ms(rt.clock.now())):
        game = rt.session.get(Game, gid)
        if game is None:
            rt.state.games.unschedule(gid)
            continue
        with rt.state.games.lock(gid):
            rt.session.refresh(game)
            info = rt.state.games.info(gid)
            if info.get("state") != "question":
                rt.state.games.unschedule(gid)
                continue
            index = int(info["index"])
            if game.questions[index].get("buzzer"):
                waiting = set(rt.state.games.buzz_order(gid, index)) - set(rt.state.games.judged(gid, index))
                if waiting:  # the host is judging: the question closes with the last verdict
                    rt.state.games.unschedule(gid)
                    continue
            emits += close_question(rt, game, index, force=False)
    return emits


def close_if_all_answered(rt: Runtime, pin: object) -> list[Emit | EmitEach]:
    """Everyone seated has answered: close now rather than wait for the clock."""
    game = games.find_game(rt, pin)
    with rt.state.games.lock(game.id):
        rt.session.refresh(game)
        info = rt.state.games.info(game.id)
        if info.get("state") != "question":
            return []
        if not _all_answered(rt, game.id, info):
            return []
        return close_question(rt, game, int(info["index"]), force=True)


def resume_all(rt: Runtime) -> int:
    """After a restart: rebuild live games whose Redis state is gone and re-queue open questions."""
    live = rt.session.scalars(select(Game).where(Game.state.in_(("lobby", "question", "result")))).all()
    for game in live:
        info = games.ensure_built(rt, game)
        if info.get("state") == "question" and "paused_left_ms" not in info:
            rt.state.games.schedule_close(game.id, int(info["deadline_ms"]) + game_record.GRACE_MS)
    return len(live)
