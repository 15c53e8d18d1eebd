"""Live games in Redis: the clock of the current question, answers once, buzz order, the board.

The game hash holds `state` (lobby | question | result | over), `index`, `deadline_ms`,
`paused_left_ms` (set while paused), `buzzer` (1 on a buzzer question) and `players` (seats
not removed). Every change that must not race (an answer against the close, two buzzes,
two host screens judging) is one script.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable

import redis

from contest import embedded_redis
from contest.state import keys
from contest.state.health import FAULTS

log = logging.getLogger(__name__)

# A frame for one room: (room, body).
Frame = tuple[str, dict]

# How long a PIN keeps pointing at its game after the game is over (phones reloading the podium).
PIN_AFTER_OVER_S = 3600

# Status codes the scripts return (negative) besides their result.
NOT_BUILT, CLOSED, REPEATED, WRONG_KIND = -1, -2, -3, -4

# KEYS: game, answers; ARGV: player, index, now_ms, record, grace_ms.
# Takes one answer to the open question if it is before the deadline (or the clock is paused)
# and the player has none yet; returns how many answers the question has, or a status.
_ACCEPT = """
local g = redis.call('HMGET', KEYS[1], 'state', 'index', 'deadline_ms', 'paused_left_ms', 'buzzer')
if not g[1] then return -1 end
if g[1] ~= 'question' or g[2] ~= ARGV[2] then return -2 end
if g[5] == '1' then return -4 end
if not g[4] and tonumber(ARGV[3]) > tonumber(g[3]) + tonumber(ARGV[5]) then return -2 end
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[4]) == 0 then return -3 end
return redis.call('HLEN', KEYS[2])
"""

# KEYS: game; ARGV: the most players the game takes.
# Counts a seat before it is taken, and undoes it past the cap: 1 if a seat is held, 0 if full.
_RESERVE = """
if redis.call('HINCRBY', KEYS[1], 'players', 1) > tonumber(ARGV[1]) then
  redis.call('HINCRBY', KEYS[1], 'players', -1)
  return 0
end
return 1
"""

# KEYS: game, buzz, seq; ARGV: player, index, now_ms, grace_ms.
# Fixes the player's place in the buzz order at arrival; returns the 0-based place or a status.
_BUZZ = """
local g = redis.call('HMGET', KEYS[1], 'state', 'index', 'deadline_ms', 'paused_left_ms', 'buzzer')
if not g[1] then return -1 end
if g[1] ~= 'question' or g[2] ~= ARGV[2] or g[4] then return -2 end
if g[5] ~= '1' then return -4 end
if tonumber(ARGV[3]) > tonumber(g[3]) + tonumber(ARGV[4]) then return -2 end
if redis.call('ZSCORE', KEYS[2], ARGV[1]) then return -3 end
redis.call('ZADD', KEYS[2], 'NX', redis.call('INCR', KEYS[3]), ARGV[1])
return redis.call('ZRANK', KEYS[2], ARGV[1])
"""

# KEYS: game, buzz, judged, scores, players; ARGV: index, right (1/0), points.
# Judges the first seated buzzer not yet judged; returns that player, or -2 when nobody is waiting.
_JUDGE = """
local g = redis.call('HMGET', KEYS[1], 'state', 'index', 'buzzer')
if g[1] ~= 'question' or g[2] ~= ARGV[1] or g[3] ~= '1' then return -2 end
for _, player in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  if redis.call('HEXISTS', KEYS[3], player) == 0 and redis.call('HEXISTS', KEYS[5], player) == 1 then
    redis.call('HSET', KEYS[3], player, ARGV[2])
    if ARGV[2] == '1' then redis.call('ZINCRBY', KEYS[4], ARGV[3], player) end
    return tonumber(player)
  end
end
return -2
"""

# KEYS: game, answers, scores, streaks, players; ARGV: index, force, now_ms, grace_ms, void.
# Closes the open question once: due by the clock (or forced), moves the points of its seated
# players' answers onto the board and the streaks (unless void: a skipped question); a player
# removed meanwhile gets nothing (ZINCRBY would seat them on the board again). Returns 1 if this
# call closed it.
_CLOSE = """
local g = redis.call('HMGET', KEYS[1], 'state', 'index', 'deadline_ms', 'paused_left_ms')
if g[1] ~= 'question' or g[2] ~= ARGV[1] then return 0 end
if ARGV[2] ~= '1' and (g[4] or tonumber(ARGV[3]) < tonumber(g[3]) + tonumber(ARGV[4])) then return 0 end
redis.call('HSET', KEYS[1], 'state', 'result')
redis.call('HDEL', KEYS[1], 'paused_left_ms')
if ARGV[5] == '1' then return 1 end
local index = tonumber(ARGV[1])
local all = redis.call('HGETALL', KEYS[2])
for i = 1, #all, 2 do
  if redis.call('HEXISTS', KEYS[5], all[i]) == 1 then
    local record = cjson.decode(all[i + 1])
    if record.p > 0 then redis.call('ZINCRBY', KEYS[3], record.p, all[i]) end
    if record.c == 1 then
      local run = 1
      local before = redis.call('HGET', KEYS[4], all[i])
      if before then
        local sep = string.find(before, ':', 1, true)
        if tonumber(string.sub(before, sep + 1)) == index - 1 then run = tonumber(string.sub(before, 1, sep - 1)) + 1 end
      end
      redis.call('HSET', KEYS[4], all[i], run .. ':' .. index)
    end
  end
end
return 1
"""


class GameState:
    def __init__(self, client: redis.Redis) -> None:
        self.redis = client
        self._accept = client.register_script(_ACCEPT)
        self._reserve = client.register_script(_RESERVE)
        self._buzz = client.register_script(_BUZZ)
        self._judge = client.register_script(_JUDGE)
        self._close = client.register_script(_CLOSE)

    # PINs -------------------------------------------------------------------------------
    def claim_pin(self, pin: str, gid: int) -> bool:
        """Reserve a PIN for a game; False if a live game holds it."""
        return bool(self.redis.set(keys.game_pin(pin), gid, nx=True))

    def game_for_pin(self, pin: str) -> int | None:
        value = self.redis.get(keys.game_pin(pin))
        return int(value) if value else None

    def forget_later(self, gid: int, pin: str, count: int) -> None:
        """An over game: its PIN and its whole state go after PIN_AFTER_OVER_S (SQL keeps the
        record); without this, each game's players, tokens and answers stayed in Redis for good."""
        pipe = self.redis.pipeline(transaction=False)
        for key in (keys.game_pin(pin), *keys.game_keys(gid, count)):
            pipe.expire(key, PIN_AFTER_OVER_S)
        pipe.execute()

    # The game's clock and state ---------------------------------------------------------
    def load(self, gid: int, count: int, fields: dict, players: dict[int, dict], tokens: dict[str, int],
             scores: dict[int, int], streaks: dict[int, str], answers: dict[int, dict], index: int,
             deadline_ms: int | None, buzzes: list[tuple[int, int]] = (), judged: dict[int, int] | None = None,
             ) -> None:
        """Write a game's whole state at once (a new game, or a rebuild from SQL)."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(*keys.game_keys(gid, count))
        if players:
            pipe.hset(keys.game_players(gid), mapping={pid: json.dumps(p, ensure_ascii=False) for pid, p in players.items()})
        if tokens:
            pipe.hset(keys.game_tokens(gid), mapping=tokens)
        if scores:
            pipe.zadd(keys.game_scores(gid), scores)
        if streaks:
            pipe.hset(keys.game_streaks(gid), mapping=streaks)
        if answers:
            pipe.hset(keys.game_answers(gid, index), mapping={pid: json.dumps(a) for pid, a in answers.items()})
        if buzzes:
            pipe.zadd(keys.game_buzz(gid, index), {pid: seq for seq, pid in buzzes})
            pipe.set(keys.game_buzz_seq(gid), max(seq for seq, _ in buzzes))
        if judged:
            pipe.hset(keys.game_judged(gid, index), mapping=judged)
        pipe.hset(keys.game(gid), mapping=fields)
        pipe.execute()
        # The closer's queue is one global key, so not in the transaction (a transaction's keys
        # must share one Redis Cluster slot).
        if deadline_ms is not None and fields.get("state") == "question" and "paused_left_ms" not in fields:
            self.schedule_close(gid, deadline_ms)
        else:
            self.unschedule(gid)

    def info(self, gid: int) -> dict:
        return self.redis.hgetall(keys.game(gid))

    def info_and_player(self, gid: int, token_hash: str) -> tuple[dict, int | None]:
        """The game hash and the player behind a token hash, in one round trip."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.hgetall(keys.game(gid))
        pipe.hget(keys.game_tokens(gid), token_hash)
        info, pid = pipe.execute()
        return info, int(pid) if pid else None

    def set_fields(self, gid: int, fields: dict, drop: tuple[str, ...] = ()) -> None:
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(keys.game(gid), mapping=fields)
        if drop:
            pipe.hdel(keys.game(gid), *drop)
        pipe.execute()

    def schedule_close(self, gid: int, due_ms: int) -> None:
        self.redis.zadd(keys.game_deadlines(), {gid: due_ms})

    def unschedule(self, gid: int) -> None:
        self.redis.zrem(keys.game_deadlines(), gid)

    def due(self, now_ms: int, limit: int = 100) -> list[int]:
        """Games whose open question's deadline has come (the closer closes them; closing is idempotent)."""
        return [int(g) for g in self.redis.zrangebyscore(keys.game_deadlines(), "-inf", now_ms, 0, limit)]

    def lock(self, gid: int):
        """Serialises host actions and closing of one game across processes and host screens."""
        return self.redis.lock(keys.game_lock(gid), timeout=30, blocking_timeout=30)

    def rebuild_lock(self, gid: int):
        """One rebuild from SQL at a time (apart from the game's lock, which host actions hold while
        they rebuild): a second, from an older read, would wipe answers taken since the first."""
        return self.redis.lock(keys.game_rebuild_lock(gid), timeout=30, blocking_timeout=30)

    def seat_lock(self, gid: int, entry_id: int):
        """Serialises joins of one roster phone, so SQL and Redis agree on its one valid token."""
        return self.redis.lock(keys.game_seat_lock(gid, entry_id), timeout=10, blocking_timeout=10)

    # Players ------------------------------------------------------------------------------
    def reserve_seat(self, gid: int, max_players: int) -> bool:
        """Hold one of the game's seats for a join (False: full). Reading the count and adding to it
        in two steps let a burst of joins pass the cap."""
        return bool(self._reserve(keys=[keys.game(gid)], args=[max_players]))

    def release_seat(self, gid: int) -> None:
        """A held seat that was not taken after all (the join failed)."""
        self.redis.hincrby(keys.game(gid), "players", -1)

    def add_player(self, gid: int, pid: int, token_hash: str, public: dict) -> int:
        """Seat a player on a seat held by reserve_seat; the game's player count."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(keys.game_players(gid), pid, json.dumps(public, ensure_ascii=False))
        pipe.hset(keys.game_tokens(gid), token_hash, pid)
        pipe.zadd(keys.game_scores(gid), {pid: 0}, nx=True)
        pipe.hget(keys.game(gid), "players")
        return int(pipe.execute()[-1])

    def remove_player(self, gid: int, pid: int, token_hash: str, index: int | None = None) -> int:
        """Unseat a player, off the board; at an open question (`index`) their answer and buzz go too,
        so the distribution and the buzz order show only seated players."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.hdel(keys.game_players(gid), pid)
        pipe.hdel(keys.game_tokens(gid), token_hash)
        pipe.zrem(keys.game_scores(gid), pid)
        if index is not None:
            pipe.hdel(keys.game_answers(gid, index), pid)
            pipe.zrem(keys.game_buzz(gid, index), pid)
        pipe.hlen(keys.game_players(gid))
        count = pipe.execute()[-1]
        self.redis.hset(keys.game(gid), "players", count)
        return count

    def move_token(self, gid: int, pid: int, old_hash: str, new_hash: str) -> None:
        pipe = self.redis.pipeline(transaction=True)
        pipe.hdel(keys.game_tokens(gid), old_hash)
        pipe.hset(keys.game_tokens(gid), new_hash, pid)
        pipe.execute()

    def player_for_token(self, gid: int, token_hash: str) -> int | None:
        value = self.redis.hget(keys.game_tokens(gid), token_hash)
        return int(value) if value else None

    def players(self, gid: int) -> dict[int, dict]:
        return {int(pid): json.loads(raw) for pid, raw in self.redis.hgetall(keys.game_players(gid)).items()}

    def player(self, gid: int, pid: int) -> dict | None:
        raw = self.redis.hget(keys.game_players(gid), pid)
        return json.loads(raw) if raw else None

    def streak(self, gid: int, pid: int, index: int) -> int:
        """Correct answers in a row up to the question before `index`."""
        raw = self.redis.hget(keys.game_streaks(gid), pid)
        if not raw:
            return 0
        run, last = raw.split(":")
        return int(run) if int(last) == index - 1 else 0

    # Answers, buzzes, closing -----------------------------------------------------------------
    def accept(self, gid: int, index: int, pid: int, record: dict, now_ms: int, grace_ms: int) -> int:
        """How many answers the question has after this one, or NOT_BUILT / CLOSED / REPEATED / WRONG_KIND."""
        return int(self._accept(keys=[keys.game(gid), keys.game_answers(gid, index)],
                                args=[pid, index, now_ms, json.dumps(record, separators=(",", ":")), grace_ms]))

    def answer_of(self, gid: int, index: int, pid: int) -> dict | None:
        raw = self.redis.hget(keys.game_answers(gid, index), pid)
        return json.loads(raw) if raw else None

    def answers(self, gid: int, index: int) -> dict[int, dict]:
        return {int(pid): json.loads(raw) for pid, raw in self.redis.hgetall(keys.game_answers(gid, index)).items()}

    def answer_count(self, gid: int, index: int) -> int:
        return int(self.redis.hlen(keys.game_answers(gid, index)))

    def buzz(self, gid: int, index: int, pid: int, now_ms: int, grace_ms: int) -> int:
        """The player's 0-based place in the buzz order, or a status."""
        return int(self._buzz(keys=[keys.game(gid), keys.game_buzz(gid, index), keys.game_buzz_seq(gid)],
                              args=[pid, index, now_ms, grace_ms]))

    def buzz_order(self, gid: int, index: int) -> list[int]:
        return [int(p) for p in self.redis.zrange(keys.game_buzz(gid, index), 0, -1)]

    def judged(self, gid: int, index: int) -> dict[int, bool]:
        return {int(p): v == "1" for p, v in self.redis.hgetall(keys.game_judged(gid, index)).items()}

    def judge(self, gid: int, index: int, right: bool, points: int) -> int | None:
        """Judge the first waiting buzzer; their id, or None when nobody waits."""
        pid = int(self._judge(keys=[keys.game(gid), keys.game_buzz(gid, index), keys.game_judged(gid, index),
                                    keys.game_scores(gid), keys.game_players(gid)], args=[index, 1 if right else 0, points]))
        return pid if pid > 0 else None

    def close(self, gid: int, index: int, now_ms: int, grace_ms: int, force: bool = False,
              void: bool = False) -> bool:
        """Close the open question once (True for the call that closed it). The caller holds the
        game's lock, so taking it off the closer's queue after the script cannot drop a newer deadline."""
        closed = bool(self._close(
            keys=[keys.game(gid), keys.game_answers(gid, index), keys.game_scores(gid), keys.game_streaks(gid),
                  keys.game_players(gid)],
            args=[index, 1 if force else 0, now_ms, grace_ms, 1 if void else 0]))
        if closed:
            self.unschedule(gid)  # one global key: outside the script, whose keys share the game's slot
        return closed

    # The board ------------------------------------------------------------------------------
    def board(self, gid: int) -> list[tuple[int, int]]:
        """(player, score), best first; ties by the earlier seat."""
        rows = self.redis.zrange(keys.game_scores(gid), 0, -1, withscores=True)
        return sorted(((int(p), int(s)) for p, s in rows), key=lambda r: (-r[1], r[0]))

    def score(self, gid: int, pid: int) -> int:
        return int(self.redis.zscore(keys.game_scores(gid), pid) or 0)

    def rank(self, gid: int, pid: int) -> int:
        """1 + how many players have more points."""
        mine = self.score(gid, pid)
        return int(self.redis.zcount(keys.game_scores(gid), f"({mine}", "+inf")) + 1

    # Frames for each player ----------------------------------------------------------------
    def publish_each(self, event: str, frames: list[Frame]) -> None:
        """One event with a body per room (each phone's own rank), to every server process as ONE message.

        Through Flask-SocketIO's queue each frame would be a message of its own: 2,000 publishes
        (and 2,000 deliveries in every process) after each question of a big game.
        """
        message = {"event": event, "frames": frames}
        self.redis.publish(keys.game_personal(), json.dumps(message, ensure_ascii=False, separators=(",", ":")))

    def each_listeners(self) -> int:
        """How many server processes hear `publish_each` (for tests and start-up checks)."""
        return int(dict(self.redis.pubsub_numsub(keys.game_personal())).get(keys.game_personal(), 0))

    def listen_each(self, deliver: Callable[[str, list[Frame]], None]) -> None:
        """Hand every batch of `publish_each` to `deliver` (this process's clients), forever.

        Survives Redis outages by subscribing again; batches published meanwhile are lost, as
        any pub/sub frame is (a phone sees its rank in the next result or its rejoin snapshot).
        """
        failures = 0
        while True:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.subscribe(keys.game_personal())
                failures = 0
                for message in pubsub.listen():
                    if message["type"] != "message":
                        continue
                    batch = json.loads(message["data"])
                    try:
                        deliver(batch["event"], [(room, body) for room, body in batch["frames"]])
                    except Exception:  # a bad batch must not stop the next ones
                        log.exception("delivering %s frames failed", batch.get("event"))
            except FAULTS as error:
                failures += 1
                # Once an outage, and only if a retry a second later fails too; quiet while exiting.
                if failures == 2 and not embedded_redis.stopping():
                    log.warning("game frames: Redis unavailable (%s); retrying", error)
            finally:
                try:
                    pubsub.close()
                except FAULTS:
                    pass
            time.sleep(1)  # wait before subscribing again (cooperative under gevent)
