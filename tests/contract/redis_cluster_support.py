"""A real three-master Redis Cluster on loopback ports, started once per test session.

``redis-server --cluster-enabled yes`` x3 and ``redis-cli --cluster create`` run as child
processes in a temporary folder; the fixture waits for ``cluster_state:ok`` on every node
and stops the nodes afterwards. A missing ``redis-server`` goes through
``unavailable_service``: a failure in CI, a loud skip elsewhere.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest
import redis
from redis.cluster import RedisCluster

from axadapters.redis import RedisClient
from tests.conftest import unavailable_service
from tests.contract.redis_support import RedisNamespaces

MASTERS = 3
START_TIMEOUT_S = 20.0
POLL_S = 0.05
STOP_TIMEOUT_S = 5.0
LOOPBACK = "127.0.0.1"


@attrs.frozen
class RedisClusterNodes:
    ports: tuple[int, ...]

    @property
    def url(self) -> str:
        """Any one node seeds the client; it discovers the rest from ``CLUSTER SLOTS``."""
        return f"redis://{LOOPBACK}:{self.ports[0]}/0"

    def client(self) -> RedisCluster:
        return RedisCluster.from_url(self.url, socket_connect_timeout=2, socket_timeout=10)


def free_ports(count: int) -> list[int]:
    """Ports the kernel just handed out; a cluster node also binds port + 10000 (its bus),
    so both must be free."""
    ports: list[int] = []
    while len(ports) < count:
        with socket.socket() as probe:
            probe.bind((LOOPBACK, 0))
            port = int(probe.getsockname()[1])
        if port + 10_000 > 65_535 or port in ports or not _bindable(port + 10_000):
            continue
        ports.append(port)
    return ports


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


def _wait_until(condition: str, check: object, processes: list[subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        for process in processes:
            if process.poll() is not None:
                raise RuntimeError(f"a cluster node exited with {process.returncode}")
        try:
            if callable(check) and check():
                return
        except redis.RedisError:
            pass
        time.sleep(POLL_S)
    raise RuntimeError(f"Redis Cluster: {condition} not reached in {START_TIMEOUT_S} s")


def _cluster_ok(ports: list[int]) -> bool:
    for port in ports:
        node = redis.Redis(host=LOOPBACK, port=port, socket_connect_timeout=1)
        try:
            info = node.cluster("INFO")
        finally:
            node.close()
        if not isinstance(info, dict) or info.get("cluster_state") != "ok":
            return False
    return True


def _answers(ports: list[int]) -> bool:
    for port in ports:
        node = redis.Redis(host=LOOPBACK, port=port, socket_connect_timeout=1)
        try:
            node.ping()
        finally:
            node.close()
    return True


def redis_cluster(folder: Path) -> Iterator[RedisClusterNodes]:
    server, cli = shutil.which("redis-server"), shutil.which("redis-cli")
    if server is None or cli is None:
        unavailable_service("Redis Cluster", "redis-server / redis-cli are not installed")
        raise AssertionError("unreachable")  # unavailable_service fails or skips
    ports = free_ports(MASTERS)
    processes = [
        subprocess.Popen(
            [
                server,
                "--cluster-enabled", "yes",
                "--bind", LOOPBACK,
                "--port", str(port),
                "--cluster-config-file", str(folder / f"nodes-{port}.conf"),
                "--dir", str(folder),
                "--save", "",
                "--appendonly", "no",
                "--daemonize", "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]  # fmt: skip
    try:
        _wait_until("every node answering PING", lambda: _answers(ports), processes)
        subprocess.run(
            [
                cli,
                "--cluster", "create",
                *(f"{LOOPBACK}:{port}" for port in ports),
                "--cluster-replicas", "0",
                "--cluster-yes",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=START_TIMEOUT_S,
        )  # fmt: skip
        _wait_until("cluster_state:ok on every node", lambda: _cluster_ok(ports), processes)
        yield RedisClusterNodes(tuple(ports))
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


class ClusterNamespaces(RedisNamespaces):
    """Mixin for a contract subclass: the same fresh namespaces, on the session's cluster."""

    nodes: RedisClusterNodes

    @pytest.fixture(autouse=True)
    def _on_cluster(self, redis_cluster_nodes: RedisClusterNodes) -> None:
        self.nodes = redis_cluster_nodes

    def redis_client(self) -> RedisClient:
        if self._client is None:
            self._client = self.nodes.client()
        return self._client
