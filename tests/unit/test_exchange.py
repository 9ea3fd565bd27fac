"""The exchange use case over memory stores and the ledger twin."""

from __future__ import annotations

from pathlib import Path

import pytest

from axadapters.ledger_twin import LedgerTwin
from axadapters.memory.products import MemoryProducts
from axadapters.memory.sequences import MemorySequences
from axapp.exchange import Committed, Exchange, OrderRejected, SequenceMismatch
from axapp.gateway import Gateway
from axapp.onboarding import ensure_system_accounts, onboard_user
from axapp.stores import Stores, memory_stores
from axdomain import ContractId, Order, OrderStatus, Side, TimeInForce, UserSession
from axdomain.ledger.port import LedgerPort
from axdomain.ports import SequenceAllocator
from axdomain.products import Product

MICRO = 1_000_000
PERP = ContractId(1001)


def exchange(stores: Stores, ledger: LedgerPort, sequences: SequenceAllocator) -> Exchange:
    gateway = Gateway.over(stores, b"p" * 32)
    products = MemoryProducts()
    products.seed_product(Product(PERP.product, "PERP", 0))  # start-up scans its ledgers
    return Exchange(
        stores=stores,
        products=products,
        sequences=sequences,
        ledger=ledger,
        gateway=gateway,
    )


def funded_pair(x: Exchange) -> tuple[UserSession, UserSession]:
    ensure_system_accounts(x.stores)
    x.bootstrap()
    alice, bob = onboard_user(x.stores, "alice"), onboard_user(x.stores, "bob")
    for user in (alice, bob):
        account = x.stores.accounts.get_account(user.user_id.as_default_account_id())
        assert account is not None
        x.open_ledger_account(account)
        x.deposit(account.account_id, 10_000 * MICRO)
    return UserSession(alice.user_id), UserSession(bob.user_id)


def place(
    x: Exchange,
    who: UserSession,
    side: Side,
    qty: int,
    *,
    price: int,
    cid: str,
    tif: TimeInForce = TimeInForce.GTC,
) -> tuple[Order, list[Committed]]:
    return x.place_order(
        who,
        account_id=None,
        contract=PERP,
        side=side,
        qty_lots=qty,
        limit_price_micro_usd=price * MICRO,
        client_order_id=cid,
        time_in_force=tif,
    )


def test_fill_posts_one_linked_batch_and_stamps_both_accounts() -> None:
    x = exchange(memory_stores(), LedgerTwin(), MemorySequences())
    alice, bob = funded_pair(x)
    place(x, bob, Side.SELL, 2, price=100, cid="s1")
    order, fills = place(x, alice, Side.BUY, 2, price=100, cid="b1")
    assert len(fills) == 1
    accounts = {s.account_id for s in fills[0].stamps}
    assert alice.user_id.as_default_account_id() in accounts
    assert bob.user_id.as_default_account_id() in accounts
    assert x.stores.orders.get_order(order.order_id).status is OrderStatus.FILLED  # type: ignore[union-attr]
    assert x.risk.position(alice.user_id.as_default_account_id(), PERP).qty_lots == 2
    assert x.check_invariants() == []
    assert x.resume_matches_live()


def test_margin_is_per_account_and_rejects_before_recording() -> None:
    x = exchange(memory_stores(), LedgerTwin(), MemorySequences())
    alice, _ = funded_pair(x)
    with pytest.raises(OrderRejected) as error:
        place(x, alice, Side.BUY, 1_000, price=1_000, cid="big")  # notional 1e6 USD vs 1e4 cash
    assert error.value.field == "qty_lots"
    assert x.stores.orders.all_orders() == []


def test_ioc_remainder_is_cancelled_not_rested() -> None:
    x = exchange(memory_stores(), LedgerTwin(), MemorySequences())
    alice, bob = funded_pair(x)
    place(x, bob, Side.SELL, 1, price=100, cid="s1")
    order, fills = place(x, alice, Side.BUY, 3, price=100, cid="b1", tif=TimeInForce.IOC)
    assert len(fills) == 1
    assert x.stores.orders.get_order(order.order_id).status is OrderStatus.CANCELLED  # type: ignore[union-attr]
    assert x.stores.orders.resting_orders(PERP) == []


def test_restart_requires_the_allocator_to_agree_with_the_ledger(tmp_path: Path) -> None:
    stores, sequences = memory_stores(), MemorySequences()
    journal = tmp_path / "ledger.journal"
    with LedgerTwin.open(journal) as twin:
        x = exchange(stores, twin, sequences)
        funded_pair(x)
    with LedgerTwin.open(journal) as twin:
        resumed = exchange(stores, twin, sequences)
        assert resumed.check_invariants() == []
        assert resumed.resume_matches_live()
    with LedgerTwin.open(journal) as twin, pytest.raises(SequenceMismatch) as error:
        exchange(stores, twin, MemorySequences())
    assert error.value.field == "sequence_number"
