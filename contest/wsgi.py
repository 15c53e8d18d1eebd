"""The app for gunicorn: one process, one gevent worker (deploy/gunicorn.conf.py).

    gunicorn -c deploy/gunicorn.conf.py -b 127.0.0.1:5001 contest.wsgi:app

Flask-SocketIO needs one worker per process (a long-polling session lives in the process
that opened it), so a host runs one gunicorn per port behind a sticky proxy, as with
`contest serve --workers N`. gunicorn's gevent worker patches the standard library before
it imports this module; under any other worker class the app would block, so it refuses.
"""

from __future__ import annotations

import sys

from contest.serving import served_app


def _patched_by_gevent() -> bool:
    monkey = sys.modules.get("gevent.monkey")
    return monkey is not None and monkey.is_module_patched("socket")


if not _patched_by_gevent():
    raise RuntimeError("contest.wsgi:app runs under gunicorn's gevent worker: "
                       "gunicorn -c deploy/gunicorn.conf.py contest.wsgi:app")

app = served_app("gevent")
