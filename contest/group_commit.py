"""Group commit under gevent: one writer greenlet commits many requests' rows in one transaction.

Under gevent (the production server) request greenlets hand their row to a writer that commits
everything that arrived meanwhile in one transaction and then releases every waiter: one
BEGIN/COMMIT (and on PostgreSQL one WAL flush) for many rows. A waiter is released only after
the commit returned, so an acknowledged row is in SQL before its response leaves. If a batch
fails, its rows are written again one by one, so one bad row cannot fail the others.
Elsewhere (threads, eventlet, tests, CLI) each row is its own transaction.
"""

from __future__ import annotations

import sys
import weakref
from collections.abc import Callable

from sqlalchemy import exc
from sqlalchemy.engine import Connection, Engine

# Rows per transaction at most; the rest wait for the next one.
MAX_BATCH = 500

# Writes rows in the caller's transaction; one outcome per row, in order.
WriteRows = Callable[[Connection, list[dict]], list]


def store(engine: Engine, write: WriteRows, row: dict, order: Callable[[dict], object] | None = None,
          autocommit: bool = False):
    """Write one row with `write`, committed before this returns; the row's outcome. `autocommit`:
    `write` makes each batch one statement, which needs no BEGIN and COMMIT round trips around it."""
    if _gevent_patched():
        return _writer(engine, write, order, autocommit).store(row)
    with engine.begin() as connection:
        return write(connection, [row])[0]


def _gevent_patched() -> bool:
    monkey = sys.modules.get("gevent.monkey")
    return monkey is not None and monkey.is_module_patched("socket")


_WRITERS: weakref.WeakKeyDictionary[Engine, dict] = weakref.WeakKeyDictionary()


def _writer(engine: Engine, write: WriteRows, order, autocommit: bool) -> GroupCommit:
    per_engine = _WRITERS.setdefault(engine, {})
    if write not in per_engine:
        per_engine[write] = GroupCommit(engine, write, order=order, autocommit=autocommit)
    return per_engine[write]


class GroupCommit:
    """One writer greenlet: whoever arrives while a batch commits joins the next one."""

    def __init__(self, engine: Engine, write: WriteRows, max_batch: int = MAX_BATCH,
                 order: Callable[[dict], object] | None = None, autocommit: bool = False) -> None:
        self.engine = engine
        self.autocommit = autocommit
        self.write = write
        self.max_batch = max_batch
        # A fixed row order: two batches (two processes) lock rows in the same order.
        self.order = order
        self.pending: list[tuple[dict, object]] = []
        self.flusher = None

    def store(self, row: dict):
        """Queue the row and wait until its batch has committed; raises what failed the row."""
        import gevent
        from gevent.event import AsyncResult

        waiter = AsyncResult()
        self.pending.append((row, waiter))
        if self.flusher is None:
            self.flusher = gevent.spawn(self._flush)
        return waiter.get()

    def _flush(self) -> None:
        import gevent

        batch: list[tuple[dict, object]] = []
        try:
            while self.pending:
                gevent.sleep(0)  # let the greenlets already running hand in their rows too
                batch, self.pending = self.pending[:self.max_batch], self.pending[self.max_batch:]
                self._commit(batch)
        finally:
            self.flusher = None
            # Only if this greenlet was killed: its waiters fail (not acknowledged), never hang.
            for _row, waiter in batch + self.pending:
                if not waiter.ready():
                    waiter.set_exception(RuntimeError("group commit writer stopped"))
            self.pending = []

    def _commit(self, batch: list[tuple[dict, object]]) -> None:
        ordered = sorted(batch, key=lambda item: self.order(item[0])) if self.order else batch
        try:
            with self._transaction() as connection:
                outcomes = self.write(connection, [row for row, _ in ordered])
        except (exc.TimeoutError, exc.OperationalError) as error:
            # No connection, or the database away: no row would fare better alone (503 for each).
            for _row, waiter in ordered:
                waiter.set_exception(error)
            return
        except Exception:  # noqa: BLE001 - retried row by row below, each failure to its own request
            for row, waiter in ordered:
                try:
                    with self._transaction() as connection:
                        waiter.set(self.write(connection, [row])[0])
                except Exception as error:  # noqa: BLE001 - handed to the request that sent the row
                    waiter.set_exception(error)
            return
        for (_row, waiter), outcome in zip(ordered, outcomes, strict=True):
            waiter.set(outcome)

    def _transaction(self):
        if self.autocommit:  # each statement of `write` commits by itself
            return self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        return self.engine.begin()
