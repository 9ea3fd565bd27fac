"""Real processes for the scale-out tests and benchmark: one ledger service and several
``ax serve`` on one PostgreSQL database and one Redis database number."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import attrs
import httpx
import redis

from axadapters.sql import open_sql_stores
from axapp.bootstrap import create_operator
from axapp.runtime import stores_over
from tests.conftest import unavailable_service
from tests.contract.sql_support import PostgresServer, database_url

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = "redis://127.0.0.1:6379/13"  # this suite's own database number
SERVE = ["serve", "--port", "0"]
PEPPER_HEX = "5c" * 32
LISTENING = re.compile(rb"(listening on|at) (http://\S+|unix://\S+|tcp://\S+)")


@attrs.define
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    url: str

    def kill(self) -> None:
        """SIGKILL: no handover, no flush; the lease lapses only after its TTL."""
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(10)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(10)


def launch(
    name: str, args: list[str], env: dict[str, str], folder: Path
) -> subprocess.Popen[bytes]:
    """``ax ARGS`` in the background; its stderr goes to ``folder/NAME.err``."""
    with (folder / f"{name}.err").open("wb") as errors:
        return subprocess.Popen(
            [sys.executable, "-m", "axapp.cli", *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=errors,
        )


def ready(name: str, popen: subprocess.Popen[bytes], folder: Path) -> Process:
    """Wait for the line naming where the process listens."""
    assert popen.stdout is not None
    line = popen.stdout.readline()
    found = LISTENING.search(line)
    if found is None:
        popen.kill()
        popen.wait(10)
        errors = (folder / f"{name}.err").read_text(errors="replace")
        raise AssertionError(f"{name} did not start: {line!r} {errors[-2000:]}")
    return Process(name, popen, found.group(2).decode())


@attrs.define
class Cluster:
    folder: Path
    env: dict[str, str]
    database_url: str
    ledger: Process
    serves: list[Process]
    operator_token: str
    http: list[httpx.Client] = attrs.Factory(list)  # one keep-alive client per process

    def ax(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "axapp.cli", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


def require_redis() -> redis.Redis:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as error:
        unavailable_service("Redis", str(error))
    return client


@contextmanager
def cluster(folder: Path, serves: int, lease_ttl_ms: int) -> Iterator[Cluster]:
    """A migrated PostgreSQL database of its own, the ledger service, ``serves`` processes."""
    cache = require_redis()
    server = PostgresServer()
    server.check_reachable()
    name = f"{server.run_prefix}_scale"
    server.execute(f'CREATE DATABASE "{name}"')
    url = database_url(name)
    started: list[Process] = []
    try:
        sql = open_sql_stores(url)  # migrated once, before any process races to do it
        try:
            token = create_operator(stores_over(sql), "ops", bytes.fromhex(PEPPER_HEX))
        finally:
            sql.close()
        env = {
            **os.environ,
            "AX_DATA_DIR": str(folder / "ledger"),
            "AX_DATABASE_URL": url,
            "AX_REDIS_URL": REDIS_URL,
            "AX_LEDGER_URL": f"unix://{folder}/ledger.sock",
            "AX_KEY_PEPPER": PEPPER_HEX,
            "AX_LEASE_TTL_MS": str(lease_ttl_ms),
        }
        ledger = ready("ledger", launch("ledger", ["ledger-serve"], env, folder), folder)
        started.append(ledger)
        booting = [  # started together: they boot in parallel
            (
                f"serve-{i}",
                launch(f"serve-{i}", SERVE, {**env, "AX_INSTANCE": f"serve-{i}"}, folder),
            )
            for i in range(serves)
        ]
        started += [ready(name, popen, folder) for name, popen in booting]
        serving = started[1:]
        http = [httpx.Client(base_url=p.url, timeout=30.0) for p in serving]
        try:
            yield Cluster(folder, env, url, ledger, serving, token, http)
        finally:
            for client in http:
                client.close()
    finally:
        for process in reversed(started):
            process.stop()
        for key in cache.scan_iter("risk:*", count=1000):
            cache.delete(key)  # this suite's database number only
        cache.close()
        server.drop(name)
        server.close()
