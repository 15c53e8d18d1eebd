"""Live games on the /live channel: thin handlers over `games` and `game_flow` (see API.md).

Players: game_join, game_rejoin, game_answer, game_buzz. Hosts: game_host with an action
(watch, start, next, pause, resume, skip, end, remove, judge), checked against the host token.
Rooms: game:<id> (everyone), game:<id>:host (host screens), game:<id>:p:<player> (one phone).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, request
from flask_socketio import SocketIO, join_room

from contest import runtime
from contest.errors import ContestError
from contest.play import game_flow, games
from contest.play.game_views import Emit, game_room, host_room, player_room
from contest.play.live import NAMESPACE

log = logging.getLogger(__name__)
CLOSER_INTERVAL_S = 0.1


def publish(socketio: SocketIO, emits: list[Emit]) -> None:
    for item in emits:
        socketio.emit(item.event, item.body, to=item.room, namespace=NAMESPACE)


def _body(data: object) -> dict:
    return data if isinstance(data, dict) else {}


def _call(work: Callable[[runtime.Runtime, dict], dict], data: object) -> dict:
    """Run one handler's work with a fresh session; a refusal acknowledges {"error", "message"}."""
    rt = runtime.current()
    try:
        return work(rt, _body(data))
    except ContestError as error:
        rt.session.rollback()
        return error.to_json()
    finally:
        rt.session.close()


def register(socketio: SocketIO) -> None:
    def seat_rooms(gid: int, pid: int) -> None:
        join_room(game_room(gid))
        join_room(player_room(gid, pid))

    @socketio.on("game_join", namespace=NAMESPACE)
    def game_join(data):
        def work(rt, body):
            outcome = games.join(rt, body.get("pin"), body.get("name"), body.get("unit_id"), request.remote_addr)
            seat_rooms(outcome.game_id, outcome.ack["player_id"])
            publish(socketio, outcome.emits)
            return outcome.ack

        return _call(work, data)

    @socketio.on("game_rejoin", namespace=NAMESPACE)
    def game_rejoin(data):
        def work(rt, body):
            game, pid = games.seat(rt, body.get("pin"), body.get("token"))
            seat_rooms(game.id, pid)
            return games.snapshot(rt, game, pid)

        return _call(work, data)

    @socketio.on("game_answer", namespace=NAMESPACE)
    def game_answer(data):
        def work(rt, body):
            outcome, everyone = games.answer(rt, body.get("pin"), body.get("token"), body.get("index"),
                                             body.get("answer"))
            publish(socketio, outcome.emits)
            if everyone:
                publish(socketio, game_flow.close_if_all_answered(rt, body.get("pin")))
            return outcome.ack

        return _call(work, data)

    @socketio.on("game_buzz", namespace=NAMESPACE)
    def game_buzz(data):
        def work(rt, body):
            outcome = games.buzz(rt, body.get("pin"), body.get("token"), body.get("index"))
            publish(socketio, outcome.emits)
            return outcome.ack

        return _call(work, data)

    @socketio.on("game_host", namespace=NAMESPACE)
    def game_host(data):
        def work(rt, body):
            outcome = game_flow.host(rt, body.get("pin"), body.get("host_token"), body.get("action"), body)
            join_room(game_room(outcome.game_id))
            join_room(host_room(outcome.game_id))
            publish(socketio, outcome.emits)
            return outcome.ack

        return _call(work, data)


def close_due_once(app: Flask) -> int:
    """Close the questions whose deadline passed and send their results; returns frames sent."""
    with app.app_context():
        rt = runtime.current()
        try:
            emits = game_flow.close_due(rt)
        finally:
            rt.session.close()
    publish(app.extensions["jd.socketio"], emits)
    return len(emits)


def start_background_tasks(app: Flask) -> None:
    """The deadline closer of live games in this server process (resumes live games first)."""
    socketio = app.extensions["jd.socketio"]
    with app.app_context():
        rt = runtime.current()
        try:
            game_flow.resume_all(rt)
        finally:
            rt.session.close()

    def closer():
        while True:
            try:
                close_due_once(app)
            except Exception:  # keep closing after a passing fault (Redis restart, DB blip)
                log.exception("closing live game questions failed")
            socketio.sleep(CLOSER_INTERVAL_S)

    socketio.start_background_task(closer)
