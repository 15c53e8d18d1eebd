"""After a Redis outage: rebuild the live state from SQL, the record.

Run by each server's finisher loop once Redis answers again (see state/health.py for how a
process knows one is due): open attempts go back on the finisher's queue with their deadlines
from SQL, and the boards of contests still running (or just ended) are rebuilt. Other contests
are rebuilt on their next read (ranking.ensure_built).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select

from contest.models import Contest
from contest.play import attempts, ranking
from contest.runtime import Runtime

log = logging.getLogger(__name__)
# Contests ended within this long still get finishes (deadlines, grace): rebuild them eagerly.
RECENTLY_ENDED = timedelta(days=1)


def recover_if_due(rt: Runtime) -> bool:
    """Rebuild what Redis may have lost, if this process saw a fault or Redis lost its data."""
    faults = rt.state.health.recovery_due()
    if faults is None:
        return False
    reopened = attempts.reschedule_open(rt)
    since = rt.clock.now() - RECENTLY_ENDED
    contests = rt.session.scalars(select(Contest).where(Contest.ends_at >= since)).all()
    for contest in contests:
        ranking.rebuild(rt, contest)
    rt.session.rollback()
    rt.state.health.recovered(faults)
    log.warning("live state rebuilt from SQL after a Redis outage: %d contests, %d open attempts",
                len(contests), reopened)
    return True
