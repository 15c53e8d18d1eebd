"""Question ids whose corrected key is applied once more, a while after the correction.

Another server process may have scored an attempt with its cached copy of the old key until
that copy expired; the second pass re-scores what they marked meanwhile (corrections.py).
"""

from __future__ import annotations

import redis

from contest.state import keys
from contest.state.attempts import TAKE_DUE


class RegradeQueue:
    def __init__(self, client: redis.Redis) -> None:
        self.redis = client
        self._take_due = client.register_script(TAKE_DUE)

    def schedule(self, qid: int, due_ms: int) -> None:
        self.redis.zadd(keys.regrades_due(), {str(qid): due_ms})

    def take_due(self, now_ms: int, limit: int = 20) -> list[int]:
        """Question ids whose second pass is due; each is taken by one process only."""
        return [int(qid) for qid in self._take_due(keys=[keys.regrades_due()], args=[now_ms, limit])]
