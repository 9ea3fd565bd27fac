"""The crash test uses the contract suites' PostgreSQL databases."""

from tests.contract.conftest import postgres_databases, postgres_template

__all__ = ["postgres_databases", "postgres_template"]
