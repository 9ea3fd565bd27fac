"""SQL adapters (SQLAlchemy 2 Core + psycopg 3): PostgreSQL for real, SQLite embedded.

``open_sql_stores(url)`` migrates the database and returns every repository; see
docs/storage.md for the schema and its guarantees.
"""

from axadapters.sql.stores import SqlStores, open_sql_stores

__all__ = ["SqlStores", "open_sql_stores"]
