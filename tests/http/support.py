"""The HTTP shell over the shared test world (memory stores, manual clock), driven by
starlette's in-process client: requests go through the real ASGI stack, middleware,
validation and problem rendering, with a chosen client address."""

from __future__ import annotations

from typing import Any

import attrs
from starlette.testclient import TestClient

from axapp.bootstrap import create_operator
from axapp.http import create_app
from tests.app_support import MICRO, PEPPER, World

PERP = "COMPUTEDESK-H100-PERP"
CLIENT_ADDRESS = ("203.0.113.9", 40_000)


@attrs.define
class HttpWorld:
    world: World
    client: TestClient
    ops_token: str
    keys: int = 0

    @classmethod
    def build(cls) -> HttpWorld:
        """A fresh world behind the one shared app (building the routes once per run keeps
        the matrix fast; the handlers read the application at call time)."""
        world = World.build()
        client = _shared_client()
        client.app.state.shell.app = world.app  # type: ignore[attr-defined]
        token = create_operator(world.app.stores, "http-ops", PEPPER)
        return cls(world, client, token)

    def key(self) -> str:
        self.keys += 1
        return f"h-{self.keys}"

    def as_client(self, host: str) -> TestClient:
        return TestClient(self.client.app, client=(host, 40_000))

    def call(self, token: str | None, method: str, path: str, **kw: Any) -> Any:
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        return self.client.request(method, path, headers=headers, **kw)

    def ok(self, token: str | None, method: str, path: str, **kw: Any) -> Any:
        response = self.call(token, method, path, **kw)
        assert response.status_code == 200, response.text
        return response.json()

    def user(self, name: str, deposit_micro_usd: int = 0) -> tuple[str, str, str]:
        """(user_id, default account id, session token), through the admin routes."""
        made = self.ok(self.ops_token, "POST", "/v1/admin/users", json={"username": name})
        user_id, account = made["user_id"], made["default_account_id"]
        session = self.ok(self.ops_token, "POST", f"/v1/admin/users/{user_id}/sessions")["token"]
        if deposit_micro_usd:
            self.deposit(account, deposit_micro_usd)
        return user_id, account, session

    def deposit(self, account: str, amount_micro_usd: int) -> None:
        body = {"amount_micro_usd": amount_micro_usd, "idempotency_key": self.key()}
        self.ok(self.ops_token, "POST", f"/v1/admin/accounts/{account}/deposits", json=body)

    def account(self, session: str, name: str) -> str:
        made = self.ok(session, "POST", "/v1/accounts", json={"name": name})
        account: str = made["account_id"]
        return account

    def order_body(self, account: str | None, **over: Any) -> dict[str, Any]:
        key = self.key()
        body: dict[str, Any] = {
            "symbol": PERP,
            "side": "buy",
            "qty_lots": 1,
            "limit_price_micro_usd": 1_000 * MICRO,
            "client_order_id": key,
            "idempotency_key": key,
        }
        if account is not None:
            body["account_id"] = account
        body.update(over)
        return body

    def mint(
        self, session: str, account: str, permissions: list[str], **kw: Any
    ) -> tuple[str, str]:
        body = {"account_id": account, "permissions": permissions, **kw}
        made = self.ok(session, "POST", "/v1/api-keys", json=body)
        return made["key_id"], made["token"]

    def grant(self, session: str, account: str, user: str, permissions: list[str]) -> None:
        body = {"account_id": account, "user_id": user, "permissions": permissions}
        self.ok(session, "POST", "/v1/grants", json=body)

    def revoke(self, session: str, account: str, user: str) -> None:
        self.ok(session, "DELETE", "/v1/grants", params={"account_id": account, "user_id": user})


_CLIENT: list[TestClient] = []


def _shared_client() -> TestClient:
    if not _CLIENT:
        client = TestClient(create_app(World.build().app), client=CLIENT_ADDRESS)
        client.__enter__()  # one event loop thread for every request of the run
        _CLIENT.append(client)
    return _CLIENT[0]
