"""Counters of tries per window (login failures), shared by every server process."""

from __future__ import annotations

from collections.abc import Sequence

import redis

from contest.state import keys
from contest.state.shared_connection import SharedConnection, run_script

# KEYS: counters; ARGV: limit, window_s. Counts one try on every counter at once, so
# parallel tries cannot all slip under the limit. A counter's window opens at its first
# try (a fixed window); the TTL check also heals a counter that somehow lost its expiry.
_TAKE = """
local allowed = 1
for _, key in ipairs(KEYS) do
  local tries = redis.call('INCR', key)
  if redis.call('TTL', key) < 0 then redis.call('EXPIRE', key, ARGV[2]) end
  if tries > tonumber(ARGV[1]) then allowed = 0 end
end
return allowed
"""

# KEYS: counters; ARGV: limit and window_s of each counter in turn. Like _TAKE, with an
# allowance per counter (a worker's own and its address's), in one round trip.
_TAKE_EACH = """
local allowed = 1
for i, key in ipairs(KEYS) do
  local tries = redis.call('INCR', key)
  if redis.call('TTL', key) < 0 then redis.call('EXPIRE', key, ARGV[2 * i]) end
  if tries > tonumber(ARGV[2 * i - 1]) then allowed = 0 end
end
return allowed
"""

# KEYS: counter. Un-counts a try that turned out fine, keeping the window's expiry.
_GIVE_BACK = """
local tries = tonumber(redis.call('GET', KEYS[1]) or '0')
if tries > 0 then return redis.call('DECR', KEYS[1]) end
return 0
"""


class Limits:
    """Fixed-window allowances, e.g. 10 login failures per 15 minutes per username."""

    def __init__(self, client: redis.Redis, shared: SharedConnection | None = None) -> None:
        self.redis = client
        self._shared = shared  # for take_each, on every worker's entry and start
        self._take = client.register_script(_TAKE)
        self._give_back = client.register_script(_GIVE_BACK)
        self._take_each = client.register_script(_TAKE_EACH)

    def take(self, counters: Sequence[tuple[str, str]], limit: int, window_s: int) -> bool:
        """Count one try against each (scope, subject); False if any allowance is used up."""
        names = [keys.limit(scope, subject) for scope, subject in counters]
        return bool(self._take(keys=names, args=[limit, window_s]))

    def take_each(self, counters: Sequence[tuple[str, str, int, int]]) -> bool:
        """Count one try against each (scope, subject, limit, window_s); False if any is used up."""
        names = [keys.limit(scope, subject) for scope, subject, _limit, _window in counters]
        args = [n for _scope, _subject, limit, window in counters for n in (limit, window)]
        return bool(run_script(self._shared, self._take_each, names, args))

    def give_back(self, scope: str, subject: str) -> None:
        """Un-count one try (it succeeded), so honest use does not eat the allowance."""
        self._give_back(keys=[keys.limit(scope, subject)])

    def clear(self, scope: str, subject: str) -> None:
        self.redis.delete(keys.limit(scope, subject))

    def tries(self, scope: str, subject: str) -> int:
        return int(self.redis.get(keys.limit(scope, subject)) or 0)
