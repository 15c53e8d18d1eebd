"""Where entries and new attempts come from: the client address and the page's device id.

The worker pages keep a random id in localStorage and send it as the optional header
`X-Device-Id`; outside clients may leave it out. The workbook's fairness sheet counts
entrants per device and per address from these rows (contest/reports/fairness.py).
"""

from __future__ import annotations

import re

from sqlalchemy import Table, bindparam, insert, null, select
from sqlalchemy.sql.dml import Insert

from contest.models import EntryOrigin
from contest.runtime import Runtime

DEVICE_HEADER = "X-Device-Id"
# What jd.js generates (22 URL-safe base64 characters), with room for other clients' ids.
DEVICE_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
MAX_ADDRESS = 64
_NEW_ORIGIN = insert(EntryOrigin.__table__)


def clean_device_id(raw: str | None) -> str | None:
    """A well-formed device id, else None: the header is optional and never refuses a request."""
    if raw is None:
        return None
    raw = raw.strip()
    return raw if DEVICE_ID.match(raw) else None


def clean_address(raw: str | None) -> str | None:
    return raw[:MAX_ADDRESS] if raw else None


def insert_with_origin(rt: Runtime, table: Table, row: dict, address: str | None, device_id: str | None,
                       origin_of_row: bool = False) -> int | None:
    """Insert `row` into `table` (its `contest_id` and `entrant_id` are the origin's) and the origin
    row, in the session's transaction (the caller commits them with its own work). `origin_of_row`:
    the row is a new attempt, and the origin names it; then the row's id is returned. Core INSERTs:
    the ORM's flush of a new object costs more than the SQL.

    On PostgreSQL both rows are one statement (the first as a CTE): one round trip where there were
    two, on the entry and the start, the calls that wait longest at a peak. On SQLite, two."""
    values = {**row, **_values(rt, address, device_id)}
    if rt.session.get_bind().dialect.name != "postgresql":
        first = rt.session.execute(insert(table), row)
        new_id = first.inserted_primary_key[0] if origin_of_row else None
        rt.session.execute(_NEW_ORIGIN, {**{name: values[name] for name in _ORIGIN_ROW}, "attempt_id": new_id})
        return new_id
    statement = _WITH_ORIGIN.get((table.name, tuple(row), origin_of_row))
    if statement is None:
        statement = _with_origin(table, tuple(row), origin_of_row)
        _WITH_ORIGIN[(table.name, tuple(row), origin_of_row)] = statement
    result = rt.session.execute(statement, values)
    return result.scalar() if origin_of_row else None


def _values(rt: Runtime, address: str | None, device_id: str | None) -> dict:
    return {"client_address": clean_address(address), "device_id": clean_device_id(device_id),
            "seen_at": rt.clock.now()}


_WITH_ORIGIN: dict[tuple, Insert] = {}
_ORIGINS = EntryOrigin.__table__
_ORIGIN_ROW = ("contest_id", "entrant_id", "client_address", "device_id", "seen_at")  # and attempt_id


def _with_origin(table: Table, columns: tuple[str, ...], origin_of_row: bool) -> Insert:
    first = insert(table).values({name: bindparam(name, type_=table.c[name].type) for name in columns})
    if origin_of_row:
        first = first.returning(table.c.id)
    first = first.cte("first_row")

    def param(name: str):
        return bindparam(name, type_=_ORIGINS.c[name].type)

    names = [*_ORIGIN_ROW, "attempt_id"]
    chosen = [param(name) for name in _ORIGIN_ROW]
    if origin_of_row:
        rows = select(*chosen, first.c.id)
        return insert(_ORIGINS).from_select(names, rows).returning(_ORIGINS.c.attempt_id)
    rows = select(*chosen, null())
    return insert(_ORIGINS).from_select(names, rows).add_cte(first)
