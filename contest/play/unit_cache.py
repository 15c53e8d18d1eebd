"""Per-process copy of the units (id, name, headcount) for the participants' calls.

Every worker who opens a contest page fetches the unit picker's list (500 units, 28–35 kB
of JSON: 1.8 ms of a server's CPU on PostgreSQL), entry checks the chosen unit, and the live
stats rank every unit once a second. Each read the units from SQL. Units change only when
an organizer imports them, so one copy per process serves all three, with the list's JSON
encoded once and an ETag for the phones' revalidation.

A change written through the ORM in this process is seen at once (the events below); another
process's within CACHE_SECONDS. A unit added since the copy was taken is looked up in SQL
before entry refuses it.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass

from sqlalchemy import event, select
from sqlalchemy.orm import Session, object_session

from contest.models import Unit

CACHE_SECONDS = 2.0


@dataclass(frozen=True)
class UnitRow:
    id: int
    name: str
    headcount: int | None


@dataclass(frozen=True)
class Units:
    rows: tuple[UnitRow, ...]  # by name, as the picker lists them
    ids: frozenset[int]
    picker_json: bytes  # API.md's `[{"id", "name"}]`
    etag: str


class UnitCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: tuple[float, Units] | None = None

    def get(self, session: Session) -> Units:
        with self._lock:
            kept = self._kept
        if kept is not None and time.monotonic() - kept[0] < CACHE_SECONDS:
            return kept[1]
        table = Unit.__table__
        rows = tuple(UnitRow(*row) for row in session.execute(
            select(table.c.id, table.c.name, table.c.headcount).order_by(table.c.name)))
        body = json.dumps([{"id": row.id, "name": row.name} for row in rows],
                          ensure_ascii=False, separators=(",", ":")).encode()
        units = Units(rows, frozenset(row.id for row in rows), body, hashlib.sha256(body).hexdigest()[:32])
        with self._lock:
            self._kept = (time.monotonic(), units)
        return units

    def exists(self, session: Session, unit_id: int) -> bool:
        return unit_id in self.get(session).ids or session.get(Unit, unit_id) is not None

    def forget(self) -> None:
        with self._lock:
            self._kept = None


UNITS = UnitCache()
_CHANGED = "jd.units_changed"


@event.listens_for(Unit, "after_insert")
@event.listens_for(Unit, "after_update")
@event.listens_for(Unit, "after_delete")
def _changed(_mapper, _connection, target: Unit) -> None:
    UNITS.forget()
    # Again once committed: between the flush and the commit another request may keep the old rows.
    session = object_session(target)
    if session is not None:
        session.info[_CHANGED] = True


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if session.info.pop(_CHANGED, False):
        UNITS.forget()


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop(_CHANGED, None)
