"""The ceiling: a minimal Flask endpoint on the same server setup as `contest serve`.

Same gevent WSGI server (contest.serving), same Flask-SocketIO middleware, same Redis
client settings; the answer call parses the JSON body, makes one Redis round trip (a
counter, as the real call's allowance check) and answers `{"saved": true}`. The project's
answers/s is reported as a share of this one's.

    python bench/ceiling_app.py PORT REDIS_URL      (started by contest_load.py --ceiling)
"""

from gevent import monkey

monkey.patch_all()

import sys  # noqa: E402

from flask import Flask, jsonify, request  # noqa: E402
from flask_socketio import SocketIO  # noqa: E402

from contest.extensions import make_redis  # noqa: E402
from contest.serving import gevent_server  # noqa: E402


def create(redis_url: str) -> Flask:
    app = Flask(__name__)
    SocketIO(app, async_mode="gevent")
    client = make_redis(redis_url)

    @app.put("/api/v1/attempts/<int:aid>/answers/<int:qid>")
    def answer(aid: int, qid: int):
        body = request.get_json(silent=True) or {}
        client.incr("jd:bench:ceiling", 1 if "answer" in body else 0)
        return jsonify({"saved": True})

    @app.get("/api/v1/contests")
    def contests():
        return jsonify([])

    return app


if __name__ == "__main__":
    port, redis_url = int(sys.argv[1]), sys.argv[2]
    gevent_server(create(redis_url), "127.0.0.1", port).serve_forever()
