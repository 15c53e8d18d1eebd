"""Fairness flags for staff (公平性核查), computed from the SQL record.

A flag asks staff to look; it never removes anyone: flagged entrants keep their place in the
ranking and their prize, and the workbook marks them (「公平性核查」, the 核查 column of 获奖名单).

Impossible speed (答题过快). Each answer of a finished attempt is timed by the server's arrival
time (`answers.received_at`): the time since the previous answer of the same attempt, or since
the attempt started for the first one. A correct answer is too fast when that time is below
its reading floor (answers arriving in the same millisecond are taken in the order stored):

    floor = READ_BASE_S + (characters of the stem and the options) / READ_CHARS_PER_S

An attempt is flagged when it has at least FAST_MIN_ANSWERS too-fast correct answers AND
its last answer arrived sooner after the start than the reading floors of all its correct
answers add up to. The second condition is for workers on flaky networks: the quiz page keeps
answers made while offline and sends them together on reconnect, so their gaps are near zero,
but the attempt as a whole took as long as the reading did. A script that answers at once
fails both. An answer changed later counts at its last arrival.

Many entrants on one device (同一设备多人): the worker pages keep a random id in the browser
and send it on entry and attempt start (contest/play/origins.py); a device id used by at least
DEVICE_MIN_ENTRANTS entrants flags each of them.

Many entrants on one address (同一地址多人): a workplace behind one NAT address normally
brings dozens, so an address is flagged only far above what is usual in this contest: more
than max(ADDRESS_MIN_ENTRANTS, ADDRESS_FACTOR × the typical count), the typical count being
the median, over the contest's known addresses, of the entrants seen on each. The median over
addresses (not over entrants) is chosen because a few big addresses (a factory's Wi-Fi) can hold
most of the entrants: weighted by entrant they would become "typical" and lift the limit past
themselves; counted once each they barely move it.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import func, select, union
from sqlalchemy.orm import Session

from contest.models import Attempt, Entrant, EntryOrigin, Question

# Seeing the question and tapping take at least a second; 25 characters a second is far
# faster than anyone reads Chinese with understanding (about 8 a second when reading fast).
READ_BASE_S = 1.0
READ_CHARS_PER_S = 25.0
FAST_MIN_ANSWERS = 3
DEVICE_MIN_ENTRANTS = 3
ADDRESS_MIN_ENTRANTS = 60
ADDRESS_FACTOR = 5

FAST, DEVICE, ADDRESS = "答题过快", "同一设备多人", "同一地址多人"
FAST_COLUMNS = ["attempt_id", "entrant_id", "fast_answers", "fastest_ms"]
SHARED_COLUMNS = ["kind", "key", "entrant_id", "entrants", "units"]

# Milliseconds from the attempt's start to each answer's arrival, computed in the database
# (parsing a million timestamps in Python would take longer than everything else here).
_OFFSET_MS = {
    "sqlite": "CAST(ROUND((julianday(an.received_at) - julianday(at.started_at)) * 86400000) AS INTEGER)",
    "postgresql": "CAST(ROUND(EXTRACT(EPOCH FROM (an.received_at - at.started_at)) * 1000) AS BIGINT)",
}
_BATCH = 50_000
_ANSWERS_SQL = (
    "SELECT an.attempt_id, an.id, {offset}, CASE WHEN an.is_correct THEN an.question_id ELSE 0 END"
    " FROM answers an JOIN attempts at ON at.id = an.attempt_id"
    " WHERE at.contest_id = {cid} AND at.status = 'finished'"
)


@dataclass
class Fairness:
    fast: pd.DataFrame  # FAST_COLUMNS: flagged attempts, fastest first
    shared: pd.DataFrame  # SHARED_COLUMNS: one row per entrant on a flagged device or address
    address_limit: int  # an address is flagged above this many entrants
    address_typical: float  # entrants per address, typically (the median over addresses)

    def marks(self) -> pd.Series:
        """entrant_id → the kinds of flag it carries, e.g. "答题过快、同一设备多人"."""
        kinds = pd.concat([
            pd.DataFrame({"entrant_id": self.fast["entrant_id"], "kind": FAST}),
            self.shared[["entrant_id", "kind"]],
        ], ignore_index=True).drop_duplicates()
        order = {FAST: 0, DEVICE: 1, ADDRESS: 2}
        kinds = kinds.assign(order=kinds["kind"].map(order)).sort_values(["entrant_id", "order"])
        return kinds.groupby("entrant_id")["kind"].agg("、".join)

    def counts(self) -> dict[str, int]:
        device = self.shared[self.shared["kind"] == DEVICE]
        address = self.shared[self.shared["kind"] == ADDRESS]
        return {"fast_attempts": len(self.fast), "fast_entrants": self.fast["entrant_id"].nunique(),
                "devices": device["key"].nunique(), "device_entrants": device["entrant_id"].nunique(),
                "addresses": address["key"].nunique(), "address_entrants": address["entrant_id"].nunique()}


def reading_floor_ms(stem: str, options: list | None) -> float:
    """The least time a person needs to read a question and tap an answer."""
    characters = sum(len("".join(str(part).split())) for part in [stem, *(options or [])])
    return 1000.0 * (READ_BASE_S + characters / READ_CHARS_PER_S)


def load(session: Session, cid: int, attempts: pd.DataFrame) -> Fairness:
    """`attempts`: the finished attempts (attempt_id, entrant_id), as figures loads them."""
    owners = attempts.set_index("attempt_id")["entrant_id"]
    shared, typical = shared_origins(session, cid)
    return Fairness(fast=fast_attempts(session, cid, owners), shared=shared, address_limit=address_limit(typical),
                    address_typical=typical)


def fast_attempts(session: Session, cid: int, owners: pd.Series) -> pd.DataFrame:
    """Finished attempts with at least FAST_MIN_ANSWERS correct answers below their reading floor.

    `owners`: attempt id → entrant id of the finished attempts.
    """
    offset = _OFFSET_MS.get(session.get_bind().dialect.name)
    if offset is None:
        raise NotImplementedError("fairness flags need SQLite or PostgreSQL")
    # Close to a million rows at the city's size: read through the driver's own cursor into
    # numpy (SQLAlchemy's rows, and numpy probing them, cost several times the query itself),
    # a batch at a time so that the Python tuples of all of them never exist at once.
    cursor = session.connection().connection.cursor()
    batches = []
    try:
        cursor.execute(_ANSWERS_SQL.format(offset=offset, cid=int(cid)))
        while rows := cursor.fetchmany(_BATCH):
            batches.append(np.fromiter(itertools.chain.from_iterable(rows), dtype=np.int64, count=4 * len(rows)))
    finally:
        cursor.close()
    if not batches:
        return pd.DataFrame(columns=FAST_COLUMNS)
    table = np.concatenate(batches).reshape(-1, 4)
    frame = pd.DataFrame(table, columns=["attempt_id", "answer_id", "offset_ms", "question_id"])
    # Answers of one millisecond in the order they were stored (the database returns rows in
    # no set order, and which of them gets the gap decides whether the others are too fast).
    frame = frame.sort_values(["attempt_id", "offset_ms", "answer_id"])
    first = frame["attempt_id"].ne(frame["attempt_id"].shift())
    frame["gap_ms"] = frame["offset_ms"].diff().where(~first, frame["offset_ms"])
    floors = question_floors(session, cid)
    frame["floor_ms"] = frame["question_id"].map(floors)  # wrong answers (question 0) get none
    fast = frame[frame["gap_ms"] < frame["floor_ms"]]
    per_attempt = fast.groupby("attempt_id").agg(fast_answers=("gap_ms", "size"), fastest_ms=("gap_ms", "min"))
    whole = frame.groupby("attempt_id").agg(answered_ms=("offset_ms", "max"), reading_ms=("floor_ms", "sum"))
    per_attempt = per_attempt.join(whole)
    per_attempt = per_attempt[(per_attempt["fast_answers"] >= FAST_MIN_ANSWERS)
                              & (per_attempt["answered_ms"] < per_attempt["reading_ms"])].reset_index()
    if per_attempt.empty:
        return pd.DataFrame(columns=FAST_COLUMNS)
    per_attempt["entrant_id"] = per_attempt["attempt_id"].map(owners)
    per_attempt["fastest_ms"] = per_attempt["fastest_ms"].clip(lower=0).astype("int64")
    per_attempt = per_attempt.sort_values(["fastest_ms", "attempt_id"], kind="mergesort")
    return per_attempt[FAST_COLUMNS].reset_index(drop=True)


def question_floors(session: Session, cid: int) -> pd.Series:
    """question id → reading floor (ms), for every question of the banks this contest's papers came from."""
    banks = select(Attempt.paper_bank).distinct().where(Attempt.contest_id == cid).scalar_subquery()
    rows = session.execute(select(Question.id, Question.stem, Question.options).where(Question.bank_id.in_(banks)))
    floors = {qid: reading_floor_ms(stem, options) for qid, stem, options in rows}
    return pd.Series(floors, dtype="float64")


def typical_sharing(per_address: pd.Series) -> float:
    """The median number of entrants per known address (0 with none known); see the module docstring."""
    return float(per_address.median()) if len(per_address) else 0.0


def address_limit(typical: float) -> int:
    """More entrants than this on one address is flagged (see the module docstring)."""
    return max(ADDRESS_MIN_ENTRANTS, math.ceil(ADDRESS_FACTOR * typical))


def shared_origins(session: Session, cid: int) -> tuple[pd.DataFrame, float]:
    """Entrants on a device used by several entrants, or on an address used by far too many.

    Counted in SQL: at the city's size only the flagged groups' members leave the database.
    """
    devices = (select(EntryOrigin.device_id.label("key"), EntryOrigin.entrant_id)
               .where(EntryOrigin.contest_id == cid, EntryOrigin.device_id.is_not(None)).distinct().cte("devices"))
    # Addresses of entries and attempts, and the address recorded on the entrant itself (union: distinct pairs).
    addresses = union(
        select(EntryOrigin.client_address.label("key"), EntryOrigin.entrant_id)
        .where(EntryOrigin.contest_id == cid, EntryOrigin.client_address.is_not(None)),
        select(Entrant.client_address.label("key"), Entrant.id.label("entrant_id"))
        .where(Entrant.contest_id == cid, Entrant.client_address.is_not(None)),
    ).cte("addresses")
    sizes = session.scalars(select(func.count()).select_from(addresses).group_by(addresses.c.key)).all()
    typical = typical_sharing(pd.Series(sizes, dtype="int64"))
    flagged = [_groups(session, devices, DEVICE, func.count() >= DEVICE_MIN_ENTRANTS),
               _groups(session, addresses, ADDRESS, func.count() > address_limit(typical))]
    shared = pd.concat(flagged, ignore_index=True) if any(len(f) for f in flagged) else \
        pd.DataFrame(columns=SHARED_COLUMNS)
    return shared, typical


def _groups(session: Session, pairs, kind: str, flagged) -> pd.DataFrame:
    """One row per entrant of each key whose count of (distinct) entrants is `flagged`, the largest groups first."""
    keys = select(pairs.c.key).group_by(pairs.c.key).having(flagged)
    rows = pd.DataFrame(session.execute(
        select(pairs.c.key, pairs.c.entrant_id, Entrant.unit_id).join(Entrant, Entrant.id == pairs.c.entrant_id)
        .where(pairs.c.key.in_(keys))
    ).all(), columns=["key", "entrant_id", "unit_id"])
    if rows.empty:
        return pd.DataFrame(columns=SHARED_COLUMNS)
    group = rows.groupby("key")
    rows = rows.assign(kind=kind, entrants=group["entrant_id"].transform("size"),
                       units=group["unit_id"].transform("nunique"))
    rows = rows.sort_values(["entrants", "key", "entrant_id"], ascending=[False, True, True], kind="mergesort")
    return rows[SHARED_COLUMNS].reset_index(drop=True)
