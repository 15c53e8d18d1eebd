"""The database and the Redis client: created once per app, in create_app()."""

from __future__ import annotations

import os
import select

import redis
from sqlalchemy import create_engine, event, exc
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, scoped_session, sessionmaker

from contest import embedded_redis

REDIS_POOL_SIZE = 64


class Database:
    """Engine and a scoped session; one per app."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.session: scoped_session[Session] | None = None

    def init(self, url: str) -> None:
        self.engine = make_engine(url)
        self.session = scoped_session(sessionmaker(bind=self.engine, expire_on_commit=False))

    def remove(self, exc: BaseException | None = None) -> None:
        if self.session is not None:
            self.session.remove()


def _is_file(url: str) -> bool:
    return url.startswith("sqlite:///") and ":memory:" not in url and "mode=memory" not in url


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        # A pool as large as the requests that hold a connection across a Redis wait at 500
        # workers: with SQLAlchemy's default (5 + 10 overflow) requests queued for connections
        # and overflow ones were opened and closed per request (answer p99 1.4 s → 0.65 s).
        pooled = {}
        if _is_file(url):
            pooled = {"pool_size": _count_setting("DATABASE_POOL_SIZE", 40),
                      "max_overflow": _count_setting("DATABASE_MAX_OVERFLOW", 40)}
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **pooled)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            # WAL lets readers go on while one writer commits; NORMAL sync is safe with WAL.
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    # Per process: N processes on one PostgreSQL need N × (pool + overflow) connections, within its
    # max_connections (100 by default), or PgBouncer in front.
    pool, overflow = _count_setting("DATABASE_POOL_SIZE", 20), _count_setting("DATABASE_MAX_OVERFLOW", 20)
    engine = create_engine(url, pool_size=pool, max_overflow=overflow)
    event.listen(engine, "checkout", _closed_by_server)
    return engine


def _closed_by_server(dbapi_conn, _record, _proxy) -> None:
    """What pool_pre_ping is for, without its round trip on every checkout (one in five of a
    start's or a submit's): a pooled connection that PostgreSQL closed (a restart, a terminated
    backend) has its notice waiting on an otherwise silent socket. The pool then takes another."""
    if dbapi_conn.closed or dbapi_conn.broken:
        raise exc.DisconnectionError("connection closed")
    # poll, not select: a process with a thousand sockets open (the live channel's) has
    # descriptors past select's limit of 1024, and select refuses them.
    poller = select.poll()
    poller.register(dbapi_conn.fileno(), select.POLLIN)
    if poller.poll(0):
        raise exc.DisconnectionError("PostgreSQL closed the connection")


def _count_setting(name: str, default: int) -> int:
    raw = os.environ.get(name) or str(default)
    if not raw.strip().isdigit():
        raise ValueError(f"{name} must be a whole number of connections, not {raw!r}")
    return int(raw)


def make_redis(url: str, cluster: bool = False) -> redis.Redis | redis.RedisCluster:
    """A client for the Redis at `url` (with `cluster`: the Redis Cluster that node belongs to),
    named so the embedded server knows who is connected."""
    # A blocking pool: under a burst, requests wait a moment for a connection instead of
    # failing with "Too many connections" (redis-py's plain pool raises past 100).
    options = {"max_connections": REDIS_POOL_SIZE, "timeout": 10, "decode_responses": True,
               "client_name": f"{embedded_redis.CLIENT_PREFIX}{os.getpid()}"}
    if cluster:
        # One such pool per node; the client follows the cluster's slot map from any node (and
        # checks a node's connections itself: it takes no health_check_interval).
        return redis.RedisCluster.from_url(url, connection_pool_class=redis.BlockingConnectionPool, **options)
    pool = redis.BlockingConnectionPool.from_url(url, health_check_interval=30, **options)
    return redis.Redis(connection_pool=pool)
