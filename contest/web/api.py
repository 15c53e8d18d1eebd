"""The participant API, /api/v1 (shared/API.md): parse, call a service, shape the answer."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request

from contest import runtime
from contest.errors import BadInput
from contest.numbers import whole_number
from contest.play import attempts, contests, entry, origins, ranking, throttle, unit_cache

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadInput("请求内容应为 JSON 对象。", code="bad_json")
    return body


def _caller(rt):
    return entry.caller_for(rt, request.headers.get("Authorization"))


def _device() -> str | None:
    """The optional device id the worker pages send (anything malformed is ignored)."""
    return origins.clean_device_id(request.headers.get(origins.DEVICE_HEADER))


def _throttle(rt, kind: str, subject: object) -> None:
    throttle.check(rt, kind, request.remote_addr, subject, current_app.config.get("WORKER_ALLOWANCES"))


@bp.get("/contests")
def list_contests():
    rt = runtime.current()
    now = rt.clock.now()
    return jsonify([contests.summary(c, now) for c in contests.listed_contests(rt.session, now)])


@bp.get("/contests/<int:cid>")
def show_contest(cid: int):
    rt = runtime.current()
    return jsonify(contests.summary(contests.contest_for_play(rt.session, cid), rt.clock.now()))


@bp.get("/contests/<int:cid>/units")
def list_units(cid: int):
    rt = runtime.current()
    contests.contest_for_play(rt.session, cid)
    units = unit_cache.UNITS.get(rt.session)
    reply = Response(units.picker_json, mimetype="application/json")
    # Phones revalidate after a minute and get a 304 while the list is unchanged (500 units: tens of kB).
    reply.set_etag(units.etag)
    reply.cache_control.public = True
    reply.cache_control.max_age = 60
    return reply.make_conditional(request)


@bp.post("/contests/<int:cid>/entrants")
def create_entrant(cid: int):
    rt = runtime.current()
    body = _body()
    _throttle(rt, "entry", body.get("phone"))
    entrant_id, token = entry.enter(rt, cid, body.get("name"), body.get("phone"), body.get("unit_id"),
                                    address=request.remote_addr, device_id=_device())
    return jsonify({"entrant_id": entrant_id, "token": token}), 201


@bp.post("/contests/<int:cid>/attempts")
def start_attempt(cid: int):
    rt = runtime.current()
    caller = _caller(rt)
    _throttle(rt, "attempt", caller.entrant_id)
    attempt, created = attempts.start(rt, caller, cid, request.remote_addr, _device())
    body = attempts.attempt_view(rt, attempt, fresh=created)
    return jsonify(body), 201 if created else 200


@bp.get("/attempts/<int:aid>")
def show_attempt(aid: int):
    rt = runtime.current()
    return jsonify(attempts.current(rt, _caller(rt), aid))


@bp.put("/attempts/<int:aid>/answers/<int:qid>")
def save_answer(aid: int, qid: int):
    rt = runtime.current()
    caller = _caller(rt)
    body = _body()
    if "answer" not in body:
        raise BadInput("缺少答案。", field="answer")
    # The allowances are counted in the same Redis round trip as the attempt is recalled.
    counters = throttle.counters("answer", request.remote_addr, caller.entrant_id,
                                 current_app.config.get("WORKER_ALLOWANCES"))
    attempts.save_answer(rt, caller, aid, qid, body["answer"], counters)
    return jsonify({"saved": True})


@bp.post("/attempts/<int:aid>/submit")
def submit(aid: int):
    rt = runtime.current()
    return jsonify(attempts.submit(rt, _caller(rt), aid))


@bp.get("/contests/<int:cid>/leaderboard")
def leaderboard(cid: int):
    rt = runtime.current()
    limit = whole_number(request.args.get("limit", "10"))
    if limit is None:
        raise BadInput("limit 应为正整数。", field="limit")
    return jsonify(ranking.public_leaderboard(rt, cid, limit, current_app.config["BOARD_CACHE_SECONDS"]))


@bp.get("/contests/<int:cid>/units/stats")
def units_stats(cid: int):
    rt = runtime.current()
    return jsonify(ranking.unit_stats(rt, contests.contest_for_play(rt.session, cid)))
