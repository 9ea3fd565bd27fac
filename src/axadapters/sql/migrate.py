"""Run the Alembic migrations from code: no alembic.ini, no command line needed.

``open_sql_stores`` calls ``upgrade`` on every start, so a fresh SQLite file or an empty
PostgreSQL database gets the schema, and an up-to-date one is left alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Engine

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic is imported inside the functions: it costs tens of milliseconds and only a
# process that migrates needs it (``open_sql_stores(url, migrate=False)`` never does).
SCRIPT_LOCATION = "axadapters.sql:migrations"
HEAD = "head"


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    return config


def upgrade(engine: Engine, revision: str = HEAD) -> None:
    """Bring the database behind ``engine`` to ``revision`` (idempotent)."""
    from alembic import command

    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    """The newest revision this package ships (what ``upgrade`` brings a database to)."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError("the migration scripts have no head")
    return head
