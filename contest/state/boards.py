"""Leaderboards, unit tallies and contest counters for timed contests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import redis

from contest.state import keys
from contest.state.health import Health
from contest.state.pipes import eval_in

# Seconds a rebuild may hold its contest's lock, and a caller may wait for it.
REBUILD_LOCK_S = 60

# A standing is a text member ordered so that the best comes first in the board:
# higher score, then shorter duration, then the earlier finish, then the lower entrant id.
_SCORE_CEILING = 10**11


@dataclass(frozen=True)
class Standing:
    entrant_id: int
    unit_id: int
    score: float
    duration_ms: int
    finished_ms: int
    # How many finished attempts this standing reflects; older computations are ignored.
    version: int

    def member(self) -> str:
        inverse = _SCORE_CEILING - round(self.score * 100)
        return f"{inverse:012d}|{self.duration_ms:010d}|{self.finished_ms:013d}|{self.entrant_id:010d}"

    @property
    def score_centi(self) -> int:
        return round(self.score * 100)


def parse_member(member: str) -> tuple[int, float, int, int]:
    """(entrant_id, score, duration_ms, finished_ms) from a board member."""
    inverse, duration, finished, entrant = member.split("|")
    return int(entrant), (_SCORE_CEILING - int(inverse)) / 100, int(duration), int(finished)


# KEYS: board, standing, best, unit_participants, unit_best_sum, unit_attempts, stats, built
# ARGV: entrant, member, score_centi, unit, version
# Counts one finished attempt and moves the entrant's standing if this version is newer.
# Returns the entrant's 0-based rank, or -1 when the state was never built (caller rebuilds).
# Every key is the contest's (one Redis Cluster slot); the caller marks the contest for a push.
_RECORD_FINISH = """
if redis.call('EXISTS', KEYS[8]) == 0 then return -1 end
redis.call('HINCRBY', KEYS[6], ARGV[4], 1)
redis.call('HINCRBY', KEYS[7], 'attempts', 1)
local current = redis.call('HGET', KEYS[2], ARGV[1])
local member = ARGV[2]
if current then
  local sep = string.find(current, '/', 1, true)
  local version = tonumber(string.sub(current, 1, sep - 1))
  if version >= tonumber(ARGV[5]) then
    member = string.sub(current, sep + 1)
  else
    redis.call('ZREM', KEYS[1], string.sub(current, sep + 1))
  end
end
if member == ARGV[2] then
  redis.call('ZADD', KEYS[1], 0, member)
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[5] .. '/' .. member)
  local old_best = redis.call('HGET', KEYS[3], ARGV[1])
  redis.call('HSET', KEYS[3], ARGV[1], ARGV[3])
  if old_best then
    redis.call('HINCRBY', KEYS[5], ARGV[4], tonumber(ARGV[3]) - tonumber(old_best))
  else
    redis.call('HINCRBY', KEYS[4], ARGV[4], 1)
    redis.call('HINCRBY', KEYS[7], 'participants', 1)
    redis.call('HINCRBY', KEYS[5], ARGV[4], ARGV[3])
  end
end
return redis.call('ZRANK', KEYS[1], member)
"""


def rank_of_result(rank: int) -> int | None:
    """The 1-based rank from the record-finish script's answer (None: the state was never built)."""
    return None if rank == -1 else int(rank) + 1


@dataclass
class UnitTally:
    unit_id: int
    participants: int
    attempts: int
    best_sum: float


class Boards:
    def __init__(self, client: redis.Redis, health: Health | None = None) -> None:
        self.redis = client
        self.health = health or Health(client)

    def is_built(self, cid: int) -> bool:
        """Built from SQL, and (after a Redis fault this process saw) rebuilt since."""
        return self.health.trusted(cid) and bool(self.redis.exists(keys.built(cid)))

    @contextmanager
    def rebuilding(self, cid: int, force: bool = True) -> Iterator[bool]:
        """Hold the contest's rebuild lock; yields whether to rebuild (always when `force`, else only
        if nobody built it while we waited). The built marker is taken away before the caller reads
        SQL, so a finish recorded meanwhile finds the state unbuilt and rebuilds after us."""
        lock = self.redis.lock(keys.rebuild_lock(cid), timeout=REBUILD_LOCK_S, blocking_timeout=REBUILD_LOCK_S)
        if not lock.acquire():
            raise redis.TimeoutError(f"rebuild lock of contest {cid} not free")
        try:
            needed = force or not self.is_built(cid)
            if needed:
                self.redis.delete(keys.built(cid))
            yield needed
        finally:
            try:
                lock.release()
            except redis.exceptions.LockError:  # expired meanwhile: another rebuild may follow
                pass

    def record_finish(self, cid: int, standing: Standing, pipe: redis.client.Pipeline) -> None:
        """Count a finished attempt, update the standing and mark the contest for a push, in `pipe`
        (State.finish_attempt): two replies, the script's (`rank_of_result`) and the mark's."""
        names = [
            keys.board(cid), keys.standing(cid), keys.best(cid), keys.unit_participants(cid),
            keys.unit_best_sum(cid), keys.unit_attempts(cid), keys.stats(cid), keys.built(cid),
        ]
        args = [standing.entrant_id, standing.member(), standing.score_centi, standing.unit_id, standing.version]
        eval_in(pipe, _RECORD_FINISH, names, args)
        pipe.sadd(keys.live_dirty(), cid)

    def count_entrant(self, cid: int, pipe: redis.client.Pipeline | None = None) -> None:
        (pipe or self.redis).hincrby(keys.stats(cid), "entrants", 1)

    def count_answer(self, cid: int, minute: str, pipe: redis.client.Pipeline | None = None, by: int = 1) -> None:
        """Count an accepted answer (in `pipe`, executed by the caller, when given)."""
        own = pipe is None
        pipe = self.redis.pipeline(transaction=False) if own else pipe
        pipe.hincrby(keys.stats(cid), "answers", by)
        pipe.hincrby(keys.per_minute(cid), minute, by)
        if own:
            pipe.execute()

    def uncount_answer(self, cid: int, minute: str) -> None:
        """Take back the count of an answer that was refused after all."""
        self.count_answer(cid, minute, by=-1)

    def rank_of(self, cid: int, entrant_id: int) -> int | None:
        current = self.redis.hget(keys.standing(cid), entrant_id)
        if not current:
            return None
        rank = self.redis.zrank(keys.board(cid), current.split("/", 1)[1])
        return None if rank is None else rank + 1

    def top(self, cid: int, limit: int) -> list[tuple[int, float, int, int]]:
        """The first `limit` standings as (entrant_id, score, duration_ms, finished_ms)."""
        members = self.redis.zrange(keys.board(cid), 0, max(limit, 1) - 1)
        return [parse_member(m) for m in members]

    def stats(self, cid: int) -> dict[str, int]:
        raw = self.redis.hgetall(keys.stats(cid))
        return {name: int(raw.get(name, 0)) for name in ("participants", "attempts", "answers", "entrants")}

    def unit_tallies(self, cid: int) -> dict[int, UnitTally]:
        pipe = self.redis.pipeline(transaction=False)
        pipe.hgetall(keys.unit_participants(cid))
        pipe.hgetall(keys.unit_attempts(cid))
        pipe.hgetall(keys.unit_best_sum(cid))
        participants, attempts, best_sum = pipe.execute()
        tallies: dict[int, UnitTally] = {}
        for unit in set(participants) | set(attempts):
            tallies[int(unit)] = UnitTally(
                unit_id=int(unit),
                participants=int(participants.get(unit, 0)),
                attempts=int(attempts.get(unit, 0)),
                best_sum=int(best_sum.get(unit, 0)) / 100,
            )
        return tallies

    def per_minute(self, cid: int) -> dict[str, int]:
        return {minute: int(n) for minute, n in self.redis.hgetall(keys.per_minute(cid)).items()}

    def replace(
        self,
        cid: int,
        standings: list[Standing],
        unit_attempts: dict[int, int],
        stats: dict[str, int],
        per_minute: dict[str, int],
    ) -> None:
        """Write a contest's whole state at once (rebuild from SQL)."""
        participants: dict[int, int] = {}
        best_sum: dict[int, int] = {}
        for s in standings:
            participants[s.unit_id] = participants.get(s.unit_id, 0) + 1
            best_sum[s.unit_id] = best_sum.get(s.unit_id, 0) + s.score_centi
        pipe = self.redis.pipeline(transaction=True)
        for key in keys.contest_keys(cid):
            pipe.delete(key)
        if standings:
            pipe.zadd(keys.board(cid), {s.member(): 0 for s in standings})
            pipe.hset(keys.standing(cid), mapping={s.entrant_id: f"{s.version}/{s.member()}" for s in standings})
            pipe.hset(keys.best(cid), mapping={s.entrant_id: s.score_centi for s in standings})
            pipe.hset(keys.unit_participants(cid), mapping=participants)
            pipe.hset(keys.unit_best_sum(cid), mapping=best_sum)
        if unit_attempts:
            pipe.hset(keys.unit_attempts(cid), mapping=unit_attempts)
        if per_minute:
            pipe.hset(keys.per_minute(cid), mapping=per_minute)
        pipe.hset(keys.stats(cid), mapping={**stats, "participants": len(standings)})
        pipe.set(keys.built(cid), 1)
        pipe.execute()
        self.redis.sadd(keys.live_dirty(), cid)  # a global key: outside the contest's transaction
        self.health.verified(cid)
