"""Which contests have changes waiting to be pushed on the live channel."""

from __future__ import annotations

import redis

from contest.state import keys

# KEYS: dirty. Takes and clears the set in one step, so a change is pushed once.
_TAKE_DIRTY = """
local ids = redis.call('SMEMBERS', KEYS[1])
redis.call('DEL', KEYS[1])
return ids
"""


class LiveQueue:
    def __init__(self, client: redis.Redis) -> None:
        self.redis = client
        self._take_dirty = client.register_script(_TAKE_DIRTY)

    def mark(self, cid: int) -> None:
        self.redis.sadd(keys.live_dirty(), cid)

    def take(self) -> list[int]:
        return [int(cid) for cid in self._take_dirty(keys=[keys.live_dirty()])]
