"""What this process knows of Redis outages, so the live state can be rebuilt from SQL after one.

Two ways Redis can fall behind SQL:
- a write that followed an SQL commit failed (Redis went away in between): the process saw the
  fault, so until it has rebuilt a contest once it does not trust that contest's board;
- Redis came back empty (killed, no persistence): the epoch key is gone, every process notices.
Either way a recovery rebuilds from SQL (contest/play/recovery.py).
"""

from __future__ import annotations

import secrets

import redis

from contest.state import keys

# What a lost or unreachable Redis raises (BusyLoadingError, while it reloads its file, is a ConnectionError).
FAULTS = (redis.ConnectionError, redis.TimeoutError)


class Health:
    def __init__(self, client: redis.Redis) -> None:
        self.redis = client
        self.run_id = secrets.token_hex(8)
        self._faults = 0  # faults seen since the last recovery
        self._suspect = False  # since a fault: a board is trusted only once rebuilt
        self._verified: set[int] = set()

    def note_fault(self) -> None:
        """A Redis call failed: writes after SQL commits may be missing until a recovery."""
        self._faults += 1
        self._suspect = True
        self._verified.clear()

    def trusted(self, cid: int) -> bool:
        return not self._suspect or cid in self._verified

    def verified(self, cid: int) -> None:
        """The contest's state was just rebuilt from SQL."""
        self._verified.add(cid)

    def recovery_due(self) -> int | None:
        """The fault count to pass to `recovered` if a recovery is due (a fault seen, or the epoch
        gone), else None."""
        faults = self._faults
        if faults or not self.redis.exists(keys.epoch()):
            return faults
        return None

    def recovered(self, faults: int) -> None:
        """A recovery that began after `faults` faults is done (a later fault keeps one due)."""
        self.redis.set(keys.epoch(), self.run_id)
        if self._faults == faults:
            self._faults = 0

    def mark_epoch(self) -> None:
        """At start-up: Redis holds state from now on (an empty Redis later lacks the key)."""
        self.redis.set(keys.epoch(), self.run_id, nx=True)
