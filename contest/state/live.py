"""Which contests have changes waiting to be pushed on the live channel, and whose turn it is.

The throttle is shared: every server process runs a pusher, and each takes a changed contest
only if no process pushed it within the interval, so a busy contest is pushed a few times a
second in all, not a few times per process (every push reaches every watcher of every process).
"""

from __future__ import annotations

import redis

from contest.state import keys

# KEYS: dirty, pushed. ARGV: interval ms. Takes the changed contests not pushed within the
# interval (by Redis's clock, the same for every process) and notes the time; the others stay
# marked for a later round.
_TAKE_DIRTY = """
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local taken = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local last = tonumber(redis.call('HGET', KEYS[2], id) or '0')
  if ms - last >= tonumber(ARGV[1]) then
    redis.call('SREM', KEYS[1], id)
    redis.call('HSET', KEYS[2], id, ms)
    taken[#taken + 1] = id
  end
end
return taken
"""


class LiveQueue:
    def __init__(self, client: redis.Redis) -> None:
        self.redis = client
        self._take_dirty = client.register_script(_TAKE_DIRTY)

    def mark(self, cid: int) -> None:
        self.redis.sadd(keys.live_dirty(), cid)

    def take(self, interval_s: float = 0.0) -> list[int]:
        """The changed contests that no process pushed in the last `interval_s` seconds."""
        found = self._take_dirty(keys=[keys.live_dirty(), keys.live_pushed()], args=[int(interval_s * 1000)])
        return [int(cid) for cid in found]
