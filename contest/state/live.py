"""Which contests have changes waiting to be pushed on the live channel, and whose turn it is.

The throttle is shared: every server process runs a pusher, and each takes a changed contest
only if no process pushed it within the interval, so a busy contest is pushed a few times a
second in all, not a few times per process (every push reaches every watcher of every process).
"""

from __future__ import annotations

import redis

from contest.state import keys

# KEYS: dirty, pushed, stats pending, stats pushed. ARGV: board interval ms, stats interval ms.
# Takes the changed contests not pushed within the board's interval (by Redis's clock, the same
# for every process) and notes the time; the others stay marked for a later round. A contest
# taken for its board waits in stats-pending until its stats are due: so the last change is
# always pushed, however the two intervals fall.
_TAKE_DIRTY = """
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local function due(pending, pushed, interval)
  local taken = {}
  for _, id in ipairs(redis.call('SMEMBERS', pending)) do
    local last = tonumber(redis.call('HGET', pushed, id) or '0')
    if ms - last >= interval then
      redis.call('SREM', pending, id)
      redis.call('HSET', pushed, id, ms)
      taken[#taken + 1] = id
    end
  end
  return taken
end
local boards = due(KEYS[1], KEYS[2], tonumber(ARGV[1]))
for _, id in ipairs(boards) do
  redis.call('SADD', KEYS[3], id)
end
return {boards, due(KEYS[3], KEYS[4], tonumber(ARGV[2]))}
"""


class LiveQueue:
    def __init__(self, client: redis.Redis) -> None:
        self.redis = client
        self._take_dirty = client.register_script(_TAKE_DIRTY)

    def mark(self, cid: int) -> None:
        self.redis.sadd(keys.live_dirty(), cid)

    def take(self, interval_s: float = 0.0, stats_interval_s: float = 0.0) -> tuple[list[int], list[int]]:
        """The contests whose board is due (changed, and no process pushed it in the last
        `interval_s` seconds), and those whose stats are due (their board pushed since their
        stats were, none pushed in the last `stats_interval_s`)."""
        boards, stats = self._take_dirty(
            keys=[keys.live_dirty(), keys.live_pushed(), keys.live_stats_pending(), keys.live_stats_pushed()],
            args=[int(interval_s * 1000), int(stats_interval_s * 1000)])
        return [int(cid) for cid in boards], [int(cid) for cid in stats]
