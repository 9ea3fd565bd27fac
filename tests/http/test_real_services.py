"""The HTTP shell on PostgreSQL and Redis (mandatory legs under CI=true): operator tokens
(SQL) and sessions (Redis ``session:token:{sha256}``) survive a restart of the app."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis
from starlette.testclient import TestClient

from axapp.bootstrap import application, create_operator, load_pepper
from axapp.config import Config
from axapp.gateway import session_token_hash
from axapp.http import create_app
from axapp.runtime import open_runtime
from tests.conftest import unavailable_service
from tests.contract.sql_support import PostgresServer, database_url

REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.mark.postgres
@pytest.mark.redis
def test_tokens_and_sessions_survive_a_restart(tmp_path: Path) -> None:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as error:
        unavailable_service("Redis", str(error))
    server = PostgresServer()
    server.check_reachable()
    name = f"{server.run_prefix}_http"
    server.execute(f'CREATE DATABASE "{name}"')
    config = Config(data_dir=tmp_path, database_url=database_url(name), redis_url=REDIS_URL)
    token = ""
    try:
        with open_runtime(config) as runtime:
            ops = create_operator(runtime.stores, "ops", load_pepper(config))
            with TestClient(create_app(application(runtime), config=config)) as http:
                auth = {"Authorization": f"Bearer {ops}"}
                made = http.post("/v1/admin/users", json={"username": "alice"}, headers=auth)
                user = made.json()["user_id"]
                session = http.post(f"/v1/admin/users/{user}/sessions", headers=auth).json()
        token = session["token"]
        assert client.exists(f"session:token:{session_token_hash(token)}") == 1
        with (
            open_runtime(config) as runtime,
            TestClient(create_app(application(runtime), config=config)) as http,
        ):
            mine = http.get("/v1/balances", headers={"Authorization": f"Bearer {token}"})
            assert mine.status_code == 200, mine.text
            assert mine.json()["account_id"] == made.json()["default_account_id"]
            report = http.get("/v1/admin/invariants", headers={"Authorization": f"Bearer {ops}"})
            assert report.json()["violations"] == []
    finally:
        if token:
            client.delete(f"session:token:{session_token_hash(token)}")
        client.close()
        server.drop(name)
        server.close()
