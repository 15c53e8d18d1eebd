"""Live games on the /live channel: thin handlers over `games` and `game_flow` (see API.md).

Players: game_join, game_rejoin, game_answer, game_buzz. Hosts: game_host with an action
(watch, start, next, pause, resume, skip, end, remove, judge), checked against the host token.
Rooms: game:<id> (everyone), game:<id>:host (host screens), game:<id>:p:<player> (one phone).

Room-wide frames go through Flask-SocketIO's Redis queue. Per-phone frames (each player's own
rank after a question: 2,000 bodies in a big game) travel as one batch on the state package's
channel instead, and each process hands them to its own clients (`ignore_queue`: rooms are
tracked per process), so a close costs one publish rather than one per player.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, request
from flask_socketio import SocketIO, join_room
from socketio import PubSubManager

from contest import runtime
from contest.errors import ContestError
from contest.play import game_flow, games
from contest.play.game_views import Emit, EmitEach, game_room, host_room, player_room
from contest.play.live import NAMESPACE
from contest.state import State

log = logging.getLogger(__name__)
CLOSER_INTERVAL_S = 0.1


def _queued(socketio: SocketIO) -> bool:
    """Whether frames reach other processes through a message queue (tests run without one)."""
    return isinstance(socketio.server.manager, PubSubManager)


def deliver_here(socketio: SocketIO, event: str, frames: list[tuple[str, dict]]) -> None:
    """Send per-room frames to this process's clients only (those rooms' other members hear the batch)."""
    for room, body in frames:
        socketio.emit(event, body, to=room, namespace=NAMESPACE, ignore_queue=True)


def publish(socketio: SocketIO, state: State, emits: list[Emit | EmitEach]) -> None:
    for item in emits:
        if isinstance(item, EmitEach):
            if _queued(socketio):
                state.games.publish_each(item.event, item.frames)
            else:
                deliver_here(socketio, item.event, item.frames)
        else:
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
            outcome = games.join(rt, body.get("pin"), body.get("name"), body.get("unit_id"), request.remote_addr,
                                 body.get("phone"))
            seat_rooms(outcome.game_id, outcome.ack["player_id"])
            publish(socketio, rt.state, outcome.emits)
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
            publish(socketio, rt.state, outcome.emits)
            if everyone:
                publish(socketio, rt.state, game_flow.close_if_all_answered(rt, body.get("pin")))
            return outcome.ack

        return _call(work, data)

    @socketio.on("game_buzz", namespace=NAMESPACE)
    def game_buzz(data):
        def work(rt, body):
            outcome = games.buzz(rt, body.get("pin"), body.get("token"), body.get("index"))
            publish(socketio, rt.state, outcome.emits)
            return outcome.ack

        return _call(work, data)

    @socketio.on("game_host", namespace=NAMESPACE)
    def game_host(data):
        def work(rt, body):
            outcome = game_flow.host(rt, body.get("pin"), body.get("host_token"), body.get("action"), body)
            join_room(game_room(outcome.game_id))
            join_room(host_room(outcome.game_id))
            publish(socketio, rt.state, outcome.emits)
            return outcome.ack

        return _call(work, data)


def close_due_once(app: Flask) -> int:
    """Close the questions whose deadline passed and send their results; returns the sends (a batch counts once)."""
    with app.app_context():
        rt = runtime.current()
        try:
            emits = game_flow.close_due(rt)
        finally:
            rt.session.close()
    publish(app.extensions["jd.socketio"], app.extensions["jd.state"], emits)
    return len(emits)


def start_background_tasks(app: Flask) -> None:
    """The deadline closer of live games and the listener for per-phone frames (resumes live games first)."""
    socketio = app.extensions["jd.socketio"]
    if _queued(socketio):
        state = app.extensions["jd.state"]
        socketio.start_background_task(state.games.listen_each, lambda event, frames:
                                       deliver_here(socketio, event, frames))
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
