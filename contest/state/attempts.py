"""Caches of tokens and open attempts, and the queue of deadlines the finisher watches.

The record of both is in SQL; these caches spare the database a read on every answer.
"""

from __future__ import annotations

import json

import redis

from contest.state import keys
from contest.state.shared_connection import SharedConnection, execute

TOKEN_TTL_S = 7 * 24 * 3600

# KEYS: a due-time zset (the deadlines, the regrades); ARGV: now_ms, limit. Takes the due
# members off the queue atomically, so that of several processes exactly one handles each.
TAKE_DUE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
if #due > 0 then redis.call('ZREM', KEYS[1], unpack(due)) end
return due
"""


class AttemptCache:
    def __init__(self, client: redis.Redis, shared: SharedConnection | None = None) -> None:
        self.redis = client
        self._shared = shared
        self._take_due = client.register_script(TAKE_DUE)

    def remember_token(self, token_hash: str, entrant_id: int, contest_id: int,
                       pipe: redis.client.Pipeline | None = None) -> None:
        """Cache a token's owner (in `pipe`, executed by the caller, when given)."""
        (pipe or self.redis).set(keys.token(token_hash), f"{entrant_id}:{contest_id}", ex=TOKEN_TTL_S)

    def token_owner(self, token_hash: str) -> tuple[int, int] | None:
        """(entrant_id, contest_id) for a token hash, if cached."""
        value = self.redis.get(keys.token(token_hash))
        if not value:
            return None
        entrant, contest = value.split(":")
        return int(entrant), int(contest)

    def remember(self, cid: int, aid: int, meta: dict, ttl_s: int, finish_at_ms: int | None = None) -> None:
        """Cache an open attempt's facts (owner, deadline, paper) until a while after its deadline;
        with `finish_at_ms`, also put it on the finisher's queue (in the same round trip)."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.set(keys.attempt(cid, aid), json.dumps(meta, separators=(",", ":")), ex=max(ttl_s, 60))
        if finish_at_ms is not None:
            pipe.zadd(keys.deadlines(), {f"{cid}:{aid}": finish_at_ms})
        execute(self._shared, pipe)

    def recall(self, cid: int, aid: int) -> dict | None:
        raw = self.redis.get(keys.attempt(cid, aid))
        return json.loads(raw) if raw else None

    def forget(self, cid: int, aid: int, pipe: redis.client.Pipeline) -> None:
        """Drop a finished attempt's cache and deadline, in `pipe` (State.finish_attempt)."""
        pipe.delete(keys.attempt(cid, aid))
        pipe.zrem(keys.deadlines(), f"{cid}:{aid}")

    def schedule_finish(self, cid: int, aid: int, due_ms: int) -> None:
        self.redis.zadd(keys.deadlines(), {f"{cid}:{aid}": due_ms})

    def take_due(self, now_ms: int, limit: int = 200) -> list[tuple[int, int]]:
        """(contest_id, attempt_id) of attempts whose finishing time has come."""
        due = self._take_due(keys=[keys.deadlines()], args=[now_ms, limit])
        return [tuple(int(part) for part in item.split(":")) for item in due]
