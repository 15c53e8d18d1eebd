"""Rate limits for workers, keyed on the entrant and on the address.

Workplaces put hundreds of workers behind one NAT address, so the per-address allowances
are sized for a whole unit entering at a shift break; the per-entrant ones stop a script.
"""

from __future__ import annotations

from dataclasses import dataclass

from contest.errors import TooMany
from contest.runtime import Runtime


@dataclass(frozen=True)
class Allowance:
    limit: int
    window_s: int


# (per address, per subject) allowances for each kind of call.
ALLOWANCES = {
    "entry": (Allowance(3000, 600), Allowance(20, 600)),          # subject: the phone number
    "attempt": (Allowance(3000, 600), Allowance(60, 600)),        # subject: the entrant
    "answer": (Allowance(60000, 600), Allowance(600, 600)),       # subject: the entrant
}


def counters(kind: str, address: str | None, subject: object,
             allowances: dict | None = None) -> list[tuple[str, str, int, int]]:
    """The (scope, subject, limit, window_s) counters one call of `kind` is counted on."""
    per_address, per_subject = (allowances or ALLOWANCES)[kind]
    return [(f"{kind}:who", str(subject), per_subject.limit, per_subject.window_s),
            (f"{kind}:addr", address or "-", per_address.limit, per_address.window_s)]


def refuse() -> None:
    raise TooMany("操作过于频繁，请稍后再试。", code="rate_limited")


def check(rt: Runtime, kind: str, address: str | None, subject: object, allowances: dict | None = None) -> None:
    """Count one call; TooMany (429, in Chinese) when the address or the subject is over its allowance."""
    if not rt.state.limits.take_each(counters(kind, address, subject, allowances)):
        refuse()
