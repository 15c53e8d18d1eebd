"""The database schema's version (Alembic, contest/migrations): a new database is created at
the newest revision, an older one is upgraded, at every start-up and by `contest init-db`."""

from __future__ import annotations

import fcntl
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

from contest.models import Base

MIGRATIONS = Path(__file__).parent / "migrations"
# Databases made before migrations existed (by create_all) have exactly this revision's schema.
BASELINE = "0001"
# A database without a version table whose tables were made by create_all later (tools did) has
# the newest revision whose table it holds: (revision, the table that revision created), newest first.
REVISION_TABLES = [("0003", "question_edits"), ("0002", "key_corrections")]
# Any number will do, as long as nothing else takes this PostgreSQL advisory lock.
_PG_LOCK = 7_461_002


def alembic_config(connection: Connection | None) -> Config:
    """Alembic's settings, running on `connection` (None: only to read the scripts)."""
    settings = Config()
    settings.set_main_option("script_location", str(MIGRATIONS))
    settings.attributes["connection"] = connection
    return settings


def head() -> str:
    return ScriptDirectory.from_config(alembic_config(None)).get_current_head()


def revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def ensure(engine: Engine) -> str:
    """Bring the database to the newest revision; returns it. Several processes starting at once
    take turns (a lock), so only the first creates or upgrades."""
    with _lock(engine), engine.begin() as connection:
        settings = alembic_config(connection)
        tables = set(inspect(connection).get_table_names())
        if Base.metadata.tables.keys().isdisjoint(tables):
            Base.metadata.create_all(connection)  # empty: the models are the newest schema
            command.stamp(settings, "head")
        else:
            if "alembic_version" not in tables:  # made by create_all: adopted at what it holds
                command.stamp(settings, unversioned_revision(tables))
            command.upgrade(settings, "head")
        return revision(connection)


def unversioned_revision(tables: set[str]) -> str:
    """The revision of a database made by create_all (no version table), judged by its tables."""
    return next((rev for rev, table in REVISION_TABLES if table in tables), BASELINE)


@contextmanager
def _lock(engine: Engine):
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _PG_LOCK})
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _PG_LOCK})
                connection.commit()
        return
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    # SQLite: processes of one host; a lock file beside the database.
    with open(f"{database}.schema-lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
