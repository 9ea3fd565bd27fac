"""Fixtures of the SQL legs of the contract suites (see ``sql_support``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.contract.redis_cluster_support import RedisClusterNodes, redis_cluster
from tests.contract.sql_support import (
    PostgresDatabases,
    PostgresServer,
    SqliteDatabases,
    postgres_server,
    sqlite_template,
)


@pytest.fixture(scope="session")
def sqlite_template_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sqlite_template(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture
def sqlite_databases(sqlite_template_file: Path, tmp_path: Path) -> Iterator[SqliteDatabases]:
    databases = SqliteDatabases(sqlite_template_file, tmp_path)
    yield databases
    databases.cleanup()


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[PostgresServer]:
    yield from postgres_server()


@pytest.fixture
def postgres_databases(postgres_template: PostgresServer) -> Iterator[PostgresDatabases]:
    databases = PostgresDatabases(postgres_template)
    yield databases
    databases.cleanup()


@pytest.fixture(scope="session")
def redis_cluster_nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisClusterNodes]:
    """Three masters for the whole session: started on first use, stopped at the end."""
    yield from redis_cluster(tmp_path_factory.mktemp("redis-cluster"))
