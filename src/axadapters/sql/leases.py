"""SQL instrument leases (``axdomain.leases``): one row per instrument, taken, renewed and
fenced by single statements, so two processes racing for a lease get one winner.

``acquire`` is one upsert whose update applies only when the row is the caller's or has
expired; its RETURNING row is the lease the caller now holds (none: another owner's lease
is live). ``fence`` reads the row ``FOR SHARE`` on PostgreSQL: inside the caller's unit of
work, a takeover (an UPDATE of the row) waits until the fenced writes have committed, and
once it has committed the old token no longer matches — a stale owner's write never lands.
"""

from __future__ import annotations

from sqlalchemy import Engine, text

from axadapters.sql.tx import begin, connect
from axdomain.contracts import ContractId
from axdomain.ids import AccountId
from axdomain.leases import Lease, StaleLease, require_owner

_ACQUIRE = text(
    """
    INSERT INTO instrument_leases (contract_id, owner, token, expires_at_ns)
    VALUES (:contract, :owner, 1, :expires)
    ON CONFLICT (contract_id) DO UPDATE SET
        token = CASE WHEN instrument_leases.owner = excluded.owner
                     THEN instrument_leases.token ELSE instrument_leases.token + 1 END,
        owner = excluded.owner,
        expires_at_ns = excluded.expires_at_ns
    WHERE instrument_leases.owner = excluded.owner OR instrument_leases.expires_at_ns <= :now
    RETURNING owner, token, expires_at_ns
    """
)
_CURRENT = text(
    "SELECT owner, token, expires_at_ns FROM instrument_leases WHERE contract_id = :contract"
)
_FENCE = (
    "SELECT token FROM instrument_leases WHERE contract_id = :contract AND owner = :owner"
    " AND token = :token AND expires_at_ns > :now"
)
_RELEASE = text(
    "UPDATE instrument_leases SET expires_at_ns = 0"
    " WHERE contract_id = :contract AND owner = :owner AND token = :token"
)


class SqlInstrumentLeases:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        share = " FOR SHARE" if engine.dialect.name == "postgresql" else ""
        self._fence = text(_FENCE + share)

    def acquire(self, contract: ContractId, owner: str, now_ns: int, ttl_ns: int) -> Lease | None:
        params = {
            "contract": contract.value,
            "owner": require_owner(owner),
            "expires": now_ns + ttl_ns,
            "now": now_ns,
        }
        with begin(self._engine) as connection:
            row = connection.execute(_ACQUIRE, params).first()
        if row is None:
            return None
        return Lease(contract, row.owner, int(row.token), int(row.expires_at_ns))

    def current(self, contract: ContractId) -> Lease | None:
        with connect(self._engine) as connection:
            row = connection.execute(_CURRENT, {"contract": contract.value}).first()
        if row is None:
            return None
        return Lease(contract, row.owner, int(row.token), int(row.expires_at_ns))

    def fence(self, contract: ContractId, owner: str, token: int, now_ns: int) -> None:
        params = {"contract": contract.value, "owner": owner, "token": token, "now": now_ns}
        with connect(self._engine) as connection:
            held = connection.execute(self._fence, params).first()
        if held is None:
            raise StaleLease(contract, token)

    def release(self, contract: ContractId, owner: str, token: int) -> None:
        params = {"contract": contract.value, "owner": owner, "token": token}
        with begin(self._engine) as connection:
            connection.execute(_RELEASE, params)


class SqlAccountLocks:
    """PostgreSQL transaction-level advisory locks keyed by the account id (released when
    the unit of work ends). SQLite has one writer at a time: nothing to do there."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = text("SELECT pg_advisory_xact_lock(:key)")
        self._enabled = engine.dialect.name == "postgresql"

    def hold(self, account_id: AccountId) -> None:
        if not self._enabled:
            return
        key = account_id.value - (1 << 64) if account_id.value >= 1 << 63 else account_id.value
        with connect(self._engine) as connection:
            connection.execute(self._lock, {"key": key})
