"""A backing service that fails mid-request is 503 ``unavailable``, never a 500 and never
the driver's words."""

from __future__ import annotations

import pytest
import sqlalchemy.exc

from tests.app_support import MICRO
from tests.http.support import HttpWorld


def test_a_failing_store_is_503_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    h = HttpWorld.build()
    _, _, alice = h.user("alice", 10 * MICRO)

    def down(*_: object) -> None:
        raise sqlalchemy.exc.OperationalError("SELECT 1", {}, OSError("connection refused"))

    monkeypatch.setattr(h.world.app.stores.audit, "append", down)
    response = h.call(alice, "GET", "/v1/balances")
    assert response.status_code == 503
    body = response.json()
    assert body["code"] == "unavailable"
    assert "SELECT" not in response.text and "refused" not in response.text
