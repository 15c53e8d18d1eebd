"""Blueprints, and the one place errors become JSON (under /api) or a page."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from sqlalchemy.exc import DisconnectionError, OperationalError, SQLAlchemyError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from contest.errors import RETRY_AFTER_S, RETRY_MESSAGE, ContestError
from contest.state.health import FAULTS as REDIS_FAULTS

# Chinese messages for the HTTP errors Flask raises itself.
_HTTP_MESSAGES = {
    400: "请求格式有误。",
    401: "请先登录。",
    403: "没有权限进行此操作。",
    404: "请求的内容不存在。",
    405: "不支持此请求方式。",
    413: "上传的文件过大（上限 10 MB）。",
    429: "操作过于频繁，请稍后再试。",
    500: "服务器出错了，请稍后重试。",
    503: RETRY_MESSAGE,
}


class RowId(IntegerConverter):
    """<int:...> in a URL, at most a database integer: a larger number is 404, not an overflow (500)."""

    def __init__(self, url_map, *args, **kwargs) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.is_json


def register_blueprints(app: Flask) -> None:
    from contest.web import admin, api, participant, static_files

    app.url_map.converters["int"] = RowId  # before any rule is added
    static_files.register(app)
    app.register_blueprint(api.bp)
    app.register_blueprint(participant.bp)
    app.register_blueprint(admin.bp)
    from contest.web import game_pages

    app.register_blueprint(game_pages.bp)
    from contest.web import openapi

    app.register_blueprint(openapi.bp)

    @app.errorhandler(ContestError)
    def contest_error(error: ContestError):
        if _wants_json():
            return jsonify(error.to_json()), error.status
        return render_template("error.html", message=error.message, status=error.status), error.status

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        message = _HTTP_MESSAGES.get(error.code or 500, error.description or "请求出错。")
        if _wants_json():
            return jsonify({"error": error.name.lower().replace(" ", "_"), "message": message}), error.code
        return render_template("error.html", message=message, status=error.code), error.code

    def store_unavailable(error: Exception):
        # A database or Redis restart, a network blip: the worker retries; nothing of this request
        # is kept (its transaction never committed, and the session is rolled back here). Every
        # path touches Redis before it writes SQL, so an outage refuses before anything is written;
        # a fault just after a commit leaves Redis behind SQL, which the recovery rebuilds.
        if isinstance(error, REDIS_FAULTS):
            app.extensions["jd.state"].health.note_fault()
            app.logger.warning("redis unavailable: %s", error)
        else:
            app.logger.warning("database unavailable: %s", error)
        try:
            app.extensions["jd.db"].session.remove()
        except SQLAlchemyError:
            app.logger.exception("rolling back after a database fault failed")
        message = _HTTP_MESSAGES[503]
        if _wants_json():
            response = jsonify({"error": "unavailable", "message": message})
        else:
            response = app.make_response(render_template("error.html", message=message, status=503))
        response.status_code = 503
        response.headers["Retry-After"] = str(RETRY_AFTER_S)
        return response

    for fault in (OperationalError, DisconnectionError, *REDIS_FAULTS):
        app.register_error_handler(fault, store_unavailable)

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        app.logger.exception("unhandled error")
        if _wants_json():
            return jsonify({"error": "server_error", "message": _HTTP_MESSAGES[500]}), 500
        return render_template("error.html", message=_HTTP_MESSAGES[500], status=500), 500
