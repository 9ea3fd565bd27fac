"""The account stream over a real uvicorn server on loopback: refused on a foreign account,
events of the one account, closed as soon as the grant or the key is revoked."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn

from axapp.bootstrap import create_operator
from axapp.http import create_app
from axapp.http.server import listen
from axdomain import AccountId, Permissions
from axdomain.orders import Side
from tests.app_support import MICRO, PEPPER, World

POLL_MS = 20
READ_TIMEOUT_S = 30.0


class Served:
    def __init__(self) -> None:
        self.world = World.build()
        self.ops_token = create_operator(self.world.app.stores, "stream-ops", PEPPER)
        api = create_app(self.world.app, stream_poll_ms=POLL_MS)
        sock = listen("127.0.0.1", 0)
        self.base = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(api, log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]})
        self.thread.start()
        self.sock = sock

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join()
        self.sock.close()


@pytest.fixture
def served() -> Iterator[Served]:
    s = Served()
    try:
        yield s
    finally:
        s.stop()


def events(response: httpx.Response) -> Iterator[tuple[str, dict[str, Any]]]:
    name = ""
    for line in response.iter_lines():
        if line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: "):
            import json

            yield name, json.loads(line.removeprefix("data: "))


def open_stream(client: httpx.Client, token: str, account: AccountId) -> Any:
    return client.stream(
        "GET",
        "/v1/stream",
        params={"account_id": str(account)},
        headers={"Authorization": f"Bearer {token}"},
    )


def client_for(served: Served) -> httpx.Client:
    timeout = httpx.Timeout(READ_TIMEOUT_S)
    return httpx.Client(base_url=served.base, timeout=timeout)


def test_a_foreign_account_is_refused_with_the_account_not_found_body(served: Served) -> None:
    w = served.world
    _, alice_default, _ = w.user("alice")
    carol, _, _ = w.user("carol")
    carol_token = w.app.operator.issue_session(w.ops, carol.user_id)
    with (
        client_for(served) as client,
        open_stream(client, carol_token, alice_default.account_id) as r,
    ):
        r.read()
        assert r.status_code == 404
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["code"] == "account_not_found"


def test_revoking_the_grant_closes_the_stream(served: Served) -> None:
    w = served.world
    alice, desk, alice_session = w.user("alice", 1_000 * MICRO)
    carol, _, _ = w.user("carol")
    w.app.membership.grant(alice_session, desk.account_id, carol.user_id, Permissions.READ_ONLY)
    carol_token = w.app.operator.issue_session(w.ops, carol.user_id)
    seen: list[str] = []
    with client_for(served) as client, open_stream(client, carol_token, desk.account_id) as r:
        assert r.status_code == 200
        for name, data in events(r):
            seen.append(name)
            if name == "balance" and "order" not in seen:
                assert data["usd_micro_usd"] == 1_000 * MICRO
                w.place(alice_session, Side.BUY, 1, 100 * MICRO, account_id=desk.account_id)
            elif name == "order":
                assert data["account_id"] == str(desk.account_id)
                w.app.membership.revoke(alice_session, desk.account_id, carol.user_id)
            elif name == "closed":
                assert data == {"status": 404, "code": "account_not_found"}
                break
    assert seen[0] == "balance"
    assert "order" in seen
    assert seen[-1] == "closed"
    del alice


def test_revoking_the_key_closes_the_stream(served: Served) -> None:
    w = served.world
    _, desk, alice_session = w.user("alice", 1_000 * MICRO)
    key_id, token = w.mint(alice_session, desk.account_id, Permissions.READ_ONLY)
    with client_for(served) as client, open_stream(client, token, desk.account_id) as r:
        assert r.status_code == 200
        for name, data in events(r):
            if name == "balance":
                w.app.membership.revoke_key(alice_session, key_id)
            elif name == "closed":
                assert data == {"status": 401, "code": "unauthenticated"}
                break
        else:  # pragma: no cover
            pytest.fail("the stream ended without a closed event")
