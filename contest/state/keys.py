"""Key names: the only place a Redis key is spelled. See the package docstring for the list."""

from __future__ import annotations

import hashlib

PREFIX = "jd"


def _contest(cid: int) -> str:
    return f"{PREFIX}:{{c{cid}}}"


def token(token_hash: str) -> str:
    return f"{PREFIX}:token:{token_hash}"


def attempt(cid: int, aid: int) -> str:
    return f"{_contest(cid)}:attempt:{aid}"


def board(cid: int) -> str:
    return f"{_contest(cid)}:board"


def standing(cid: int) -> str:
    return f"{_contest(cid)}:standing"


def best(cid: int) -> str:
    return f"{_contest(cid)}:best"


def unit_participants(cid: int) -> str:
    return f"{_contest(cid)}:unit:participants"


def unit_attempts(cid: int) -> str:
    return f"{_contest(cid)}:unit:attempts"


def unit_best_sum(cid: int) -> str:
    return f"{_contest(cid)}:unit:best_sum"


def stats(cid: int) -> str:
    return f"{_contest(cid)}:stats"


def per_minute(cid: int) -> str:
    return f"{_contest(cid)}:per_minute"


def built(cid: int) -> str:
    return f"{_contest(cid)}:built"


def rebuild_lock(cid: int) -> str:
    return f"{_contest(cid)}:rebuilding"


def contest_keys(cid: int) -> list[str]:
    """Every per-contest key that rebuild-state clears (attempt caches expire on their own)."""
    return [
        board(cid), standing(cid), best(cid), unit_participants(cid),
        unit_attempts(cid), unit_best_sum(cid), stats(cid), per_minute(cid), built(cid),
    ]


def epoch() -> str:
    """Set by the first server process to see this Redis; missing means Redis lost its data."""
    return f"{PREFIX}:epoch"


def token_revocations() -> str:
    """The pub/sub channel on which a purge names the contest whose tokens died."""
    return f"{PREFIX}:tokens:revoked"


def deadlines() -> str:
    return f"{PREFIX}:deadlines"


def regrades_due() -> str:
    return f"{PREFIX}:regrades:due"


def live_dirty() -> str:
    return f"{PREFIX}:{{live}}:dirty"


def live_pushed() -> str:
    """Beside live_dirty (one hash tag): the pusher's script reads and writes all four live keys."""
    return f"{PREFIX}:{{live}}:pushed"


def live_stats_pending() -> str:
    """Contests whose board was pushed and whose stats frame waits for its own, slower turn."""
    return f"{PREFIX}:{{live}}:stats-pending"


def live_stats_pushed() -> str:
    return f"{PREFIX}:{{live}}:stats-pushed"


def limit(scope: str, subject: str) -> str:
    """A counter of tries; the subject (a username, an address) is hashed so any text is safe.

    All counters share the `{limits}` hash tag, so one script may count several at once.
    """
    return f"{PREFIX}:{{limits}}:{scope}:{_digest(subject)}"


def contest_limit(cid: int, scope: str, subject: str) -> str:
    """A counter of tries within one contest (an answer's allowances), under the contest's hash tag
    so that the answer's one script may count it with the contest's keys."""
    return f"{_contest(cid)}:limit:{scope}:{_digest(subject)}"


def _digest(subject: str) -> str:
    return hashlib.sha256(subject.encode("utf-8")).hexdigest()[:32]


def _game(gid: int) -> str:
    return f"{PREFIX}:{{g{gid}}}"


def game_pin(pin: str) -> str:
    """PIN → game id, for games not yet over (and a while after, so phones can see the podium)."""
    return f"{PREFIX}:gamepin:{pin}"


def game(gid: int) -> str:
    return f"{_game(gid)}:game"


def game_players(gid: int) -> str:
    return f"{_game(gid)}:players"


def game_tokens(gid: int) -> str:
    return f"{_game(gid)}:tokens"


def game_scores(gid: int) -> str:
    return f"{_game(gid)}:scores"


def game_streaks(gid: int) -> str:
    return f"{_game(gid)}:streaks"


def game_answers(gid: int, index: int) -> str:
    return f"{_game(gid)}:answers:{index}"


def game_buzz(gid: int, index: int) -> str:
    return f"{_game(gid)}:buzz:{index}"


def game_buzz_seq(gid: int) -> str:
    return f"{_game(gid)}:buzzseq"


def game_judged(gid: int, index: int) -> str:
    return f"{_game(gid)}:judged:{index}"


def game_lock(gid: int) -> str:
    return f"{_game(gid)}:lock"


def game_rebuild_lock(gid: int) -> str:
    return f"{_game(gid)}:rebuilding"


def game_seat_lock(gid: int, entry_id: int) -> str:
    """Held while one roster-only seat is taken or handed to another device."""
    return f"{_game(gid)}:seat:{entry_id}:lock"


def game_keys(gid: int, count: int) -> list[str]:
    """Every key of one game (the PIN key aside), for a rebuild from SQL."""
    per_question = [k for i in range(count) for k in (game_answers(gid, i), game_buzz(gid, i), game_judged(gid, i))]
    return [game(gid), game_players(gid), game_tokens(gid), game_scores(gid), game_streaks(gid),
            game_buzz_seq(gid), *per_question]


def game_deadlines() -> str:
    return f"{PREFIX}:games:deadlines"


def game_personal() -> str:
    """The pub/sub channel carrying one batch of per-player frames (own rank) to every server process."""
    return f"{PREFIX}:games:personal"
