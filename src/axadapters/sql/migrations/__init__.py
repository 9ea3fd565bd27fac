"""Alembic migrations of the SQL schema, run in code by ``axadapters.sql.migrate``."""
