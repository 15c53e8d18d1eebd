"""How `contest serve` runs: one process with gevent (the default), eventlet or threads.
(Under gunicorn, contest/wsgi.py builds the same process's app.)

gevent serves thousands of open sockets and requests from one process, and psycopg
cooperates with it; eventlet is kept for comparison; threading is werkzeug's development
server (what the tests' in-process app uses). gevent and eventlet must patch the standard
library before flask, redis or sqlalchemy are imported, so a patched server starts a fresh
interpreter (same pid, via exec) whose first lines patch and then import the app.
"""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import time

_BOOT = """import sys
if sys.argv[1] == "gevent":
    from gevent import monkey
    monkey.patch_all()
else:
    import eventlet
    eventlet.monkey_patch()
from contest.serving import run
run(sys.argv[1], sys.argv[2], int(sys.argv[3]))
"""


def serve_many(server: str, host: str, port: int, workers: int) -> None:
    """N server processes on ports port .. port+N-1 for one host, sharing Redis and the database.

    Flask-SocketIO needs one process per port (its polling transport keeps a session in
    the process that opened it), so a proxy in front pins each client to one of them
    (deploy/nginx.conf: ip_hash); broadcasts cross processes through the Redis message queue.
    """
    env = worker_env(os.environ, workers)
    children = [
        subprocess.Popen([sys.executable, "-m", "contest.cli", "serve", "--server", server, "--host", host,
                          "--port", str(port + i)], env=env)
        for i in range(workers)
    ]

    def stop(*_args) -> None:
        for child in children:
            if child.poll() is None:
                child.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"竞答: {workers} server processes on {host}:{port}-{port + workers - 1}; "
          f"put a proxy with sticky sessions in front (deploy/nginx.conf)", flush=True)
    # When one worker dies the host is short of capacity without anyone noticing: stop all.
    while all(child.poll() is None for child in children):
        time.sleep(0.5)
    stop()
    for child in children:
        child.wait()


def worker_env(environ, workers: int) -> dict[str, str]:
    """The environment of each of `workers` processes: one Redis for all, the database shared."""
    from contest import config, embedded_redis

    env = dict(environ)
    if not env.get("REDIS_URL"):  # start the embedded Redis once, here, for every worker
        env["REDIS_URL"] = embedded_redis.ensure_server(config.instance_path())
    env.update(pool_shares(env, workers))
    return env


POSTGRES_CONNECTIONS_PER_HOST = 90  # PostgreSQL allows 100 by default: room left for psql and the CLI


def pool_shares(env: dict[str, str], workers: int) -> dict[str, str]:
    """Each process's database pool when several share one PostgreSQL and the pool is not set.

    Each process keeps its pool and may open as many again at a peak (contest/extensions.py): at
    the default 20 + 20, three processes asked for 120 connections at a replay's lunch peak and
    PostgreSQL refused the last ones ("too many clients"). Together they stay within 90 here
    (up to 22 processes; beyond, each keeps 2 + 2 and the sum passes it: use PgBouncer).
    """
    url = env.get("DATABASE_URL") or ""
    if not url.startswith("postgresql") or env.get("DATABASE_POOL_SIZE") or env.get("DATABASE_MAX_OVERFLOW"):
        return {}
    share = str(max(2, POSTGRES_CONNECTIONS_PER_HOST // (2 * workers)))
    return {"DATABASE_POOL_SIZE": share, "DATABASE_MAX_OVERFLOW": share}


def serve(server: str, host: str, port: int) -> None:
    """Run the server in this process (threading) or in a patched interpreter (gevent, eventlet)."""
    if server == "threading":
        run(server, host, port)
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, "-c", _BOOT, server, host, str(port)])


def served_app(server: str):
    """The app of one server process with `server`'s async mode, its background tasks started."""
    from contest import create_app
    from contest.cli import start_background_tasks

    app = create_app({"SOCKETIO_ASYNC_MODE": server})
    # Every request allocates thousands of short-lived objects (SQLAlchemy, Flask): with the
    # default threshold the cyclic collector runs every few requests. Leave what start-up
    # made out of its scans, and let it run less often.
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    start_background_tasks(app)
    return app


def run(server: str, host: str, port: int) -> None:
    """Serve forever in this process, on `server`'s own WSGI server."""
    app = served_app(server)
    socketio = app.extensions["jd.socketio"]
    print(f"竞答 running on http://{host}:{port}/  (admin: http://{host}:{port}/admin)  [{server}]", flush=True)
    if server == "gevent":
        gevent_server(app, host, port).serve_forever()
        return
    options = {"allow_unsafe_werkzeug": True} if server == "threading" else {}
    # No access log: at thousands of requests a second it costs more than the answer itself.
    socketio.run(app, host=host, port=port, use_reloader=False, log_output=False, **options)


def gevent_server(app, host: str, port: int):
    """gevent's WSGI server (as Flask-SocketIO builds it), with Nagle's algorithm off and a leaner
    header parser (contest/request_headers.py), and no access-log lines formatted.

    pywsgi writes a response's headers and body in two sends; with Nagle on, the body waits
    for the client's delayed ACK, adding 40 ms to every request on a kept-alive connection.
    """
    import socket

    from gevent import pywsgi

    try:  # engine.io uses gevent-websocket when it is installed, so the handler must match
        from geventwebsocket.handler import WebSocketHandler as handler_class
    except ImportError:
        handler_class = pywsgi.WSGIHandler

    from contest.request_headers import RequestHeaders

    class Handler(handler_class):
        def MessageClass(self, fp, *args):  # noqa: N802 (gevent's name)
            return RequestHeaders.read(fp)

        def log_request(self):
            # With log=None pywsgi still formats every access-log line (a datetime, a string) to
            # throw it away.
            pass

    class Server(pywsgi.WSGIServer):
        def handle(self, sock, address):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            super().handle(sock, address)

    return Server((host, port), app, handler_class=Handler, log=None, backlog=2048)
