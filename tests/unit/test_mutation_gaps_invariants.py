"""Invariant branches a mutation run showed to be unwatched.

Each test corrupts a healthy ledger in exactly one way and asserts the whole violation
list, so a check that reports the wrong thing (or ``None``) fails as surely as one that
reports nothing. The "after a bad record" tests put an undecodable or broken row first and
a second violation behind it: one bad row must never hide the rest.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs
import pytest

from axdomain import (
    SYSTEM_ACCOUNTS,
    AccountFlagChange,
    AccountId,
    Action,
    AuditRecord,
    DenyReason,
    InvariantInputs,
    Order,
    Permissions,
    Side,
    TimeInForce,
    TransferCode,
    Violation,
    check_all_invariants,
    derive_tb_account_id,
    derive_tb_basis_account_id,
    derive_tb_usd_account_id,
)
from axdomain.ledger.values import LedgerAccount, Transfer
from tests.ledger_support import DATED, PERP, World

PNL = SYSTEM_ACCOUNTS.AX_PNL
FEES = SYSTEM_ACCOUNTS.AX_FEES
SETTLEMENT = SYSTEM_ACCOUNTS.AX_SETTLEMENT
# Low 64 bits with the reserved scheme tag set: never decodes.
UNDECODABLE_ID = (0x0190_0000_0000_0001 << 64) | (1 << 63) | 1001


@pytest.fixture(scope="module")
def world() -> World:
    world = World.build(3)
    for index in range(3):
        assert world.deposit(index, 10**12) == []
    assert world.fill(0, 1, 10, 1_000_000) == []
    assert world.fill(1, 0, 4, 1_100_000) == []
    assert world.fill(0, 2, 7, 123_457, DATED) == []
    assert world.funding(1_000_001, 123_457) == []
    return world


@pytest.fixture
def healthy(world: World) -> InvariantInputs:
    inputs = world.inputs()
    assert check_all_invariants(inputs) == []
    return inputs


def _cust(world: World, index: int) -> AccountId:
    return world.customers[index].account_id


def _replace_accounts(
    inputs: InvariantInputs, changes: dict[int, Callable[[LedgerAccount], LedgerAccount]]
) -> InvariantInputs:
    assert changes.keys() <= {a.id for a in inputs.ledger_accounts}
    rows = [changes[a.id](a) if a.id in changes else a for a in inputs.ledger_accounts]
    return attrs.evolve(inputs, ledger_accounts=rows)


def _credit(amount: int) -> Callable[[LedgerAccount], LedgerAccount]:
    def change(account: LedgerAccount) -> LedgerAccount:
        if amount >= 0:
            return attrs.evolve(account, credits_posted=account.credits_posted + amount)
        return attrs.evolve(account, debits_posted=account.debits_posted - amount)

    return change


def _net(inputs: InvariantInputs, tb_id: int) -> int:
    return next(a.net for a in inputs.ledger_accounts if a.id == tb_id)


def _fill_time(inputs: InvariantInputs, account: AccountId, contract: object) -> int:
    qty_id = derive_tb_account_id(account, contract)  # type: ignore[arg-type]
    return next(
        t.user_data_64
        for t in inputs.transfers
        if t.code == TransferCode.TRADE_QTY and qty_id in (t.debit_account_id, t.credit_account_id)
    )


# ---------------------------------------------------------------------------------- G3


def test_g3_sums_ax_pnl_basis_over_every_contract(healthy: InvariantInputs) -> None:
    # AX_PNL's basis moves between two contracts: the sum (and so G3) is unchanged, and
    # AX_SETTLEMENT compensates per contract so G2 holds too.
    moved = _replace_accounts(
        healthy,
        {
            derive_tb_basis_account_id(PNL, PERP): _credit(5),
            derive_tb_basis_account_id(SETTLEMENT, PERP): _credit(-5),
            derive_tb_basis_account_id(PNL, DATED): _credit(-5),
            derive_tb_basis_account_id(SETTLEMENT, DATED): _credit(5),
        },
    )
    assert check_all_invariants(moved) == []


def test_g3_ax_pnl_basis_without_usd_is_reported_with_both_sums(healthy: InvariantInputs) -> None:
    broken = _replace_accounts(
        healthy,
        {
            derive_tb_basis_account_id(PNL, DATED): _credit(11),
            derive_tb_basis_account_id(SETTLEMENT, DATED): _credit(-11),
        },
    )
    assert check_all_invariants(broken) == [
        Violation("G3", "AX_PNL", "USD net 0 != sum of basis nets 11")
    ]


# ---------------------------------------------------------------------------------- U1


def test_u1_customer_usd_at_exactly_zero_is_healthy(world: World, healthy: InvariantInputs) -> None:
    victim = derive_tb_usd_account_id(_cust(world, 2))
    balance = _net(healthy, victim)
    emptied = _replace_accounts(
        healthy, {victim: _credit(-balance), derive_tb_usd_account_id(FEES): _credit(balance)}
    )
    assert _net(emptied, victim) == 0
    assert check_all_invariants(emptied) == []


def test_u1_system_usd_may_go_negative(healthy: InvariantInputs) -> None:
    assert _net(healthy, derive_tb_usd_account_id(SYSTEM_ACCOUNTS.AX_CUSTODY)) < 0
    assert check_all_invariants(healthy) == []


# ---------------------------------------------------------------------------------- U3


def test_u3_close_only_from_exactly_the_fill_time_applies_to_that_fill(
    world: World, healthy: InvariantInputs
) -> None:
    account = _cust(world, 2)
    at_ns = _fill_time(healthy, account, DATED)
    exact = [AccountFlagChange(account, at_ns, is_frozen=False, is_close_only=True)]
    found = check_all_invariants(attrs.evolve(healthy, flag_history=exact))
    assert [(v.code, v.subject) for v in found] == [("U3", str(account))]
    assert "raised |qty| 0->7 on a close-only account" in found[0].detail
    later = [AccountFlagChange(account, at_ns + 1, is_frozen=False, is_close_only=True)]
    assert check_all_invariants(attrs.evolve(healthy, flag_history=later)) == []


def test_u3_flag_history_is_replayed_in_order(world: World, healthy: InvariantInputs) -> None:
    account = _cust(world, 2)
    at_ns = _fill_time(healthy, account, DATED)
    lifted = [
        AccountFlagChange(account, 0, is_frozen=False, is_close_only=True),
        AccountFlagChange(account, at_ns, is_frozen=False, is_close_only=False),
    ]
    assert check_all_invariants(attrs.evolve(healthy, flag_history=lifted)) == []
    frozen_then_lifted = [
        AccountFlagChange(account, 0, is_frozen=True, is_close_only=False),
        AccountFlagChange(account, at_ns + 1, is_frozen=False, is_close_only=False),
    ]
    found = check_all_invariants(attrs.evolve(healthy, flag_history=frozen_then_lifted))
    assert [(v.code, v.subject) for v in found] == [("U3", str(account))]
    assert found[0].detail.endswith("while frozen")


def test_u3_frozen_from_exactly_the_order_time(world: World, healthy: InvariantInputs) -> None:
    account = _cust(world, 0)
    order = _order(world, 1, 5_000)
    audit = [_audit(world, 4_000, allowed=True)]
    frozen = [AccountFlagChange(account, 5_000, is_frozen=True, is_close_only=False)]
    found = check_all_invariants(
        attrs.evolve(healthy, flag_history=frozen, orders=[order], audit=audit)
    )
    assert found == [Violation("U3", str(account), "order 1 while frozen")]
    later = [AccountFlagChange(account, 5_001, is_frozen=True, is_close_only=False)]
    assert (
        check_all_invariants(attrs.evolve(healthy, flag_history=later, orders=[order], audit=audit))
        == []
    )


def test_u3_undecodable_qty_transfer_does_not_hide_later_fills(
    world: World, healthy: InvariantInputs
) -> None:
    account = _cust(world, 2)
    history = [AccountFlagChange(account, 0, is_frozen=False, is_close_only=True)]
    flagged = attrs.evolve(healthy, flag_history=history)
    expected = [v for v in check_all_invariants(flagged) if v.code == "U3"]
    assert len(expected) == 1
    bad = Transfer(
        id=10**9,
        debit_account_id=UNDECODABLE_ID,
        credit_account_id=derive_tb_account_id(account, PERP),
        amount=1,
        ledger=PERP.qty_ledger,
        code=TransferCode.TRADE_QTY,
    )
    found = check_all_invariants(attrs.evolve(flagged, transfers=[bad, *flagged.transfers]))
    assert [v for v in found if v.code == "U3"] == expected
    assert any(v.code == "P4" and v.subject == f"transfer {bad.id}" for v in found)


def test_u3_tracks_qty_through_a_settlement_credit() -> None:
    # The short side of a settlement is credited its qty back to zero; a later opening
    # fill on a close-only account must be judged from zero, not from the old short.
    world = World.build(3)
    for index in range(3):
        assert world.deposit(index, 10**12) == []
    assert world.fill(0, 2, 7, 1_000_000, DATED) == []
    assert world.settle(1_100_000) == []
    close_only_from = world.now_ns + 1
    assert world.fill(2, 1, 1, 1_000_000, DATED) == []
    account = _cust(world, 2)
    history = [AccountFlagChange(account, close_only_from, is_frozen=False, is_close_only=True)]
    found = check_all_invariants(attrs.evolve(world.inputs(), flag_history=history))
    assert [(v.code, v.subject) for v in found] == [("U3", str(account))]
    assert "raised |qty| 0->1" in found[0].detail


# ---------------------------------------------------------------------------------- U4


def _order(world: World, order_id: int, at_ns: int, *, reduce_only: bool = False) -> Order:
    account = world.customers[0]
    assert account.ubo_user_id is not None
    return Order(
        order_id=order_id,
        account_id=account.account_id,
        user_id=account.ubo_user_id,
        client_order_id=f"c-{order_id}",
        contract=PERP,
        side=Side.SELL,
        qty_lots=1,
        limit_price_micro_usd=1_000_000,
        time_in_force=TimeInForce.GTC,
        created_at_ns=at_ns,
        reduce_only=reduce_only,
    )


def _audit(
    world: World,
    at_ns: int,
    *,
    allowed: bool,
    action: Action = Action.TRADE,
    grant: Permissions | None = Permissions.TRADER,
    key_id: int | None = None,
    key_scope: Permissions | None = None,
) -> AuditRecord:
    account = world.customers[0]
    assert account.ubo_user_id is not None
    return AuditRecord(
        request_id=f"r-{at_ns}",
        at_ns=at_ns,
        actor_user_id=account.ubo_user_id,
        account_id=account.account_id,
        action=action,
        allowed=allowed,
        reason=DenyReason.ALLOWED if allowed else DenyReason.NOT_PERMITTED,
        grant_permissions=grant,
        key_id=key_id,
        key_scope=key_scope,
    )


def _u4(world: World, healthy: InvariantInputs, order: Order, *audit: AuditRecord) -> list[str]:
    found = check_all_invariants(attrs.evolve(healthy, orders=[order], audit=list(audit)))
    assert {v.code for v in found} <= {"U4"}
    return [v.detail for v in found]


def test_u4_audit_at_exactly_the_order_time_counts(world: World, healthy: InvariantInputs) -> None:
    assert _u4(world, healthy, _order(world, 1, 100), _audit(world, 100, allowed=True)) == []
    assert _u4(world, healthy, _order(world, 1, 100), _audit(world, 101, allowed=True)) == [
        f"order 1 by {world.customers[0].ubo_user_id}: no audit record"
    ]


def test_u4_a_trade_needs_a_trade_decision_not_a_reduce_one(
    world: World, healthy: InvariantInputs
) -> None:
    reducer = Permissions(can_list=True, can_read=True, can_reduce_or_close=True)
    reduce_ok = _audit(world, 90, allowed=True, action=Action.REDUCE_OR_CLOSE, grant=reducer)
    assert _u4(world, healthy, _order(world, 1, 100), reduce_ok) == [
        f"order 1 by {world.customers[0].ubo_user_id}: no audit record"
    ]
    assert _u4(world, healthy, _order(world, 2, 100, reduce_only=True), reduce_ok) == []


def test_u4_reduce_only_order_is_judged_as_reduce_or_close(
    world: World, healthy: InvariantInputs
) -> None:
    # A TRADE decision allowed by a reduce-only grant is inconsistent for a trade but
    # allows a reduce-only order; a READ decision counts for neither.
    reducer = Permissions(can_reduce_or_close=True)
    record = _audit(world, 90, allowed=True, grant=reducer)
    assert _u4(world, healthy, _order(world, 1, 100, reduce_only=True), record) == []
    assert _u4(world, healthy, _order(world, 2, 100), record) == [
        f"order 2 by {world.customers[0].ubo_user_id}: audit says ALLOWED"
    ]
    read = _audit(world, 90, allowed=True, action=Action.READ, grant=Permissions.FULL_ACCESS)
    assert _u4(world, healthy, _order(world, 3, 100, reduce_only=True), read) == [
        f"order 3 by {world.customers[0].ubo_user_id}: no audit record"
    ]


AUDIT_CASES = [
    # (record kwargs, order allowed?)
    ({"allowed": True}, True),
    ({"allowed": False}, False),
    ({"allowed": True, "grant": None}, False),
    ({"allowed": True, "grant": Permissions.READ_ONLY}, False),
    ({"allowed": True, "key_id": 7, "key_scope": Permissions.TRADER}, True),
    ({"allowed": True, "key_id": 7, "key_scope": None}, False),
    ({"allowed": True, "key_id": 7, "key_scope": Permissions.READ_ONLY}, False),
    ({"allowed": True, "key_id": None, "key_scope": Permissions.READ_ONLY}, True),
]


@pytest.mark.parametrize(("record", "allowed"), AUDIT_CASES)
def test_u4_reads_grant_and_key_scope_from_the_audit_record(
    world: World, healthy: InvariantInputs, record: dict[str, object], allowed: bool
) -> None:
    audit = _audit(world, 90, **record)  # type: ignore[arg-type]
    found = _u4(world, healthy, _order(world, 1, 100), audit)
    reason = "ALLOWED" if audit.allowed else "NOT_PERMITTED"
    expected = [] if allowed else [f"order 1 by {audit.actor_user_id}: audit says {reason}"]
    assert found == expected


def test_u4_latest_decision_wins(world: World, healthy: InvariantInputs) -> None:
    order = _order(world, 1, 100)
    denied_then_allowed = (_audit(world, 95, allowed=True), _audit(world, 90, allowed=False))
    assert _u4(world, healthy, order, *denied_then_allowed) == []
    allowed_then_denied = (_audit(world, 95, allowed=False), _audit(world, 90, allowed=True))
    assert len(_u4(world, healthy, order, *allowed_then_denied)) == 1


# ---------------------------------------------------------------------------------- U5


def test_u5_undecodable_account_does_not_hide_later_ones(healthy: InvariantInputs) -> None:
    stranger = AccountId(0x0190_0000_00FF_0000)
    bad = LedgerAccount(id=UNDECODABLE_ID, ledger=1001, code=2)
    extra = LedgerAccount(id=derive_tb_usd_account_id(stranger), ledger=1, code=1)
    found = check_all_invariants(
        attrs.evolve(healthy, ledger_accounts=[bad, *healthy.ledger_accounts, extra])
    )
    assert [(v.code, v.subject) for v in found] == [
        ("U5", f"{UNDECODABLE_ID:#x}"),
        ("U5", str(stranger)),
    ]
    assert found[0].detail.startswith("does not decode: tb_account_id=")
    assert found[1].detail == "not a registered account"


def test_undecodable_account_first_does_not_hide_the_decoded_rest(
    healthy: InvariantInputs,
) -> None:
    # The shared decode pass must skip the bad row, not stop at it: G1 is still seen.
    bad = LedgerAccount(id=UNDECODABLE_ID, ledger=1001, code=2)
    broken = _replace_accounts(healthy, {derive_tb_account_id(SETTLEMENT, DATED): _credit(5)})
    found = check_all_invariants(
        attrs.evolve(broken, ledger_accounts=[bad, *broken.ledger_accounts])
    )
    assert [(v.code, v.subject) for v in found] == [
        ("G1", str(DATED)),
        ("U5", f"{UNDECODABLE_ID:#x}"),
    ]


# ---------------------------------------------------------------------------------- P3


def test_p3_qty_account_on_the_wrong_ledger(world: World, healthy: InvariantInputs) -> None:
    account = _cust(world, 1)
    qty = derive_tb_account_id(account, DATED)
    broken = _replace_accounts(healthy, {qty: lambda a: attrs.evolve(a, ledger=1003)})
    subject = f"{account}/{DATED}"
    assert check_all_invariants(broken) == [
        Violation("P3", subject, "qty account on ledger 1003"),
        Violation("P3", subject, "basis twin on ledger 1002"),
    ]


def test_p3_qty_account_without_the_date_mirror(world: World, healthy: InvariantInputs) -> None:
    account = _cust(world, 2)
    qty = derive_tb_account_id(account, DATED)
    broken = _replace_accounts(healthy, {qty: lambda a: attrs.evolve(a, user_data_32=20260131)})
    assert check_all_invariants(broken) == [
        Violation("P3", f"{account}/{DATED}", "qty user_data_32 20260131")
    ]


def test_p3_basis_twin_on_the_wrong_ledger(world: World, healthy: InvariantInputs) -> None:
    account = _cust(world, 0)
    twin = derive_tb_basis_account_id(account, PERP)
    broken = _replace_accounts(healthy, {twin: lambda a: attrs.evolve(a, ledger=1004)})
    assert check_all_invariants(broken) == [
        Violation("P3", f"{account}/{PERP}", "basis twin on ledger 1004")
    ]


def test_p3_basis_twin_date_mirror_exact(world: World, healthy: InvariantInputs) -> None:
    account = _cust(world, 0)
    twin = derive_tb_basis_account_id(account, DATED)
    broken = _replace_accounts(healthy, {twin: lambda a: attrs.evolve(a, user_data_32=7)})
    assert check_all_invariants(broken) == [
        Violation("P3", f"{account}/{DATED}", "basis user_data_32 7")
    ]


def test_p3_missing_twin_does_not_hide_a_later_account(
    world: World, healthy: InvariantInputs
) -> None:
    first, later = _cust(world, 1), _cust(world, 2)
    missing = derive_tb_basis_account_id(first, DATED)
    rows = [a for a in healthy.ledger_accounts if a.id != missing]
    broken = _replace_accounts(
        attrs.evolve(healthy, ledger_accounts=rows),
        {derive_tb_account_id(later, DATED): lambda a: attrs.evolve(a, user_data_32=0)},
    )
    assert check_all_invariants(broken) == [
        Violation("P3", f"{first}/{DATED}", "basis twin missing"),
        Violation("P3", f"{later}/{DATED}", "qty user_data_32 0"),
    ]


# ---------------------------------------------------------------------------------- P4


def _replace_first(
    healthy: InvariantInputs, code: TransferCode, change: Callable[[Transfer], Transfer]
) -> tuple[InvariantInputs, int]:
    rows = list(healthy.transfers)
    index = next(i for i, t in enumerate(rows) if t.code == code)
    rows[index] = change(rows[index])
    return attrs.evolve(healthy, transfers=rows), rows[index].id


@pytest.mark.parametrize("leg", ["debit_account_id", "credit_account_id"])
def test_p4_money_transfer_with_one_non_usd_leg(healthy: InvariantInputs, leg: str) -> None:
    def to_qty(transfer: Transfer) -> Transfer:
        owner = AccountId(getattr(transfer, leg) >> 64)
        return attrs.evolve(transfer, **{leg: derive_tb_account_id(owner, PERP)})

    broken, transfer_id = _replace_first(healthy, TransferCode.FEE, to_qty)
    assert check_all_invariants(broken) == [
        Violation("P4", f"transfer {transfer_id}", "FEE touches a non-USD account")
    ]


def test_p4_unknown_transfer_code(healthy: InvariantInputs) -> None:
    broken, transfer_id = _replace_first(
        healthy, TransferCode.FUNDING, lambda t: attrs.evolve(t, code=99)
    )
    assert check_all_invariants(broken) == [
        Violation("P4", f"transfer {transfer_id}", "unknown code 99")
    ]


def test_p4_qty_transfer_into_a_basis_account(world: World, healthy: InvariantInputs) -> None:
    def to_basis(transfer: Transfer) -> Transfer:
        owner = AccountId(transfer.credit_account_id >> 64)
        return attrs.evolve(transfer, credit_account_id=derive_tb_basis_account_id(owner, PERP))

    broken, transfer_id = _replace_first(healthy, TransferCode.TRADE_QTY, to_basis)
    assert check_all_invariants(broken) == [
        Violation("P4", f"transfer {transfer_id}", "TRADE_QTY between the wrong kind of accounts")
    ]


def test_p4_qty_transfer_on_the_basis_ledger(healthy: InvariantInputs) -> None:
    broken, transfer_id = _replace_first(
        healthy, TransferCode.TRADE_QTY, lambda t: attrs.evolve(t, ledger=1002)
    )
    assert check_all_invariants(broken) == [
        Violation("P4", f"transfer {transfer_id}", f"ledger 1002, contract {PERP} needs 1001")
    ]
