"""What every use case shares: the stores, the gateway, the exchange engine, and the
idempotency rule for requests that move money."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

import attrs

from axapp.exchange import Exchange
from axapp.gateway import Gateway
from axapp.stores import Stores
from axdomain.contracts import ContractId
from axdomain.errors import Conflict
from axdomain.idempotency import (
    IdempotencyRecord,
    parse_idempotency_key,
    request_fingerprint,
    require_same_request,
)
from axdomain.ids import AccountId


class JsonView(Protocol):
    def as_dict(self) -> dict[str, Any]: ...


V = TypeVar("V", bound=JsonView)


@attrs.frozen
class Context:
    stores: Stores
    gateway: Gateway
    exchange: Exchange
    pepper: bytes

    def symbol_of(self, contract: ContractId) -> str:
        for instrument in self.stores.products.list_instruments():
            if instrument.contract == contract:
                return instrument.symbol
        return str(contract.value)

    def idempotent(  # noqa: PLR0917 (the request's parts, each named at every call)
        self,
        account_id: AccountId,
        idempotency_key: object,
        operation: str,
        body: dict[str, object],
        compute: Callable[[str], V],
        decode: Callable[[dict[str, Any]], V],
    ) -> V:
        """First call computes and records; a retry with the same body returns the first
        answer; the same key with another body is a ``Conflict``. Runs inside the
        request's unit of work, so the record commits with the request's other writes."""
        key = parse_idempotency_key(idempotency_key)
        fingerprint = request_fingerprint(operation, body)
        existing = self.stores.idempotency.get(account_id, key)
        if existing is not None:
            require_same_request(existing, operation, fingerprint)
            return decode(json.loads(existing.response_json))
        view = compute(key)
        try:
            self.stores.idempotency.put(
                IdempotencyRecord(
                    account_id=account_id,
                    idempotency_key=key,
                    request_hash=fingerprint,
                    operation=operation,
                    response_json=json.dumps(view.as_dict(), sort_keys=True),
                    created_at_ns=self.stores.clock.now_ns(),
                )
            )
        except Conflict:
            # The same request ran at the same time in another process and recorded first
            # (its ledger transfers are ours: same derived ids): answer as it did.
            recorded = self.stores.idempotency.get(account_id, key)
            if recorded is None:
                raise
            require_same_request(recorded, operation, fingerprint)
            return decode(json.loads(recorded.response_json))
        return view
