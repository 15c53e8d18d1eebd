"""Schema migrations (Alembic): the migrations build exactly the models' schema, a new database
starts at the newest revision, one made before migrations is adopted with its rows, and
processes starting together take turns. On SQLite, and on PostgreSQL with TEST_DATABASE_URL."""

from __future__ import annotations

import os
import threading
import uuid

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, insert, select, text

from contest import schema
from contest.extensions import make_engine
from contest.models import Base, Unit


@pytest.fixture
def empty_url(tmp_path):
    """The URL of an empty database of the suite's kind (a new PostgreSQL database, or a SQLite file)."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    name = f"jd_schema_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield base.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def _differences(engine) -> list:
    with engine.connect() as connection:
        return compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata)


def test_the_migrations_alone_build_the_models_schema(empty_url):
    """Fails when a model changes without a migration (write one: README, "Schema migrations")."""
    engine = make_engine(empty_url)
    with engine.begin() as connection:
        command.upgrade(schema.alembic_config(connection), "head")
    assert _differences(engine) == []
    engine.dispose()


def test_a_new_database_starts_at_the_newest_revision(empty_url):
    engine = make_engine(empty_url)
    assert schema.ensure(engine) == schema.head()
    assert schema.ensure(engine) == schema.head()  # again: nothing to do
    assert _differences(engine) == []
    engine.dispose()


def test_a_database_made_before_migrations_is_adopted_with_its_rows(empty_url):
    engine = make_engine(empty_url)
    # As every deployment before migrations was made: the baseline's tables, no version table.
    with engine.begin() as connection:
        command.upgrade(schema.alembic_config(connection), schema.BASELINE)
        connection.execute(text("DROP TABLE alembic_version"))
        connection.execute(insert(Unit).values(name="市总工会机关", headcount=80))
    assert schema.ensure(engine) == schema.head()
    with engine.connect() as connection:
        assert connection.execute(select(Unit.name, Unit.headcount)).all() == [("市总工会机关", 80)]
        assert connection.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    engine.dispose()


def test_a_database_made_by_create_all_without_a_version_is_adopted_at_its_revision(empty_url):
    engine = make_engine(empty_url)
    with engine.begin() as connection:  # as tools made databases: the models' tables, no version table
        Base.metadata.create_all(connection)
        connection.execute(insert(Unit).values(name="市总工会机关", headcount=80))
    assert schema.ensure(engine) == schema.head()
    assert _differences(engine) == []
    with engine.connect() as connection:
        assert connection.execute(select(Unit.name)).scalars().all() == ["市总工会机关"]
    engine.dispose()


def test_every_revision_after_the_baseline_names_its_table_for_the_adoption():
    newest_first = [rev.revision for rev in ScriptDirectory.from_config(schema.alembic_config(None)).walk_revisions()]
    assert [rev for rev, _table in schema.REVISION_TABLES] == newest_first[:len(schema.REVISION_TABLES)]
    assert newest_first[len(schema.REVISION_TABLES)] == schema.BASELINE


def test_processes_starting_together_take_turns(empty_url):
    results, errors = [], []

    def start() -> None:
        engine = make_engine(empty_url)  # an engine of its own, as a process has
        try:
            results.append(schema.ensure(engine))
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == [] and results == [schema.head()] * 4
    engine = make_engine(empty_url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    assert _differences(engine) == []
    engine.dispose()


def test_init_db_creates_then_reports_the_revision(empty_url, stores, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from contest.cli import main

    monkeypatch.setenv("DATABASE_URL", empty_url)
    monkeypatch.setenv("CONTEST_INSTANCE", str(tmp_path))
    for _ in range(2):  # safe to repeat
        done = CliRunner().invoke(main, ["init-db"])
        assert done.exit_code == 0, done.output
        assert done.output.strip() == f"数据库已就绪（结构版本 {schema.head()}）。"
    engine = make_engine(empty_url)
    assert _differences(engine) == []
    engine.dispose()
