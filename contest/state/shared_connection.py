"""One Redis connection shared by every request of a process at once, for the hot paths' calls.

Through redis-py's pool each call takes a connection, writes, waits for its own reply and gives
the connection back: the pool's bookkeeping, a retry wrapper and one socket read per call. Here
each caller writes its command and queues for its reply; whoever holds the reading turn reads
the replies in the order they were sent and hands each to its caller, so under load one read
from the socket serves many calls (Redis answers a connection's commands in order). It works the
same with threads and with gevent's patched locks.

A connection idle for a second is checked before use (closed by Redis, e.g. after a restart, it
is replaced), as redis-py's pool checks one. A single command whose sending failed goes out
again on a fresh connection (Redis does not run a command cut off midway); a command whose
connection broke after it was sent fails with the connection's error (it may have run). So does
every command on a connection whose reading was interrupted midway (a greenlet killed by a timeout):
the rest of that reply would otherwise be read as the next one's.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque

import redis
from redis.exceptions import ConnectionError, NoScriptError, TimeoutError

# A connection unused this long is checked before the next command goes out on it.
IDLE_CHECK_S = 1.0


class _Slot:
    __slots__ = ("connection", "done", "reply", "error")

    def __init__(self) -> None:
        self.connection = None  # the connection its command went out on
        self.done = False
        self.reply: object = None
        self.error: BaseException | None = None


class SharedConnection:
    def __init__(self, client: redis.Redis) -> None:
        pool = client.connection_pool
        self._make = lambda: pool.connection_class(**pool.connection_kwargs)
        self._connection = None
        self._pid = os.getpid()
        self._waiting: deque[_Slot] = deque()  # sent, reply not yet read: oldest first
        self._writing = threading.Lock()  # one command on the wire at a time
        self._reading = threading.Lock()  # the reading turn
        self._book = threading.Lock()  # the queue of waiting slots and their outcomes
        self._last_sent = 0.0

    def evalsha(self, sha: str, script: str, names: list[str], args: list[object]) -> object:
        """EVALSHA, loading the script first if Redis does not know it (a fresh or flushed Redis)."""
        try:
            return self.call("EVALSHA", sha, len(names), *names, *args)
        except NoScriptError:
            self.call("SCRIPT", "LOAD", script)
            return self.call("EVALSHA", sha, len(names), *names, *args)

    def call(self, *command: object) -> object:
        return self.run([command])[0]

    def execute(self, pipe: redis.client.Pipeline) -> list:
        """Send a (non-transactional) pipeline's queued commands together and read their replies,
        as Redis sent them (no redis-py response callbacks); raises the first error reply, once
        every reply has been read."""
        commands = [args for args, _options in pipe.command_stack]
        pipe.reset()
        return self.run(commands)

    def run(self, commands: list[tuple]) -> list:
        """Send the commands at once and read their replies in order; raises the first failure."""
        slots = [_Slot() for _ in commands]
        self._send(slots, commands)
        with self._reading:
            while not slots[-1].done:  # replies come in order: the last one done means all are
                self._read_one()
        for slot in slots:
            if slot.error is not None:
                raise slot.error
        return [slot.reply for slot in slots]

    def _send(self, slots: list[_Slot], commands: list[tuple]) -> None:
        with self._writing:
            if self._pid != os.getpid():  # a forked server process: the parent's socket is not ours
                self._connection, self._pid = None, os.getpid()
                self._waiting.clear()
            connection = self._connection or self._make()
            packed = _pack(commands) or connection.pack_commands(commands)
            now = time.monotonic()
            if now - self._last_sent > IDLE_CHECK_S and not self._waiting:
                connection = self._checked(connection)
            self._last_sent = now
            try:
                connection.send_packed_command(packed, check_health=False)  # connects if need be
            except (ConnectionError, TimeoutError, OSError) as error:
                self._drop(connection, error)
                if len(commands) > 1:  # some of them may have reached Redis and run
                    raise
                # A command cut off by the failure is not run, so it may go out on a fresh connection.
                connection = self._make()
                connection.send_packed_command(packed, check_health=False)
            except BaseException:  # interrupted midway (a greenlet killed, a signal): half a command may be out
                self._drop(connection, ConnectionError("a command's sending was interrupted"))
                raise
            self._connection = connection
            for slot in slots:
                slot.connection = connection
            with self._book:
                self._waiting.extend(slots)

    def _checked(self, connection):
        """The connection, or a fresh one if Redis closed it meanwhile (nothing is outstanding on
        it, so anything readable means it was closed, or is about to be)."""
        try:
            if connection._sock is None or not connection.can_read(timeout=0):
                return connection
        except (ConnectionError, TimeoutError, OSError):
            pass
        self._drop(connection, ConnectionError("Redis closed the connection"))
        return self._make()

    def _read_one(self) -> None:
        """Read the oldest outstanding reply and hand it to its caller (the reading turn is held)."""
        with self._book:
            slot = self._waiting[0]
        connection = slot.connection
        reply, failure = None, None
        try:
            reply = connection.read_response()
        except redis.ResponseError as error:  # this command's own error, e.g. NOSCRIPT
            failure = error
        except (ConnectionError, TimeoutError, OSError) as error:
            with self._writing:
                self._drop(connection, error)
            return
        except BaseException:
            # Interrupted midway (a greenlet killed by a timeout, a signal): the rest of this reply
            # would be read as the next command's, so no one may read from this connection again.
            with self._writing:
                self._drop(connection, ConnectionError("a reply's reading was interrupted"))
            raise
        with self._book:
            if not slot.done:  # not already failed by a drop of its connection
                self._waiting.popleft()
                slot.reply, slot.error, slot.done = reply, failure, True

    def _drop(self, connection, error: BaseException) -> None:
        """Close a broken connection for good (the writing lock is held, so no one sends on it
        meanwhile): every command still waiting on it gets the error."""
        with self._book:
            while self._waiting and self._waiting[0].connection is connection:
                slot = self._waiting.popleft()
                slot.error, slot.done = error, True
        connection.disconnect()
        if self._connection is connection:
            self._connection = None


def _pack(commands: list[tuple]) -> list[bytes] | None:
    """The commands in Redis's protocol when every argument is text, bytes or a whole number (all
    the hot paths send), else None (redis-py packs those). redis-py's general packer, with its
    encoder and chunking, cost three times as much CPU per answer."""
    out = []
    for command in commands:
        if isinstance(command[0], str) and " " in command[0]:  # "SCRIPT LOAD" is two words to Redis
            command = (*command[0].split(), *command[1:])
        out.append(b"*%d\r\n" % len(command))
        for arg in command:
            kind = type(arg)
            if kind is str:
                arg = arg.encode()
            elif kind is int:
                arg = b"%d" % arg
            elif kind is not bytes:
                return None
            out.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return [b"".join(out)]


def execute(shared: SharedConnection | None, pipe: redis.client.Pipeline) -> list:
    """Run a non-transactional pipeline on the shared connection, or by redis-py where there is
    none (a cluster). Callers read no reply that redis-py would have converted."""
    return pipe.execute() if shared is None else shared.execute(pipe)


def run_script(shared: SharedConnection | None, script, names: list[str], args: list[object]) -> object:
    """Run a registered script (redis-py's Script) on the shared connection, or by redis-py."""
    if shared is None:
        return script(keys=names, args=args)
    return shared.evalsha(script.sha, script.script, names, args)
