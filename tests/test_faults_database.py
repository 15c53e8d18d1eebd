"""The database briefly unavailable: workers get 503 and a Chinese retry message, pages a
Chinese error page, and nothing of the failed request is kept. Real faults, no mocks:
a SQLite file that vanishes, a PostgreSQL backend terminated in the middle of a write."""

from __future__ import annotations

import os
import shutil

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.pool import NullPool

from contest import create_app
from contest.models import Entrant
from contest.runtime import current
from tests.play_support import make_bank, make_contest, make_units

RETRY_MESSAGE = "服务器繁忙，请稍后重试。"


@pytest.fixture
def sqlite_app(app, stores, clock, tmp_path):
    """An app of its own on a SQLite file this test may take away (`app` flushes Redis after)."""
    blip = create_app({
        "TESTING": True, "INSTANCE_PATH": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'blip.sqlite3'}",
        "REDIS_URL": stores["redis_url"], "SECRET_KEY": "test-secret", "CLOCK": clock,
        "SOCKETIO_MESSAGE_QUEUE": False,
    })
    yield blip
    blip.extensions["jd.db"].engine.dispose()


def _take_database_away(app, path):
    """Close every connection, move the file aside and put a directory in its place."""
    app.extensions["jd.db"].engine.dispose()
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(f"{path}{suffix}"):
            os.rename(f"{path}{suffix}", f"{path}{suffix}.away")
    os.mkdir(path)


def _bring_database_back(path):
    shutil.rmtree(path)
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(f"{path}{suffix}.away"):
            os.rename(f"{path}{suffix}.away", f"{path}{suffix}")


def _assert_retry_json(response):
    assert response.status_code == 503
    assert response.get_json() == {"error": "unavailable", "message": RETRY_MESSAGE}
    assert int(response.headers["Retry-After"]) > 0


def test_sqlite_gone_then_back(sqlite_app, tmp_path):
    path = str(tmp_path / "blip.sqlite3")
    with sqlite_app.app_context():
        rt = current()
        contest = make_contest(rt, make_bank(rt.session))
        unit_id = make_units(rt.session)[0].id
    sqlite_app.extensions["jd.db"].remove()
    client = sqlite_app.test_client()
    entry = {"name": "王小明", "phone": "13912345678", "unit_id": unit_id}

    _take_database_away(sqlite_app, path)
    try:
        _assert_retry_json(client.post(f"/api/v1/contests/{contest.id}/entrants", json=entry))
        _assert_retry_json(client.get(f"/api/v1/contests/{contest.id}/units"))
        page = client.get(f"/c/{contest.id}")
        assert page.status_code == 503 and page.headers["Retry-After"]
        body = page.get_data(as_text=True)
        assert RETRY_MESSAGE in body and "Traceback" not in body and "OperationalError" not in body
    finally:
        _bring_database_back(path)

    with sqlite_app.app_context():
        assert current().session.scalar(select(func.count()).select_from(Entrant)) == 0
    again = client.post(f"/api/v1/contests/{contest.id}/entrants", json=entry)
    assert again.status_code == 201


def test_postgres_backend_killed_in_the_middle_of_a_write(app, client, rt):
    if rt.session.get_bind().dialect.name != "postgresql":
        pytest.skip("terminating a backend needs PostgreSQL (TEST_DATABASE_URL)")
    cid = make_contest(rt, make_bank(rt.session)).id  # the id only: the fault ends this session
    unit_id = make_units(rt.session)[0].id
    engine = app.extensions["jd.db"].engine
    # The entrant row is written first; the token insert then kills its own backend, so the
    # connection dies with the entrant written but not committed.
    with engine.begin() as conn:
        conn.execute(text("CREATE OR REPLACE FUNCTION jd_test_die() RETURNS trigger AS $$ BEGIN "
                          "PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NEW; END $$ LANGUAGE plpgsql"))
        conn.execute(text("CREATE TRIGGER jd_test_die BEFORE INSERT ON entrant_tokens "
                          "FOR EACH ROW EXECUTE FUNCTION jd_test_die()"))
    entry = {"name": "王小明", "phone": "13912345678", "unit_id": unit_id}
    try:
        _assert_retry_json(client.post(f"/api/v1/contests/{cid}/entrants", json=entry))
    finally:
        with engine.begin() as conn:
            conn.execute(text("DROP TRIGGER IF EXISTS jd_test_die ON entrant_tokens"))
            conn.execute(text("DROP FUNCTION IF EXISTS jd_test_die()"))
    rt.session.close()
    assert rt.session.scalar(select(func.count()).select_from(Entrant)) == 0  # nothing half-written

    rt.session.close()  # back to the pool: killed under a live session, its rollback would fail when collected

    # Every connection of the pool dropped by the server (from a connection outside the pool):
    # the next request gets a fresh one.
    killer = create_engine(engine.url, poolclass=NullPool)
    with killer.connect() as conn:
        killed = conn.scalar(text("SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
                                  "WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'idle'"))
    killer.dispose()
    assert killed >= 1
    assert client.post(f"/api/v1/contests/{cid}/entrants", json=entry).status_code == 201


def test_a_connection_numbered_past_select_s_limit_is_checked_out(stores):
    """The live channel's process holds a thousand sockets, so its database connections get file
    descriptors past 1024, where select() refuses them; the checkout's check must still work."""
    if not stores["database_url"].startswith("postgresql"):
        pytest.skip("the checkout check is PostgreSQL's (TEST_DATABASE_URL)")
    import resource

    from contest.extensions import make_engine

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4096)), hard))
    held = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    engine = make_engine(stores["database_url"])
    try:
        with engine.connect() as conn:
            assert conn.connection.dbapi_connection.fileno() > 1024
            assert conn.scalar(text("SELECT 1")) == 1
        with engine.connect() as conn:  # checked out again from the pool: the check runs
            assert conn.scalar(text("SELECT 1")) == 1
    finally:
        engine.dispose()
        for fd in held:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
