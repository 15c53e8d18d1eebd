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


def contest_keys(cid: int) -> list[str]:
    """Every per-contest key that rebuild-state clears (attempt caches expire on their own)."""
    return [
        board(cid), standing(cid), best(cid), unit_participants(cid),
        unit_attempts(cid), unit_best_sum(cid), stats(cid), per_minute(cid), built(cid),
    ]


def deadlines() -> str:
    return f"{PREFIX}:deadlines"


def live_dirty() -> str:
    return f"{PREFIX}:live:dirty"


def limit(scope: str, subject: str) -> str:
    """A counter of tries; the subject (a username, an address) is hashed so any text is safe.

    All counters share the `{limits}` hash tag, so one script may count several at once.
    """
    digest = hashlib.sha256(subject.encode("utf-8")).hexdigest()[:32]
    return f"{PREFIX}:{{limits}}:{scope}:{digest}"
