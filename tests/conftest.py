"""Fixtures: a real Redis (embedded, or TEST_REDIS_URL) and a real database (SQLite, or
TEST_DATABASE_URL for PostgreSQL), cleaned after every test even when it fails."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from contest import create_app, embedded_redis
from contest.clock import FrozenClock
from contest.models import Base
from contest.play import contests, ranking, unit_cache
from contest.runtime import Runtime


@pytest.fixture(scope="session")
def instance_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("instance")


@pytest.fixture(scope="session")
def stores(instance_dir):
    """URLs of the test database and Redis, exported so CLI commands use the same stores."""
    database_url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{instance_dir / 'test.sqlite3'}"
    redis_url = os.environ.get("TEST_REDIS_URL") or embedded_redis.ensure_server(instance_dir)
    # TEST_REDIS_CLUSTER=1 with TEST_REDIS_URL naming a node: the whole suite on a Redis Cluster.
    cluster = "1" if os.environ.get("TEST_REDIS_URL") and os.environ.get("TEST_REDIS_CLUSTER") == "1" else ""
    saved = {name: os.environ.get(name) for name in ("DATABASE_URL", "REDIS_URL", "REDIS_CLUSTER", "CONTEST_INSTANCE")}
    os.environ.update(DATABASE_URL=database_url, REDIS_URL=redis_url, REDIS_CLUSTER=cluster,
                      CONTEST_INSTANCE=str(instance_dir))
    if database_url.startswith("postgresql"):
        from contest.extensions import make_engine

        engine = make_engine(database_url)
        Base.metadata.drop_all(engine)  # a clean schema for this run
        engine.dispose()
    yield {"database_url": database_url, "redis_url": redis_url, "redis_cluster": bool(cluster)}
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="session")
def clock() -> FrozenClock:
    return FrozenClock(datetime.now(UTC))


@pytest.fixture(scope="session")
def app(stores, instance_dir, clock):
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(instance_dir),
            "DATABASE_URL": stores["database_url"],
            "REDIS_URL": stores["redis_url"],
            "REDIS_CLUSTER": stores["redis_cluster"],
            "SECRET_KEY": "test-secret",
            "CLOCK": clock,
            # The Socket.IO test client needs in-process delivery; the two-process test covers the queue.
            "SOCKETIO_MESSAGE_QUEUE": False,
        }
    )
    return app


@pytest.fixture(autouse=True)
def _clean(request, clock):
    """Reset the clock and the kept board bodies before each test; empty every table and Redis after it."""
    clock.set(datetime.now(UTC).replace(microsecond=0))
    ranking.forget_public()  # ids come again after the tables are emptied
    contests.CONTESTS.forget()
    unit_cache.UNITS.forget()
    # Tests that serve their own processes on the shared stores (kill -9, two processes, nginx) are
    # cleaned up after too: what they left in Redis was seen by later tests with the same contest ids.
    app = request.getfixturevalue("app") if {"app", "stores"} & set(request.fixturenames) else None
    yield
    if app is None:
        return
    db = app.extensions["jd.db"]
    db.session.remove()
    with db.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(text(f"DELETE FROM {table.name}"))
    app.extensions["jd.state"].redis.flushdb()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def rt(app) -> Runtime:
    """A Runtime for calling services directly, inside an app context."""
    from contest.runtime import current

    with app.app_context():
        yield current()


@pytest.fixture
def runner(app):
    from click.testing import CliRunner

    return CliRunner()
