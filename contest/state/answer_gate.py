"""An answer's one Redis call before SQL, as one script under the contest's hash tag."""

from __future__ import annotations

import json
from collections.abc import Sequence

import redis

from contest.state import keys
from contest.state.shared_connection import SharedConnection, run_script

# KEYS: the answer's n allowance counters, then the attempt's cache, the contest's stats and its
# answers per minute. ARGV: n, the limit and window of each counter in turn, the minute.
# Counts the try on every counter (a fixed window from the first try, as limits._TAKE_EACH) and,
# only when every allowance holds, the answer on the monitor; answers {allowed, cached attempt}.
# One EVALSHA where a pipeline of four commands was: an EVAL carrying the counters' script text,
# a GET and two HINCRBY, each packed and parsed by the client on the hot path.
ANSWER_GATE = """
local n = tonumber(ARGV[1])
local allowed = 1
for i = 1, n do
  local tries = redis.call('INCR', KEYS[i])
  if redis.call('TTL', KEYS[i]) < 0 then redis.call('EXPIRE', KEYS[i], ARGV[2 * i + 1]) end
  if tries > tonumber(ARGV[2 * i]) then allowed = 0 end
end
if allowed == 1 then
  redis.call('HINCRBY', KEYS[n + 2], 'answers', 1)
  redis.call('HINCRBY', KEYS[n + 3], ARGV[2 * n + 2], 1)
end
return {allowed, redis.call('GET', KEYS[n + 1])}
"""


class AnswerGate:
    def __init__(self, client: redis.Redis, shared: SharedConnection | None) -> None:
        self._gate = client.register_script(ANSWER_GATE)
        self._shared = shared

    def take(self, counters: Sequence[tuple[str, str, int, int]], cid: int, aid: int,
             minute: str) -> tuple[bool, dict | None]:
        """Count an answer against its (scope, subject, limit, window_s) allowances and, if they
        hold, on the contest's monitor; whether they hold, and the open attempt's cached facts
        (None if not cached). A caller that refuses an allowed answer after all takes the
        monitor's count back with `Boards.uncount_answer`."""
        names = [keys.contest_limit(cid, scope, subject) for scope, subject, _limit, _window in counters]
        args = [len(names), *(n for _scope, _subject, limit, window in counters for n in (limit, window)), minute]
        names += [keys.attempt(cid, aid), keys.stats(cid), keys.per_minute(cid)]
        allowed, meta = run_script(self._shared, self._gate, names, args)
        return bool(allowed), json.loads(meta) if meta else None
