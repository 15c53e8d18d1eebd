"""All live state in Redis: every key name and every Lua script lives in this package.

Key names (built only by `keys.py`; `{c42}` is a hash tag so a contest's keys share a
Redis Cluster slot). A Lua script or MULTI transaction touches the keys of one hash tag only;
the untagged keys are touched by single-key commands (in pipelines, which a cluster client
routes node by node). tests/test_redis_cluster.py holds every script to it on a real cluster.

    jd:token:<sha256>                 string  "<entrant_id>:<contest_id>" (cache of entrant_tokens)
    jd:{c<cid>}:attempt:<aid>         string  JSON: entrant, deadline_ms, paper (cache of an open attempt)
    jd:{c<cid>}:board                 zset    standing members, all score 0, ordered by text
    jd:{c<cid>}:standing              hash    entrant id -> "<version>/<member>" (its member in the board)
    jd:{c<cid>}:best                  hash    entrant id -> ranked score in hundredths (for unit averages)
    jd:{c<cid>}:unit:participants     hash    unit id -> participants
    jd:{c<cid>}:unit:attempts         hash    unit id -> finished attempts
    jd:{c<cid>}:unit:best_sum         hash    unit id -> sum of participants' ranked scores, hundredths
    jd:{c<cid>}:stats                 hash    participants, attempts, answers, entrants
    jd:{c<cid>}:per_minute            hash    "YYYY-MM-DDTHH:MM" -> answers accepted that minute
    jd:{c<cid>}:built                 string  set once the contest's state was built from SQL
    jd:{c<cid>}:rebuilding            string  lock held while the contest's state is rebuilt from SQL
    jd:epoch                          string  run id of the server that first saw this Redis (missing: data lost)
    jd:tokens:revoked                 channel contest ids whose tokens a purge deleted (per-process caches drop them)
    jd:deadlines                      zset    "<cid>:<aid>" of open attempts -> deadline ms (the finisher's queue)
    jd:regrades:due                   zset    question id -> ms when its corrected key is applied once more (second pass)
    jd:{live}:dirty                   set     contest ids whose board or stats changed since they were last pushed
    jd:{live}:pushed                  hash    contest id -> Redis time (ms) of its last push, by any server process
    jd:{c<cid>}:limit:<scope>:<sha256> string tries in the current window of an answer's allowances (answer:who, answer:addr)
    jd:{limits}:<scope>:<sha256>      string  tries in the current window (login_user, login_addr, entry, attempt), expires with it
    jd:gamepin:<pin>                  string  game id of a live game (expires an hour after it is over)
    jd:{g<gid>}:game                  hash    state, index, deadline_ms, paused_left_ms, buzzer, players, count
    jd:{g<gid>}:players               hash    player id -> JSON {name (masked), unit, unit_id}
    jd:{g<gid>}:tokens                hash    sha256 of a player token -> player id
    jd:{g<gid>}:scores                zset    player id -> points (the game's board)
    jd:{g<gid>}:streaks               hash    player id -> "<run>:<index of the last correct answer>"
    jd:{g<gid>}:answers:<index>       hash    player id -> JSON {a, p, c, ms}: the one answer taken in time
    jd:{g<gid>}:buzz:<index>          zset    player id -> arrival sequence (the buzz order)
    jd:{g<gid>}:buzzseq               string  the game's buzz sequence counter
    jd:{g<gid>}:judged:<index>        hash    player id -> 1 right / 0 wrong (buzzers the host judged)
    jd:{g<gid>}:lock                  string  lock held by host actions and the closer
    jd:games:deadlines                zset    game id -> deadline ms of its open question (the closer's queue)
    jd:games:personal                 channel JSON {event, frames: [[room, body], ...]}: per-phone frames (own rank) for every server process
"""

from __future__ import annotations

from collections.abc import Sequence

import redis

from contest.state import keys
from contest.state.answer_gate import AnswerGate
from contest.state.attempts import AttemptCache
from contest.state.boards import Boards, Standing, rank_of_result
from contest.state.games import GameState
from contest.state.health import Health
from contest.state.limits import Limits
from contest.state.live import LiveQueue
from contest.state.regrades import RegradeQueue
from contest.state.shared_connection import SharedConnection, execute
from contest.state.tokens import TokenCache

__all__ = ["State", "Standing", "keys"]


class State:
    """The live state of every contest and game, over one Redis client."""

    def __init__(self, client: redis.Redis) -> None:
        self.redis = client
        # On one Redis, the hot paths' calls share one connection (shared_connection.py); a
        # cluster's client routes each call to its slot's node itself.
        self.shared = None if isinstance(client, redis.RedisCluster) else SharedConnection(client)
        self.health = Health(client)
        self.boards = Boards(client, self.health)
        self.attempts = AttemptCache(client, self.shared)
        self.tokens = TokenCache(client)
        self.live = LiveQueue(client)
        self.limits = Limits(client, self.shared)
        self._answer_gate = AnswerGate(client, self.shared)
        self.games = GameState(client)
        self.regrades = RegradeQueue(client)

    def answer_gate(self, counters: Sequence[tuple[str, str, int, int]], cid: int, aid: int,
                    minute: str) -> tuple[bool, dict | None]:
        """An answer's one round trip before SQL (AnswerGate.take): its allowances, the open
        attempt's cached facts, and the monitor's count when the allowances hold."""
        return self._answer_gate.take(counters, cid, aid, minute)

    def entered(self, token_hash: str, entrant_id: int, cid: int, created: bool) -> None:
        """An entry in one round trip: cache the new token's owner, and count a new entrant. The
        token is known to this process too, so the start that follows reads no token from Redis."""
        pipe = self.redis.pipeline(transaction=False)
        self.attempts.remember_token(token_hash, entrant_id, cid, pipe)
        if created:
            self.boards.count_entrant(cid, pipe)
        execute(self.shared, pipe)
        self.tokens.keep(token_hash, (entrant_id, cid))

    def finish_attempt(self, cid: int, aid: int, standing: Standing) -> int | None:
        """A finished attempt in one round trip: forget its cache and deadline, and count it on the
        boards (Boards.record_finish); the entrant's 1-based rank, or None if the state was never built."""
        pipe = self.redis.pipeline(transaction=False)
        self.attempts.forget(cid, aid, pipe)
        self.boards.record_finish(cid, standing, pipe)
        _deleted, _dequeued, rank, _marked = execute(self.shared, pipe)
        return rank_of_result(rank)
