"""Idempotency of money-moving requests: ``(account_id, idempotency_key)`` is unique.

The request body is fingerprinted (SHA-256 of its canonical JSON): the same key with the
same body returns the first outcome; with another body it is a conflict. Ledger transfer
ids derive from the key, so even a retry after a crash between the ledger commit and the
record finds the committed transfers instead of posting again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator

import attrs

from axdomain._checks import require_text
from axdomain.errors import Conflict
from axdomain.ids import AccountId

MAX_IDEMPOTENCY_KEY_LEN = 128
TRANSFER_ID_DOMAIN = b"axdomain/transfer-id/v1"
MAX_LEGS_PER_REQUEST = 1 << 16  # low 16 bits of a derived id number the legs


@attrs.frozen
class IdempotencyRecord:
    account_id: AccountId
    idempotency_key: str
    request_hash: str
    operation: str
    response_json: str
    created_at_ns: int


def parse_idempotency_key(value: object) -> str:
    return require_text("idempotency_key", value, MAX_IDEMPOTENCY_KEY_LEN)


def request_fingerprint(operation: str, body: dict[str, object]) -> str:
    canonical = json.dumps([operation, body], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def require_same_request(record: IdempotencyRecord, operation: str, request_hash: str) -> None:
    if record.operation != operation or record.request_hash != request_hash:
        raise Conflict(
            "idempotency_key", record.idempotency_key, "already used with a different request"
        )


def derived_transfer_ids(account_id: AccountId, idempotency_key: str) -> Iterator[int]:
    """Deterministic u128 transfer ids of one request: ``base | leg`` for leg 1, 2, ...

    ``base`` is the top 112 bits of ``SHA-256(domain, account, key)``: a retry derives the
    same ids, so the ledger answers ``exists`` instead of posting twice.
    """
    digest = hashlib.sha256(
        TRANSFER_ID_DOMAIN + account_id.value.to_bytes(8, "big") + idempotency_key.encode()
    ).digest()
    base = int.from_bytes(digest[:16], "big") & ~(MAX_LEGS_PER_REQUEST - 1)
    return (base | leg for leg in range(1, MAX_LEGS_PER_REQUEST))


def _digest(*parts: bytes) -> bytes:
    return hashlib.sha256(b"\x00".join((TRANSFER_ID_DOMAIN, *parts))).digest()


def derived_order_id(account_id: AccountId, idempotency_key: str) -> int:
    """A non-zero u64 order id from the request's key: a retry names the same order."""
    digest = _digest(b"order", account_id.value.to_bytes(8, "big"), idempotency_key.encode())
    return int.from_bytes(digest[:8], "big") or 1


def derived_fill_transfer_ids(taker_order_id: int, fill_key: int) -> Iterator[int]:
    """Transfer ids of the taker fill that starts at ``fill_key`` filled lots: unique per
    fill (filled lots only grow) and the same after a restart (they live in the order log)."""
    digest = _digest(b"fill", taker_order_id.to_bytes(8, "big"), fill_key.to_bytes(8, "big"))
    base = int.from_bytes(digest[:16], "big") & ~(MAX_LEGS_PER_REQUEST - 1)
    return (base | leg for leg in range(1, MAX_LEGS_PER_REQUEST))
