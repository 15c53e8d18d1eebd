"""The /live channel for timed contests: join a contest's room, receive throttled pushes.

A background task in each server process takes the contests whose state changed (a Redis
set, so each change is taken by exactly one process) and emits through the Socket.IO Redis
message queue, which reaches the clients of every process. However many answers arrive and
however many processes serve, a contest's board is pushed at most once per LIVE_PUSH_INTERVAL
and its stats (the larger frame: counters and 20 units) at most once per LIVE_STATS_INTERVAL.
Every frame is a send to every watcher's socket, and those sends are most of the live
process's time (a profile of the city replay: 42 % in the socket send alone).
"""

from __future__ import annotations

import logging

from flask import Flask, current_app
from flask_socketio import SocketIO, emit, join_room

from contest import runtime
from contest.errors import RETRY_MESSAGE, ContestError, Unavailable
from contest.numbers import whole_number
from contest.play import attempts, contests, corrections, ranking, recovery
from contest.state.health import FAULTS as REDIS_FAULTS

NAMESPACE = "/live"
log = logging.getLogger(__name__)


def contest_room(cid: int) -> str:
    return f"contest:{cid}"


def register(socketio: SocketIO) -> None:
    @socketio.on("join", namespace=NAMESPACE)
    def join(data):
        cid = whole_number(data.get("contest")) if isinstance(data, dict) else None
        if cid is None:  # not a number, true, 1.5: no contest named
            return {"error": "invalid", "message": "请指定竞赛。"}
        rt = runtime.current()
        try:
            contest = contests.contest_for_play(rt.session, cid)
            # 1,000 big screens and phones joining at once share the bodies of a moment.
            kept = current_app.config["BOARD_CACHE_SECONDS"]
            board = ranking.public_leaderboard(rt, cid, 10, kept)
            stats = ranking.public_stats(rt, contest, kept)
        except ContestError as error:
            return error.to_json()
        except REDIS_FAULTS:  # Redis restarting: the page joins again a moment later
            rt.state.health.note_fault()
            return Unavailable(RETRY_MESSAGE).to_json()
        finally:
            rt.session.close()
        join_room(contest_room(cid))
        emit("leaderboard", board)
        emit("stats", stats)
        return {"joined": cid}


def push_once(app: Flask) -> list[int]:
    """Push the leaderboard and stats of every contest that changed; returns their ids."""
    socketio = app.extensions["jd.socketio"]
    with app.app_context():
        rt = runtime.current()
        pushed = []
        try:
            boards, stats = rt.state.live.take(app.config["LIVE_PUSH_INTERVAL"], app.config["LIVE_STATS_INTERVAL"])
            for cid in sorted(set(boards) | set(stats)):
                try:
                    contest = contests.contest_for_play(rt.session, cid)
                except ContestError:
                    continue
                room = contest_room(cid)
                if cid in boards:
                    socketio.emit("leaderboard", ranking.leaderboard(rt, contest, 10), to=room, namespace=NAMESPACE)
                if cid in stats:
                    socketio.emit("stats", ranking.live_stats(rt, contest), to=room, namespace=NAMESPACE)
                pushed.append(cid)
        finally:
            rt.session.close()
        return pushed


def finish_due_once(app: Flask) -> int:
    """Rebuild from SQL first if Redis lost anything, then finish the attempts that are due and run
    the second passes of key corrections that are due."""
    with app.app_context():
        rt = runtime.current()
        try:
            recovery.recover_if_due(rt)
            finished = attempts.finish_due(rt)
            corrections.regrade_due(rt)
            return finished
        finally:
            rt.session.close()


def _keep_going(app: Flask, what: str, step) -> None:
    """One step of a background loop: a fault is logged (briefly for a Redis outage) and the loop goes on."""
    try:
        step(app)
    except REDIS_FAULTS as error:
        app.extensions["jd.state"].health.note_fault()
        log.warning("%s: Redis unavailable (%s); retrying", what, error)
    except Exception:  # a database blip or a bug: keep the loop alive, with the traceback in the log
        log.exception("%s failed", what)


def start_background_tasks(app: Flask) -> None:
    """The pusher and the finisher of overdue attempts, in this server process."""
    socketio = app.extensions["jd.socketio"]
    interval = app.config["LIVE_PUSH_INTERVAL"]

    with app.app_context():
        rt = runtime.current()
        try:
            rt.state.health.mark_epoch()
            attempts.reschedule_open(rt)
            attempts.finish_overdue_from_sql(rt)
        finally:
            rt.session.close()

    def pusher():
        while True:
            _keep_going(app, "live push", push_once)
            socketio.sleep(interval)

    def finisher():
        while True:
            _keep_going(app, "finishing overdue attempts", finish_due_once)
            socketio.sleep(1.0)

    socketio.start_background_task(pusher)
    socketio.start_background_task(finisher)
