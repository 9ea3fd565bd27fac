"""More invariant edges: registry corruption, unregistered accounts, a same-size flip on a
close-only account, P4's wrong-kind legs on either side, and a position missing its qty row.
Each corruption is asserted with the complete violation list it must produce."""

from __future__ import annotations

import attrs
import pytest

from axdomain import (
    SYSTEM_ACCOUNTS,
    AccountFlagChange,
    AccountId,
    AccountKind,
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
from axdomain.ledger.values import AccountFlags, Transfer
from tests.ledger_support import DATED, PERP, World


@pytest.fixture(scope="module")
def world() -> World:
    world = World.build(3)
    for index in range(3):
        assert world.deposit(index, 10**12) == []
    assert world.fill(0, 1, 10, 1_000_000) == []
    assert world.fill(1, 0, 4, 1_100_000) == []
    assert world.fill(0, 2, 7, 123_457, DATED) == []
    return world


@pytest.fixture
def healthy(world: World) -> InvariantInputs:
    inputs = world.inputs()
    assert check_all_invariants(inputs) == []
    return inputs


def _cust(world: World, index: int) -> AccountId:
    return world.customers[index].account_id


def _corrupt_registry(
    inputs: InvariantInputs, account_id: AccountId, **fields: object
) -> InvariantInputs:
    accounts = []
    for account in inputs.accounts:
        row = account
        if account.account_id == account_id:
            row = attrs.evolve(account)
            for name, value in fields.items():
                object.__setattr__(row, name, value)
        accounts.append(row)
    return attrs.evolve(inputs, accounts=accounts)


def test_an_unregistered_account_is_judged_by_no_flags(
    world: World, healthy: InvariantInputs
) -> None:
    # Customer 2 traded but is missing from the registry: U5 names each of its ledger rows,
    # and U3 does not invent a frozen or close-only state for it.
    stranger = _cust(world, 2)
    accounts = [a for a in healthy.accounts if a.account_id != stranger]
    found = check_all_invariants(attrs.evolve(healthy, accounts=accounts))
    rows = [a for a in healthy.ledger_accounts if a.id >> 64 == stranger.value]
    assert found == [Violation("U5", str(stranger), "not a registered account")] * len(rows)


def test_u5_customer_kind_in_the_reserved_range(healthy: InvariantInputs) -> None:
    fees = SYSTEM_ACCOUNTS.AX_FEES
    broken = _corrupt_registry(
        healthy, fees, kind=AccountKind.CUSTOMER, ubo_user_id=healthy.accounts[-1].ubo_user_id
    )
    found = check_all_invariants(broken)
    assert Violation("U5", str(fees), "customer without a UBO") in found
    assert {v.code for v in found} == {"U1", "U5"}


def test_u5_system_kind_outside_the_reserved_range(world: World, healthy: InvariantInputs) -> None:
    account = _cust(world, 1)
    broken = _corrupt_registry(healthy, account, kind=AccountKind.SYSTEM, ubo_user_id=None)
    found = check_all_invariants(broken)
    rows = [a for a in healthy.ledger_accounts if a.id >> 64 == account.value]
    assert found == [Violation("U5", str(account), "system account with a UBO")] * len(rows)


def test_u3_close_only_flip_to_the_same_size_is_allowed() -> None:
    world = World.build(2)
    for index in range(2):
        assert world.deposit(index, 10**12) == []
    assert world.fill(0, 1, 5, 1_000_000) == []
    close_only_from = world.now_ns + 1
    assert world.fill(1, 0, 10, 1_000_000) == []  # customer 0: +5 -> -5
    account = _cust(world, 0)
    history = [AccountFlagChange(account, close_only_from, is_frozen=False, is_close_only=True)]
    inputs = attrs.evolve(world.inputs(), flag_history=history)
    assert check_all_invariants(inputs) == []
    assert world.fill(1, 0, 1, 1_000_000) == []  # -5 -> -6 now raises |qty|
    found = check_all_invariants(attrs.evolve(world.inputs(), flag_history=history))
    assert [(v.code, v.subject) for v in found] == [("U3", str(account))]
    assert found[0].detail.endswith("raised |qty| 5->6 on a close-only account")


def _replace_first(
    healthy: InvariantInputs, code: TransferCode, **fields: int
) -> tuple[InvariantInputs, int]:
    rows = list(healthy.transfers)
    index = next(i for i, t in enumerate(rows) if t.code == code)
    rows[index] = attrs.evolve(rows[index], **fields)
    return attrs.evolve(healthy, transfers=rows), rows[index].id


@pytest.mark.parametrize("leg", ["debit_account_id", "credit_account_id"])
def test_p4_qty_transfer_with_a_basis_leg_on_either_side(
    healthy: InvariantInputs, leg: str
) -> None:
    first = next(t for t in healthy.transfers if t.code == TransferCode.TRADE_QTY)
    owner = AccountId(getattr(first, leg) >> 64)
    broken, transfer_id = _replace_first(
        healthy, TransferCode.TRADE_QTY, **{leg: derive_tb_basis_account_id(owner, PERP)}
    )
    found = check_all_invariants(broken)
    assert found == [
        Violation("P4", f"transfer {transfer_id}", "TRADE_QTY between the wrong kind of accounts")
    ]


def test_p4_basis_transfer_between_qty_accounts(healthy: InvariantInputs) -> None:
    first = next(t for t in healthy.transfers if t.code == TransferCode.TRADE_BASIS)
    debit = derive_tb_account_id(AccountId(first.debit_account_id >> 64), PERP)
    credit = derive_tb_account_id(AccountId(first.credit_account_id >> 64), PERP)
    broken, transfer_id = _replace_first(
        healthy, TransferCode.TRADE_BASIS, debit_account_id=debit, credit_account_id=credit
    )
    assert check_all_invariants(broken) == [
        Violation("P4", f"transfer {transfer_id}", "TRADE_BASIS between the wrong kind of accounts")
    ]


def test_p4_qty_transfer_between_usd_accounts(world: World, healthy: InvariantInputs) -> None:
    broken, transfer_id = _replace_first(
        healthy,
        TransferCode.TRADE_QTY,
        debit_account_id=derive_tb_usd_account_id(_cust(world, 1)),
        credit_account_id=derive_tb_usd_account_id(_cust(world, 0)),
        ledger=1,
    )
    found = check_all_invariants(broken)
    assert (
        Violation("P4", f"transfer {transfer_id}", "TRADE_QTY between the wrong kind of accounts")
        in found
    )
    assert {v.code for v in found} == {"P4"}


def test_position_with_basis_but_no_qty_row(world: World, healthy: InvariantInputs) -> None:
    account = _cust(world, 0)
    qty_id = derive_tb_account_id(account, PERP)
    qty = next(a.net for a in healthy.ledger_accounts if a.id == qty_id)
    basis = next(
        a.net for a in healthy.ledger_accounts if a.id == derive_tb_basis_account_id(account, PERP)
    )
    rows = [a for a in healthy.ledger_accounts if a.id != qty_id]
    found = check_all_invariants(attrs.evolve(healthy, ledger_accounts=rows))
    assert found == [
        Violation("G1", str(PERP), f"sum of net qty is {-qty}"),
        Violation("P1", f"{account}/{PERP}", f"qty 0 but basis {basis}"),
    ]


def test_transfer_legs_outside_the_scan_still_decode(
    world: World, healthy: InvariantInputs
) -> None:
    # A qty transfer whose accounts the scan does not list is decoded from its id, not lost.
    stranger = AccountId(0x0190_0000_00FF_0000)
    account = _cust(world, 2)
    extra = Transfer(
        id=10**9,
        debit_account_id=derive_tb_account_id(stranger, DATED),
        credit_account_id=derive_tb_account_id(account, DATED),
        amount=20,
        ledger=DATED.qty_ledger,
        code=TransferCode.TRADE_QTY,
        user_data_64=10**6,
    )
    history = [AccountFlagChange(account, 10**6, is_frozen=False, is_close_only=True)]
    inputs = attrs.evolve(healthy, transfers=[*healthy.transfers, extra], flag_history=history)
    found = [v for v in check_all_invariants(inputs) if v.code == "U3"]
    assert found == [
        Violation("U3", str(account), f"fill {extra.id} raised |qty| 7->13 on a close-only account")
    ]


def test_u4_reduce_only_key_request_is_judged_by_the_reduce_flag(
    world: World, healthy: InvariantInputs
) -> None:
    # A key scoped to reduce/close only, on a trader grant: its reduce-only order is allowed.
    account = world.customers[0]
    assert account.ubo_user_id is not None
    order = Order(
        order_id=1,
        account_id=account.account_id,
        user_id=account.ubo_user_id,
        client_order_id="c-1",
        contract=PERP,
        side=Side.SELL,
        qty_lots=1,
        limit_price_micro_usd=1,
        time_in_force=TimeInForce.GTC,
        created_at_ns=100,
        reduce_only=True,
    )
    scope = Permissions(can_reduce_or_close=True)
    record = AuditRecord(
        request_id="r-1",
        at_ns=90,
        actor_user_id=account.ubo_user_id,
        account_id=account.account_id,
        action=Action.REDUCE_OR_CLOSE,
        allowed=True,
        reason=DenyReason.ALLOWED,
        grant_permissions=Permissions.TRADER,
        key_id=7,
        key_scope=scope,
    )
    assert check_all_invariants(attrs.evolve(healthy, orders=[order], audit=[record])) == []
    trade = attrs.evolve(order, reduce_only=False)
    found = check_all_invariants(attrs.evolve(healthy, orders=[trade], audit=[record]))
    assert [v.code for v in found] == ["U4"]


def test_u1_missing_overdraft_flag_exact(world: World, healthy: InvariantInputs) -> None:
    victim = derive_tb_usd_account_id(_cust(world, 1))
    rows = [
        attrs.evolve(a, flags=AccountFlags.NONE) if a.id == victim else a
        for a in healthy.ledger_accounts
    ]
    assert check_all_invariants(attrs.evolve(healthy, ledger_accounts=rows)) == [
        Violation("U1", str(_cust(world, 1)), "USD account lacks the overdraft flag")
    ]


def test_u2_details_name_the_numbers_and_the_counts(world: World, healthy: InvariantInputs) -> None:
    account = _cust(world, 0)
    mine = [s for s in healthy.sequence_stamps if s.account_id == account]
    assert [s.sequence_number for s in mine] == list(range(1, len(mine) + 1))
    gap = [s for s in healthy.sequence_stamps if s != mine[1]]
    numbers = [s.sequence_number for s in mine if s != mine[1]][:8]
    assert check_all_invariants(attrs.evolve(healthy, sequence_stamps=gap)) == [
        Violation("U2", f"{account.value:016x}", f"numbers {numbers} not 1..n")
    ]
    other = _cust(world, 2)
    events = len([s for s in healthy.sequence_stamps if s.account_id == other])
    missing = [s for s in healthy.sequence_stamps if s.account_id != other]
    assert check_all_invariants(attrs.evolve(healthy, sequence_stamps=missing)) == [
        Violation("U2", f"{other.value:016x}", f"0 stamps for {events} ledger events")
    ]


def test_u2_detail_shows_the_first_eight_numbers() -> None:
    world = World.build(1)
    for _ in range(11):
        assert world.deposit(0, 1) == []
    inputs = world.inputs()
    account = _cust(world, 0)
    mine = [s for s in inputs.sequence_stamps if s.account_id == account]
    assert len(mine) == 11
    gap = [s for s in inputs.sequence_stamps if s != mine[1]]
    assert check_all_invariants(attrs.evolve(inputs, sequence_stamps=gap)) == [
        Violation("U2", f"{account.value:016x}", "numbers [1, 3, 4, 5, 6, 7, 8, 9] not 1..n")
    ]


def test_p2_detail_names_qty_and_basis(world: World, healthy: InvariantInputs) -> None:
    account = _cust(world, 0)
    qty_id, basis_id = (
        derive_tb_account_id(account, PERP),
        derive_tb_basis_account_id(account, PERP),
    )
    qty = next(a.net for a in healthy.ledger_accounts if a.id == qty_id)
    basis = next(a.net for a in healthy.ledger_accounts if a.id == basis_id)
    settlement_basis = derive_tb_basis_account_id(SYSTEM_ACCOUNTS.AX_SETTLEMENT, PERP)
    changes = {
        basis_id: lambda a: attrs.evolve(a, debits_posted=a.debits_posted + 2 * basis),
        settlement_basis: lambda a: attrs.evolve(a, credits_posted=a.credits_posted + 2 * basis),
    }
    rows = [changes[a.id](a) if a.id in changes else a for a in healthy.ledger_accounts]
    assert qty > 0 < basis
    assert check_all_invariants(attrs.evolve(healthy, ledger_accounts=rows)) == [
        Violation("P2", f"{account}/{PERP}", f"qty {qty} but basis {-basis}")
    ]
