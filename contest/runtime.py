"""What a service needs from the app: a database session, the live state and the clock.

Views build one with `current()`; the CLI, tests and benchmarks build one directly, so the
services never touch Flask.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, scoped_session

from contest.clock import Clock
from contest.state import State


@dataclass
class Runtime:
    session: Session | scoped_session[Session]
    state: State
    clock: Clock

    def engine_apart(self) -> Engine:
        """The engine, for work on a connection of its own: the session's transaction, if it has
        one, is committed first, so that it holds no pooled connection meanwhile."""
        session = self.session
        if isinstance(session, scoped_session):
            if not session.registry.has():  # no session made for this request: nothing to commit
                return session.session_factory.kw["bind"]
            session = session()
        if session.in_transaction():
            session.commit()
        return session.get_bind()


def current() -> Runtime:
    from flask import current_app

    ext = current_app.extensions
    # The scoped session itself: a request's session is made by its first use, so a request that
    # needs no SQL session (an answer: its write has a connection of its own) makes none. Making
    # and closing one was 4 % of a server's time with the answer call alone.
    return Runtime(session=ext["jd.db"].session, state=ext["jd.state"], clock=ext["jd.clock"])
