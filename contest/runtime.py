"""What a service needs from the app: a database session, the live state and the clock.

Views build one with `current()`; the CLI, tests and benchmarks build one directly, so the
services never touch Flask.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from contest.clock import Clock
from contest.state import State


@dataclass
class Runtime:
    session: Session
    state: State
    clock: Clock


def current() -> Runtime:
    from flask import current_app

    ext = current_app.extensions
    return Runtime(session=ext["jd.db"].session(), state=ext["jd.state"], clock=ext["jd.clock"])
