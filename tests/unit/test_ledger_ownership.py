"""A shared cluster: the exchange reads and decodes only its own ledgers and accounts."""

from __future__ import annotations

from pathlib import Path

import pytest

from axadapters.ledger_twin import LedgerTwin
from axadapters.memory.cache import MemorySessionStore
from axapp.bootstrap import assemble, create_operator, ensure_system_accounts
from axapp.stores import Stores, memory_stores
from axapp.use_cases import Application
from axdomain import ContractId, Side
from axdomain.errors import Conflict, InvalidValue
from axdomain.ids import SYSTEM_ACCOUNTS, AccountId
from axdomain.ledger.ownership import own_ledgers, scan_own_ledger
from axdomain.ledger.risk import RiskState
from axdomain.ledger.values import (
    USD_LEDGER,
    LedgerAccount,
    Transfer,
    TransferCode,
    TransferFlags,
)
from axdomain.ledger_ids import derive_tb_account_id, derive_tb_usd_account_id
from axdomain.products import Product

MICRO = 1_000_000
PERP = ContractId(1001)
BIT_63 = 1 << 63
STRANGER = AccountId(0x0777_0000_0000_0001)  # decodes, but no registry knows it


def foreign_world(twin: LedgerTwin) -> list[int]:
    """Another service's objects on the same cluster; returns their account ids."""
    ids = [
        (5 << 64) | BIT_63 | 1,  # ledger 1, id with the reserved scheme bit set
        (6 << 64) | BIT_63 | 1,
        (7 << 64) | BIT_63 | 1001,  # a product ledger this exchange owns, bit 63 set
        (8 << 64) | BIT_63 | 1001,
        derive_tb_usd_account_id(STRANGER),  # decodes, unregistered
        (9 << 64) | 77,  # a ledger the exchange does not own
        (10 << 64) | 77,
    ]
    ledgers = [USD_LEDGER, USD_LEDGER, 1001, 1001, USD_LEDGER, 77, 77]
    accounts = [LedgerAccount(id=i, ledger=lg, code=9) for i, lg in zip(ids, ledgers, strict=True)]
    assert twin.create_accounts(accounts) == []
    moves = [
        Transfer(id=(1 << 100) + 1, debit_account_id=ids[0], credit_account_id=ids[1],
                 amount=5, ledger=USD_LEDGER, code=99, flags=TransferFlags.LINKED),
        Transfer(id=(1 << 100) + 2, debit_account_id=ids[1], credit_account_id=ids[4],
                 amount=3, ledger=USD_LEDGER, code=99),
        Transfer(id=(1 << 100) + 3, debit_account_id=ids[2], credit_account_id=ids[3],
                 amount=4, ledger=1001, code=99),
        Transfer(id=(1 << 100) + 4, debit_account_id=ids[5], credit_account_id=ids[6],
                 amount=6, ledger=77, code=99),
    ]  # fmt: skip
    assert twin.create_transfers(moves) == []
    return ids


def exchange(stores: Stores, ledger: LedgerTwin) -> Application:
    return assemble(stores, ledger, MemorySessionStore(stores.clock), b"o" * 32)


def trade(app: Application) -> None:
    ops = app.gateway.authenticate(create_operator(app.stores, "ops", b"o" * 32))
    sessions = []
    for name in ("ann", "ben"):
        user, account = app.operator.onboard_user(ops, name)
        app.money.deposit(ops, account.account_id, 10_000 * MICRO, f"dep-{name}")
        sessions.append(app.gateway.authenticate(app.operator.issue_session(ops, user.user_id)))
    ann, ben = sessions
    for who, side, cid in ((ben, Side.SELL, "s"), (ann, Side.BUY, "b")):
        app.orders.place(
            who,
            symbol="COMPUTEDESK-H100-PERP",
            side=side,
            qty_lots=3,
            limit_price_micro_usd=100 * MICRO,
            client_order_id=cid,
            idempotency_key=cid,
        )


def test_an_exchange_starts_on_a_shared_cluster_and_ignores_foreign_accounts(
    tmp_path: Path,
) -> None:
    stores = memory_stores()
    journal = tmp_path / "ledger.journal"
    with LedgerTwin.open(journal) as twin:
        foreign = foreign_world(twin)
        # what start-up did before: decoding the whole cluster fails on bit 63
        with pytest.raises(InvalidValue):
            RiskState.resume(twin.scan_accounts(), twin.scan_transfers())
        app = exchange(stores, twin)
        trade(app)
        x = app.exchange
        assert x.check_invariants() == []
        scan = x.own_ledger_scan()
        assert not {a.id for a in scan.accounts} & set(foreign)
        assert scan.foreign_accounts == 5  # ledger 77 is never read
        assert scan.foreign_transfers == 3
        live = x.risk
    with LedgerTwin.open(journal) as twin:
        restarted = exchange(stores, twin).exchange  # no mismatch, no decode error
        assert restarted.risk == live
        assert restarted.resume_matches_live()
        assert restarted.check_invariants() == []


def test_own_ledgers_are_usd_and_each_products_qty_and_basis() -> None:
    products = [Product(PERP.product, "PERP", 0), Product(ContractId(1003).product, "X", 0)]
    assert own_ledgers(products) == (1, 1001, 1002, 1003, 1004)
    assert own_ledgers([]) == (1,)


def test_an_own_account_on_an_unregistered_product_or_wrong_ledger_is_foreign() -> None:
    twin = LedgerTwin()
    stores = memory_stores()
    ensure_system_accounts(stores)
    pnl = SYSTEM_ACCOUNTS.AX_PNL
    wrong_ledger = LedgerAccount(id=derive_tb_account_id(pnl, PERP), ledger=USD_LEDGER, code=2)
    unlisted = LedgerAccount(id=derive_tb_account_id(pnl, ContractId(1005)), ledger=1005, code=2)
    assert twin.create_accounts([wrong_ledger, unlisted]) == []
    scan = scan_own_ledger(
        twin,
        products=[Product(PERP.product, "PERP", 0)],
        accounts=stores.accounts.list_accounts(),
    )
    assert scan.accounts == ()
    assert scan.foreign_accounts == 1  # ledger 1005 is not read at all


def test_a_foreign_transfer_into_an_exchange_account_stops_the_start() -> None:
    twin = LedgerTwin()
    stores = memory_stores()
    ensure_system_accounts(stores)
    custody = derive_tb_usd_account_id(SYSTEM_ACCOUNTS.AX_CUSTODY)
    outsider = (3 << 64) | BIT_63 | 1
    accounts = [
        LedgerAccount(id=custody, ledger=1, code=1),
        LedgerAccount(id=outsider, ledger=1, code=9),
    ]
    assert twin.create_accounts(accounts) == []
    intrusion = Transfer(
        id=42,
        debit_account_id=outsider,
        credit_account_id=custody,
        amount=1,
        ledger=1,
        code=int(TransferCode.DEPOSIT),
    )
    assert twin.create_transfers([intrusion]) == []
    with pytest.raises(Conflict) as error:
        scan_own_ledger(twin, products=[], accounts=stores.accounts.list_accounts())
    assert error.value.value == 42
