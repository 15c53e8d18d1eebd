"""Who a token speaks for, remembered in this process; forgotten in every process the moment a
purge deletes the tokens.

A token never changes owner, so each process keeps token hash -> (entrant, contest) in memory
and spares Redis a read per call. A purge deletes the Redis cache and publishes the contest id;
each process listens and drops that contest's tokens. A process not listening (starting, or
Redis away) does not use its memory at all, and empties it when it listens again, so a
revocation it missed cannot leave a purged token working.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable

import redis

from contest import embedded_redis
from contest.state import keys
from contest.state.health import FAULTS

log = logging.getLogger(__name__)
KNOWN_MAX = 200_000
_CHUNK = 500


class TokenCache:
    def __init__(self, client: redis.Redis) -> None:
        self.redis = client
        self._known: dict[str, tuple[int, int]] = {}
        self._listening = threading.Event()
        self._started = False
        self._start_lock = threading.Lock()

    def known(self, token_hash: str) -> tuple[int, int] | None:
        """(entrant_id, contest_id) if this process knows the token and hears revocations."""
        if not self._listening.is_set():
            self._start()
            return None
        return self._known.get(token_hash)

    def keep(self, token_hash: str, owner: tuple[int, int]) -> None:
        if not self._listening.is_set():
            return
        if len(self._known) >= KNOWN_MAX:
            self._known.clear()
        self._known[token_hash] = owner

    def revoke(self, cid: int, token_hashes: Iterable[str]) -> None:
        """Delete these tokens of contest `cid` from Redis and from every process's memory."""
        names = [keys.token(h) for h in token_hashes]
        for start in range(0, len(names), _CHUNK):
            # One DEL per token: the tokens lie in many Redis Cluster slots (a multi-key DEL needs one).
            pipe = self.redis.pipeline(transaction=False)
            for name in names[start:start + _CHUNK]:
                pipe.delete(name)
            pipe.execute()
        self.redis.publish(keys.token_revocations(), cid)
        self._drop(cid)

    def wait_listening(self, timeout: float) -> bool:
        """For tests and start-up: True once revocations are heard."""
        self._start()
        return self._listening.wait(timeout)

    def _drop(self, cid: int) -> None:
        for token_hash, owner in list(self._known.items()):
            if owner[1] == cid:
                self._known.pop(token_hash, None)

    def _start(self) -> None:
        with self._start_lock:
            if not self._started:
                self._started = True
                threading.Thread(target=self._listen, name="jd-token-revocations", daemon=True).start()

    def _listen(self) -> None:
        failures = 0
        while True:
            pubsub = self.redis.pubsub()
            try:
                pubsub.subscribe(keys.token_revocations())
                for message in pubsub.listen():
                    if message["type"] == "subscribe":
                        self._known.clear()  # revocations missed while not listening
                        self._listening.set()
                        failures = 0
                    elif message["type"] == "message":
                        self._drop(int(message["data"]))
            except FAULTS as error:
                failures += 1
                # Once an outage, and only if a retry a second later fails too; quiet while exiting.
                if failures == 2 and not embedded_redis.stopping():
                    log.warning("token revocations: Redis unavailable (%s); retrying", error)
            finally:
                self._listening.clear()
                try:
                    pubsub.close()
                except FAULTS:
                    pass
            time.sleep(1)  # wait before reconnecting (cooperative under gevent)
