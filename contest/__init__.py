"""竞答 (Jingda): online knowledge contests. `create_app()` is the app factory."""

from __future__ import annotations

from pathlib import Path

import socketio as python_socketio
from flask import Flask
from flask_socketio import SocketIO

from contest import config, embedded_redis, schema
from contest.clock import Clock
from contest.extensions import Database, make_redis
from contest.state import State
from contest.web import socket_deflate
from contest.web.cookie_session import CookieSessions


def _socket_origins(settings: dict) -> list[str] | None:
    """Origins allowed on Socket.IO; None means same origin only (engine.io derives it from the Host).

    "*" would let any page a worker visits open the live channel in their name: refused.
    """
    origins = settings.get("SOCKETIO_ALLOWED_ORIGINS")
    if isinstance(origins, str):
        origins = [origins]
    if origins is not None and ("*" in origins or not origins):
        raise ValueError("SOCKETIO_ALLOWED_ORIGINS must name origins; '*' (any site) is not allowed")
    return origins


def create_app(test_config: dict | None = None) -> Flask:
    settings = config.load(test_config)
    app = Flask(
        __name__,
        instance_path=settings["INSTANCE_PATH"],
        template_folder=str(config.PROJECT_ROOT / "templates"),
    )
    app.config.update(settings)
    app.session_interface = CookieSessions()
    # Chinese as UTF-8, not \uXXXX escapes: a paper of 10 questions is 2.2 kB instead of 3.7 kB
    # on a phone's network.
    app.json.ensure_ascii = False

    db = Database()
    db.init(settings["DATABASE_URL"])
    schema.ensure(db.engine)  # created at the newest revision, or upgraded to it
    app.extensions["jd.db"] = db
    app.teardown_appcontext(db.remove)

    redis_url = settings["REDIS_URL"] or embedded_redis.ensure_server(Path(settings["INSTANCE_PATH"]))
    app.config["REDIS_URL_IN_USE"] = redis_url
    cluster = bool(settings["REDIS_CLUSTER"] and settings["REDIS_URL"])  # the embedded Redis is never one
    app.extensions["jd.state"] = State(make_redis(redis_url, cluster=cluster))
    app.extensions["jd.clock"] = settings.get("CLOCK") or Clock()
    # The message queue lets several server processes broadcast to each other's clients.
    # Given as a manager because Flask-SocketIO only recognises redis:// URLs, not unix://.
    # False turns it off (Flask-SocketIO's test client cannot work through a queue).
    queue = settings["SOCKETIO_MESSAGE_QUEUE"]
    extra = {} if queue is False else {"client_manager": python_socketio.RedisManager(queue or redis_url)}
    socket_deflate.install()
    # One SocketIO per app (not a module global), so the CLI and tests can make apps freely.
    socketio = SocketIO(
        app,
        async_mode=settings["SOCKETIO_ASYNC_MODE"],
        cors_allowed_origins=_socket_origins(settings),
        **extra,
    )
    app.extensions["jd.socketio"] = socketio
    if settings["PROXY_COUNT"]:
        # Behind nginx (deploy/nginx.conf) the worker's address, which the allowances count
        # on, is the one the proxy puts in X-Forwarded-For, not the proxy's own.
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings["PROXY_COUNT"], x_proto=settings["PROXY_COUNT"])

    from contest.play import game_live, live
    from contest.web import register_blueprints

    register_blueprints(app)
    live.register(socketio)
    game_live.register(socketio)
    return app
