"""The pool of each server process follows DATABASE_POOL_SIZE / DATABASE_MAX_OVERFLOW (PostgreSQL, and
SQLite in a file)."""

from __future__ import annotations

import pytest

from contest import serving
from contest.extensions import make_engine

URL = "postgresql://postgres@127.0.0.1:5432/test"  # the engine connects lazily: nothing is opened here


def test_the_pool_follows_the_settings(monkeypatch):
    monkeypatch.setenv("DATABASE_POOL_SIZE", "7")
    monkeypatch.setenv("DATABASE_MAX_OVERFLOW", "3")
    engine = make_engine(URL)
    assert (engine.pool.size(), engine.pool._max_overflow) == (7, 3)
    monkeypatch.delenv("DATABASE_POOL_SIZE")
    monkeypatch.delenv("DATABASE_MAX_OVERFLOW")
    assert make_engine(URL).pool.size() == 20


def test_a_pool_size_that_is_no_number_is_named(monkeypatch):
    monkeypatch.setenv("DATABASE_POOL_SIZE", "many")
    with pytest.raises(ValueError, match="DATABASE_POOL_SIZE must be a whole number of connections, not 'many'"):
        make_engine(URL)


def test_the_sqlite_file_pool_follows_the_settings(monkeypatch, tmp_path):
    url = f"sqlite:///{tmp_path / 'pool.sqlite3'}"
    default = make_engine(url)
    assert (default.pool.size(), default.pool._max_overflow) == (40, 40)
    monkeypatch.setenv("DATABASE_POOL_SIZE", "5")
    monkeypatch.setenv("DATABASE_MAX_OVERFLOW", "10")
    engine = make_engine(url)
    assert (engine.pool.size(), engine.pool._max_overflow) == (5, 10)


@pytest.mark.parametrize("workers", [1, 2, 3, 4, 8])
def test_processes_on_one_postgresql_share_its_connections(workers):
    shares = serving.pool_shares({"DATABASE_URL": URL}, workers)
    at_peak = workers * (int(shares["DATABASE_POOL_SIZE"]) + int(shares["DATABASE_MAX_OVERFLOW"]))
    assert at_peak <= serving.POSTGRES_CONNECTIONS_PER_HOST < 100  # PostgreSQL's default max_connections
    assert int(shares["DATABASE_POOL_SIZE"]) >= 5


def test_contest_serve_workers_get_the_shares(stores):
    env = serving.worker_env({"DATABASE_URL": URL, "REDIS_URL": stores["redis_url"]}, 3)
    assert (env["DATABASE_POOL_SIZE"], env["DATABASE_MAX_OVERFLOW"]) == ("15", "15")
    assert env["REDIS_URL"] == stores["redis_url"]


def test_a_pool_that_is_set_or_sqlite_is_left_alone():
    assert serving.pool_shares({"DATABASE_URL": URL, "DATABASE_POOL_SIZE": "30"}, 3) == {}
    assert serving.pool_shares({"DATABASE_URL": URL, "DATABASE_MAX_OVERFLOW": "0"}, 3) == {}
    assert serving.pool_shares({"DATABASE_URL": "sqlite:///x.sqlite3"}, 3) == {}
    assert serving.pool_shares({}, 3) == {}
