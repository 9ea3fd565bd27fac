"""The one composition root: configuration -> every adapter -> the use cases.

``application(runtime)`` brings a freshly opened runtime to a serving state: system
accounts in the registry and on the ledger, the seed products and perpetuals, the exchange
engine (risk state from the ledger, the book from the resting orders), the gateway and the
use cases. The key pepper (HMAC key of every stored key and operator secret) comes from
``AX_KEY_PEPPER`` (hex) or is made once in the data folder, so credentials survive restarts.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
from pathlib import Path

from axadapters.ledger_service import RemoteLedger
from axadapters.sql.leases import SqlAccountLocks
from axapp.book_leases import BookLeases, Sharing, fenced
from axapp.config import Config
from axapp.exchange import Exchange
from axapp.runtime import Runtime
from axapp.stores import Stores
from axapp.use_cases import Application
from axdomain.accounts import Account, AccountKind
from axdomain.api_keys import MIN_PEPPER_BYTES, MIN_SECRET_BYTES
from axdomain.cache import RiskSnapshotCache, SessionStore
from axdomain.errors import Conflict, InvalidValue
from axdomain.ids import SYSTEM_ACCOUNTS
from axdomain.ledger.port import LedgerPort
from axdomain.operators import Operator, mint_operator
from axdomain.registry import load_symbol_registry, seed_rows

PEPPER_FILE = "key-pepper"


def ensure_system_accounts(stores: Stores) -> None:
    """The reserved system accounts exist once; they never get a UBO or a grant."""
    for name, account_id in SYSTEM_ACCOUNTS.by_name().items():
        if stores.accounts.get_account(account_id) is None:
            with contextlib.suppress(Conflict):  # another process starting at the same time
                stores.accounts.add_account(
                    Account(account_id, name, AccountKind.SYSTEM, None, stores.clock.now_ns())
                )


def ensure_seed_products(stores: Stores) -> None:
    """The seed table's products and perpetuals, then the startup check against it."""
    if not stores.products.list_products():
        products, instruments = seed_rows(stores.clock.now_ns())
        try:
            with stores.uow.transaction():
                for product in products:
                    stores.products.seed_product(product)
                for instrument in instruments:
                    stores.products.add_instrument(instrument)
        except Conflict:
            if not stores.products.list_products():  # not a concurrent start: a real clash
                raise
    load_symbol_registry(stores.products)


def load_pepper(config: Config) -> bytes:
    text = os.environ.get("AX_KEY_PEPPER", "").strip()
    if text:
        try:
            pepper = bytes.fromhex(text)
        except ValueError:
            raise InvalidValue("AX_KEY_PEPPER", "<redacted>", "must be hex") from None
        if len(pepper) < MIN_PEPPER_BYTES:
            raise InvalidValue("AX_KEY_PEPPER", "<redacted>", f">= {MIN_PEPPER_BYTES} bytes")
        return pepper
    path = config.data_dir / PEPPER_FILE
    if not path.exists():
        _write_new_pepper(path)
    return bytes.fromhex(path.read_text().strip())


def _write_new_pepper(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(os.urandom(MIN_PEPPER_BYTES).hex() + "\n")


def application(runtime: Runtime, pepper: bytes | None = None) -> Application:
    config = runtime.config
    shared: Sharing | None = None
    if config.ledger_url is not None and isinstance(runtime.ledger, RemoteLedger):
        # Several processes share this ledger: fold its commits in its order, hold a book
        # only under an instrument lease, decide on an account's free cash one process at a
        # time (docs/scale.md, Several ax serve).
        owner = instance_owner(config.instance_name)
        books = BookLeases(runtime.leases, runtime.stores.clock, owner, config.lease_ttl_ms)
        shared = Sharing(runtime.ledger, books, SqlAccountLocks(runtime.sql.engine))
    return assemble(
        runtime.stores,
        runtime.ledger,
        runtime.sessions,
        pepper if pepper is not None else load_pepper(config),
        risk_cache=runtime.risk_cache,
        shared=shared,
    )


def instance_owner(name: str | None) -> str:
    """Unique per process, even under one ``AX_INSTANCE`` name: a restarted or duplicated
    process must never pass for its predecessor in the lease fence."""
    base = (name or socket.gethostname() or "ax")[:40]
    return f"{base}/{os.getpid()}/{secrets.token_hex(4)}"


def assemble(
    stores: Stores,
    ledger: LedgerPort,
    sessions: SessionStore,
    pepper: bytes,
    *,
    risk_cache: RiskSnapshotCache | None = None,
    shared: Sharing | None = None,
) -> Application:
    """Adapters in, use cases out: the one place the application is wired. ``shared``: the
    ledger's tail and the book leases when other processes serve the same stores."""
    ensure_system_accounts(stores)
    ensure_seed_products(stores)
    if shared is None:
        exchange = Exchange(stores=stores, ledger=ledger, risk_cache=risk_cache)
    else:
        stores = fenced(stores, shared.books)
        exchange = Exchange(stores=stores, ledger=ledger, risk_cache=risk_cache, tail=shared.tail)
        shared.books.attach(exchange)
        exchange.account_locks = shared.account_locks
    exchange.bootstrap()
    return Application(stores=stores, exchange=exchange, sessions=sessions, pepper=pepper)


def create_operator(stores: Stores, name: str, pepper: bytes) -> str:
    """Mint an operator credential (the command line is the trust root); token shown once."""
    if stores.operators.find_operator(name) is not None:
        raise Conflict("name", name, "an operator of that name exists")
    operator, token = mint_operator(
        operator_id=stores.ids.new_id(),
        name=name,
        secret=stores.secrets.token_bytes(MIN_SECRET_BYTES),
        pepper=pepper,
        now_ns=stores.clock.now_ns(),
    )
    stores.operators.add_operator(operator)
    return token


def revoke_operator(stores: Stores, name: str) -> Operator | None:
    stores.operators.revoke_operator(name, stores.clock.now_ns())
    return stores.operators.find_operator(name)
