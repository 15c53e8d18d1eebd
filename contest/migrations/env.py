"""Alembic's environment: the models' metadata, and the connection the app (contest/schema.py)
hands over, or for the `alembic` command line one to DATABASE_URL (or the instance's SQLite)."""

from __future__ import annotations

from alembic import context

from contest.models import Base, UTCDateTime


def _render_item(kind: str, item, autogen_context):
    # A migration spells the stored type, so it never imports the models it predates.
    if kind == "type" and isinstance(item, UTCDateTime):
        return "sa.DateTime()"
    return False


def _run(connection) -> None:
    # render_as_batch: SQLite alters a table by copying it, which batch mode writes for us.
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True,
                      compare_type=True, render_item=_render_item)
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    from contest import config
    from contest.extensions import make_engine

    engine = make_engine(config.load()["DATABASE_URL"])
    with engine.begin() as own:
        _run(own)
    engine.dispose()
