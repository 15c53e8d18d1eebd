"""Running a Lua script inside a pipeline, the same way on one Redis and on a Redis Cluster."""

from __future__ import annotations

from collections.abc import Sequence

import redis


def eval_in(pipe: redis.client.Pipeline, script: str, names: Sequence[str], args: Sequence[object]) -> None:
    """Queue EVAL of `script` in `pipe`. EVAL, not EVALSHA: a pipeline cannot fall back when the
    script cache was flushed. Sent as a raw command because redis-py's cluster pipeline refuses
    `.eval()`, though it routes a raw EVAL by its keys (which must share one slot)."""
    pipe.execute_command("EVAL", script, len(names), *names, *args)
