"""Where entries and new attempts come from: the client address and the page's device id.

The worker pages keep a random id in localStorage and send it as the optional header
`X-Device-Id`; outside clients may leave it out. The workbook's fairness sheet counts
entrants per device and per address from these rows (contest/reports/fairness.py).
"""

from __future__ import annotations

import re

from sqlalchemy import insert

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


def origin(rt: Runtime, contest_id: int, entrant_id: int, address: str | None, device_id: str | None,
           attempt_id: int | None = None) -> None:
    """A row written in the session's transaction (the caller commits it with its own work): a Core
    INSERT, which costs a fraction of the ORM's flush of a new object."""
    rt.session.execute(_NEW_ORIGIN, {"contest_id": contest_id, "entrant_id": entrant_id, "attempt_id": attempt_id,
                                     "client_address": clean_address(address),
                                     "device_id": clean_device_id(device_id), "seen_at": rt.clock.now()})
