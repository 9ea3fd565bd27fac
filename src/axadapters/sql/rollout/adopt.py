"""The last step: hand the migrated database to the library's own Alembic history.

The rollout leaves its tables exactly as revision ``target.REVISION`` of the library
creates them. ``adopt`` adds every other table of that revision (products, instruments,
orders, audit, ...) with its triggers and sequences, by migrating a scratch copy to that
revision and moving over what the database lacks: a PostgreSQL schema in the same
database (moved with ``ALTER ... SET SCHEMA``, one transaction), or a scratch SQLite file
whose DDL is replayed (one transaction). It then stamps the revision and runs the
library's ``upgrade`` to head, so later revisions apply exactly as on a fresh database.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, inspect, text

from axadapters.sql.engine import create_sql_engine
from axadapters.sql.migrate import alembic_config, current_revision, head_revision, upgrade
from axadapters.sql.rollout.ddl import RolloutContext, check_names
from axadapters.sql.rollout.target import MIGRATED_TABLES, REVISION
from axadapters.sql.rollout.tracker import TRACKER_TABLE
from axadapters.sql.rollout.verification import Check, Verification, not_applied
from axadapters.sql.schema import metadata, primary_key_columns, schema_comparison_filter

SCRATCH_SCHEMA = "ax_rollout_scratch"
APP_ROLE = "ax_app"
VERSION_TABLE = "alembic_version"


def apply_adopt(ctx: RolloutContext) -> list[str]:
    changes = []
    if current_revision(ctx.engine) is None:
        if ctx.postgres:
            moved = _postgres_install(ctx)
        else:
            moved = _sqlite_install(ctx)
            _stamp(ctx.engine)
        changes.append(f"created at revision {REVISION}: {', '.join(moved) or 'nothing'}")
    before = current_revision(ctx.engine)
    upgrade(ctx.engine)
    after = current_revision(ctx.engine)
    if before != after:
        changes.append(f"library migrations: {before} -> {after}")
    if ctx.postgres:
        _postgres_role_grants(ctx.engine)
    return changes


def _stamp(engine: Engine, connection: Connection | None = None) -> None:
    config = alembic_config()
    if connection is not None:
        config.attributes["connection"] = connection
        command.stamp(config, REVISION)
        return
    with engine.begin() as fresh:
        config.attributes["connection"] = fresh
        command.stamp(config, REVISION)


def _postgres_install(ctx: RolloutContext) -> list[str]:
    with ctx.engine.begin() as connection:
        home = connection.execute(text("SELECT current_schema()")).scalar_one()
        path = connection.execute(text("SHOW search_path")).scalar_one()
        connection.execute(text(f"DROP SCHEMA IF EXISTS {SCRATCH_SCHEMA} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {SCRATCH_SCHEMA}"))
        connection.execute(text(f"SET LOCAL search_path TO {SCRATCH_SCHEMA}"))
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, REVISION)
        existing = set(inspect(connection).get_table_names(schema=home))
        moved = [
            name
            for name in inspect(connection).get_table_names(schema=SCRATCH_SCHEMA)
            if name not in existing and name != VERSION_TABLE
        ]
        for name in moved:
            connection.execute(text(f"ALTER TABLE {SCRATCH_SCHEMA}.{name} SET SCHEMA {home}"))
        # Sequences not owned by a column (owned ones moved with their table).
        free_sequences = connection.execute(
            text(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = :schema AND c.relkind = 'S' AND NOT EXISTS (SELECT 1 FROM "
                "pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i'))"
            ),
            {"schema": SCRATCH_SCHEMA},
        ).scalars()
        for name in list(free_sequences):
            connection.execute(text(f"ALTER SEQUENCE {SCRATCH_SCHEMA}.{name} SET SCHEMA {home}"))
        functions = connection.execute(
            text(
                "SELECT p.proname, pg_get_function_identity_arguments(p.oid) FROM pg_proc p "
                "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = :schema"
            ),
            {"schema": SCRATCH_SCHEMA},
        ).all()
        for name, arguments in functions:
            connection.execute(
                text(f"ALTER FUNCTION {SCRATCH_SCHEMA}.{name}({arguments}) SET SCHEMA {home}")
            )
        connection.execute(text("SELECT set_config('search_path', :path, true)"), {"path": path})
        connection.execute(text(f"DROP SCHEMA {SCRATCH_SCHEMA} CASCADE"))
        _stamp(ctx.engine, connection)
    return moved


def _sqlite_install(ctx: RolloutContext) -> list[str]:
    with tempfile.TemporaryDirectory() as folder:
        scratch = create_sql_engine(f"sqlite:///{(Path(folder) / 'scratch.db').as_posix()}")
        try:
            upgrade(scratch, REVISION)
            with scratch.connect() as connection:
                entries = connection.execute(
                    text(
                        "SELECT type, name, tbl_name, sql FROM sqlite_master "
                        "WHERE sql IS NOT NULL ORDER BY rowid"
                    )
                ).all()
                with ctx.engine.connect() as home:
                    existing = set(inspect(home).get_table_names())
                moved = [
                    name
                    for kind, name, _, _ in entries
                    if kind == "table"
                    and name not in existing
                    and name != VERSION_TABLE
                    and not name.startswith("sqlite_")
                ]
                rows = {
                    name: [tuple(row) for row in connection.execute(text(f"SELECT * FROM {name}"))]
                    for name in moved
                }
        finally:
            scratch.dispose()
    with ctx.transaction() as connection:
        for kind, _, table, sql in entries:
            if kind == "table" and table in moved:
                connection.exec_driver_sql(sql)
        for name in moved:
            for row in rows[name]:
                marks = ", ".join("?" for _ in row)
                connection.exec_driver_sql(f"INSERT INTO {name} VALUES ({marks})", row)
        for kind, _, table, sql in entries:
            if kind in ("index", "trigger") and table in moved:
                connection.exec_driver_sql(sql)
    return moved


def _postgres_role_grants(engine: Engine) -> None:
    """Revision 0001 grants the application role its tables; do the same for the tables
    the rollout migrated in place (the role, when it exists, is cluster-wide)."""
    tables = ", ".join(MIGRATED_TABLES)
    with engine.begin() as connection:
        if connection.execute(
            text("SELECT 1 FROM pg_roles WHERE rolname = :role"), {"role": APP_ROLE}
        ).first():
            connection.execute(
                text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {tables} TO {APP_ROLE}")
            )


def schema_drift(engine: Engine) -> list[object]:
    """Alembic's autogenerate diff against the library's ``schema.metadata`` (what a fresh
    database at head has), leaving out only the rollout's own tracker table."""

    def include_name(name: str | None, kind: str, _parents: object) -> bool:
        return not (kind == "table" and name == TRACKER_TABLE)

    with engine.connect() as connection:
        include_object = schema_comparison_filter(connection.dialect.name)
        context = MigrationContext.configure(
            connection, opts={"include_name": include_name, "include_object": include_object}
        )
        return list(compare_metadata(context, metadata))


def structure_drift(engine: Engine) -> list[str]:
    """What autogenerate does not compare: primary-key columns and named CHECKs."""
    problems = []
    with engine.connect() as connection:
        inspector = inspect(connection)
        for table in metadata.sorted_tables:
            if not inspector.has_table(table.name):
                continue
            key = inspector.get_pk_constraint(table.name)["constrained_columns"]
            expected = primary_key_columns(table, connection.dialect.name)
            if list(key) != expected:
                problems.append(f"{table.name}: primary key {key}, expected {expected}")
            wanted = {
                str(constraint.name)
                for constraint in table.constraints
                if constraint.__visit_name__ == "check_constraint" and constraint.name
            }
            missing = wanted - check_names(connection, table.name)
            if missing:
                problems.append(f"{table.name}: missing CHECK {sorted(missing)}")
    return problems


def verify_adopt(engine: Engine) -> Verification:
    revision = current_revision(engine)
    if revision is None:
        return not_applied("the library's Alembic revision")
    head = head_revision()
    diff = schema_drift(engine)
    structure = structure_drift(engine)
    return Verification(
        (
            Check(f"revision {revision} differs from head {head}", 0 if revision == head else 1),
            Check("autogenerate differences from a fresh database at head", len(diff)),
            Check("primary keys / CHECK constraints unlike a fresh database", len(structure)),
        )
    )
