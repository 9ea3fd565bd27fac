"""Each of the twelve invariants: a healthy ledger passes, and a ledger corrupted in exactly
the way one invariant forbids is reported with that code and no other."""

from __future__ import annotations

from collections.abc import Callable

import attrs
import pytest

from axdomain import SYSTEM_ACCOUNTS, AccountId, DenyReason, UserId
from axdomain.audit import AuditRecord
from axdomain.contracts import ContractId
from axdomain.ledger.invariants import (
    INVARIANT_CODES,
    AccountFlagChange,
    InvariantInputs,
    Violation,
)
from axdomain.ledger.invariants import check_all_invariants as check_linear
from axdomain.ledger.values import AccountFlags, LedgerAccount, Transfer, TransferCode
from axdomain.ledger_ids import (
    derive_tb_account_id,
    derive_tb_basis_account_id,
    derive_tb_usd_account_id,
)
from axdomain.orders import Order, Side, TimeInForce
from axdomain.permissions import Action, Permissions
from tests import _oracle_invariants as oracle
from tests.ledger_support import DATED, PERP, World

PNL = SYSTEM_ACCOUNTS.AX_PNL
FEES = SYSTEM_ACCOUNTS.AX_FEES
SETTLEMENT = SYSTEM_ACCOUNTS.AX_SETTLEMENT


def check_all_invariants(inputs: InvariantInputs) -> list[Violation]:
    """The implementation under test, held to the report of the one it replaced."""
    found = check_linear(inputs)
    assert found == oracle.check_all_invariants(inputs)
    return found


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
    return world.inputs()


def _cust(world: World, index: int) -> AccountId:
    return world.customers[index].account_id


def _replace_accounts(
    inputs: InvariantInputs, changes: dict[int, Callable[[LedgerAccount], LedgerAccount]]
) -> InvariantInputs:
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


def _codes(violations: list[Violation]) -> set[str]:
    return {v.code for v in violations}


def _order(world: World, order_id: int, at_ns: int, *, index: int = 0) -> Order:
    account = world.customers[index]
    assert account.ubo_user_id is not None
    return Order(
        order_id=order_id,
        account_id=account.account_id,
        user_id=account.ubo_user_id,
        client_order_id=f"c-{order_id}",
        contract=PERP,
        side=Side.BUY,
        qty_lots=1,
        limit_price_micro_usd=1_000_000,
        time_in_force=TimeInForce.GTC,
        created_at_ns=at_ns,
    )


def _audit(world: World, at_ns: int, *, allowed: bool, index: int = 0) -> AuditRecord:
    account = world.customers[index]
    assert account.ubo_user_id is not None
    return AuditRecord(
        request_id=f"r-{at_ns}",
        at_ns=at_ns,
        actor_user_id=account.ubo_user_id,
        account_id=account.account_id,
        action=Action.TRADE,
        allowed=allowed,
        reason=DenyReason.ALLOWED if allowed else DenyReason.NOT_PERMITTED,
        grant_permissions=Permissions.TRADER if allowed else Permissions.READ_ONLY,
        key_id=None,
        key_scope=None,
    )


def test_the_healthy_ledger_has_no_violation(world: World, healthy: InvariantInputs) -> None:
    assert len(healthy.transfers) > 10
    assert check_all_invariants(healthy) == []
    assert world.resumed() == world.state


def test_codes_are_the_twelve_of_the_spec() -> None:
    assert (
        tuple(f"{g}{n}" for g, top in (("G", 3), ("U", 5), ("P", 4)) for n in range(1, top + 1))
        == INVARIANT_CODES
    )


def test_g1_contract_qty_does_not_sum_to_zero(healthy: InvariantInputs) -> None:
    broken = _replace_accounts(healthy, {derive_tb_account_id(SETTLEMENT, DATED): _credit(5)})
    found = check_all_invariants(broken)
    assert found == [Violation("G1", str(DATED), "sum of net qty is 5")]


def test_g2_contract_basis_does_not_sum_to_zero(healthy: InvariantInputs) -> None:
    tb_id = derive_tb_basis_account_id(SETTLEMENT, PERP)
    found = check_all_invariants(_replace_accounts(healthy, {tb_id: _credit(-3)}))
    assert found == [Violation("G2", str(PERP), "sum of net basis is -3")]


def test_g3_usd_does_not_sum_to_zero(healthy: InvariantInputs) -> None:
    tb_id = derive_tb_usd_account_id(FEES)
    found = check_all_invariants(_replace_accounts(healthy, {tb_id: _credit(1)}))
    assert found == [Violation("G3", "USD", "sum of USD nets is 1")]


def test_g3_pnl_usd_differs_from_pnl_basis(healthy: InvariantInputs) -> None:
    broken = _replace_accounts(
        healthy,
        {derive_tb_usd_account_id(PNL): _credit(7), derive_tb_usd_account_id(FEES): _credit(-7)},
    )
    found = check_all_invariants(broken)
    assert _codes(found) == {"G3"}
    assert [v.subject for v in found] == ["AX_PNL"]


def test_u1_customer_usd_below_zero(world: World, healthy: InvariantInputs) -> None:
    victim = derive_tb_usd_account_id(_cust(world, 2))
    overdraw = _net(healthy, victim) + 1
    broken = _replace_accounts(
        healthy, {victim: _credit(-overdraw), derive_tb_usd_account_id(FEES): _credit(overdraw)}
    )
    found = check_all_invariants(broken)
    assert found == [
        Violation("U1", str(_cust(world, 2)), "USD available -1 < 0 (net -1, debits pending 0)")
    ]


def test_u1_customer_usd_without_overdraft_flag(world: World, healthy: InvariantInputs) -> None:
    victim = derive_tb_usd_account_id(_cust(world, 1))
    broken = _replace_accounts(
        healthy, {victim: lambda a: attrs.evolve(a, flags=AccountFlags.NONE)}
    )
    found = check_all_invariants(broken)
    assert _codes(found) == {"U1"}
    assert found[0].subject == str(_cust(world, 1))


def test_u2_gap_in_an_accounts_numbers(world: World, healthy: InvariantInputs) -> None:
    account = _cust(world, 0)
    mine = [s for s in healthy.sequence_stamps if s.account_id == account]
    stamps = [s for s in healthy.sequence_stamps if s != mine[1]]
    found = check_all_invariants(attrs.evolve(healthy, sequence_stamps=stamps))
    assert _codes(found) == {"U2"}
    assert [v.subject for v in found] == [str(account)]


def test_u2_missing_stamps_for_ledger_events(world: World, healthy: InvariantInputs) -> None:
    account = _cust(world, 2)
    stamps = [s for s in healthy.sequence_stamps if s.account_id != account]
    found = check_all_invariants(attrs.evolve(healthy, sequence_stamps=stamps))
    assert [(v.code, v.subject) for v in found] == [("U2", str(account))]


def test_u2_numbers_in_the_wrong_order(world: World, healthy: InvariantInputs) -> None:
    stamps = list(healthy.sequence_stamps)
    first = next(i for i, s in enumerate(stamps) if s.account_id == _cust(world, 1))
    second = next(i for i, s in enumerate(stamps) if i > first and s.account_id == _cust(world, 1))
    stamps[first], stamps[second] = stamps[second], stamps[first]
    found = check_all_invariants(attrs.evolve(healthy, sequence_stamps=stamps))
    assert [(v.code, v.subject) for v in found] == [("U2", str(_cust(world, 1)))]


def test_u3_fill_raised_qty_on_a_close_only_account(world: World, healthy: InvariantInputs) -> None:
    history = [AccountFlagChange(_cust(world, 2), 0, is_frozen=False, is_close_only=True)]
    found = check_all_invariants(attrs.evolve(healthy, flag_history=history))
    assert _codes(found) == {"U3"}
    assert {v.subject for v in found} == {str(_cust(world, 2))}
    assert "close-only" in found[0].detail


def test_u3_reducing_fill_on_close_only_is_fine(world: World, healthy: InvariantInputs) -> None:
    # Customer 1 went short 10 and then bought 4 back: close-only after the opening fill.
    opening_fill_ns = min(
        t.user_data_64 for t in healthy.transfers if t.code == TransferCode.TRADE_QTY
    )
    history = [
        AccountFlagChange(_cust(world, 1), opening_fill_ns + 1, is_frozen=False, is_close_only=True)
    ]
    assert check_all_invariants(attrs.evolve(healthy, flag_history=history)) == []


def test_u3_order_on_a_frozen_account(world: World, healthy: InvariantInputs) -> None:
    frozen_from = 5_000
    history = [AccountFlagChange(_cust(world, 0), frozen_from, is_frozen=True, is_close_only=False)]
    broken = attrs.evolve(
        healthy,
        flag_history=history,
        orders=[_order(world, 1, frozen_from + 10)],
        audit=[_audit(world, frozen_from + 5, allowed=True)],
    )
    found = check_all_invariants(broken)
    assert [(v.code, v.subject) for v in found] == [("U3", str(_cust(world, 0)))]
    assert "frozen" in found[0].detail


def test_u3_fill_on_a_frozen_account(world: World, healthy: InvariantInputs) -> None:
    frozen = attrs.evolve(world.customers[1], is_frozen=True)
    accounts = [frozen if a.account_id == frozen.account_id else a for a in healthy.accounts]
    found = check_all_invariants(attrs.evolve(healthy, accounts=accounts))
    assert _codes(found) == {"U3"}
    assert {v.subject for v in found} == {str(frozen.account_id)}


def test_u4_order_without_an_allowing_audit_record(world: World, healthy: InvariantInputs) -> None:
    orders = [_order(world, 1, 100), _order(world, 2, 300)]
    audit = [_audit(world, 90, allowed=True), _audit(world, 200, allowed=False)]
    found = check_all_invariants(attrs.evolve(healthy, orders=orders, audit=audit))
    assert [(v.code, v.subject) for v in found] == [("U4", str(_cust(world, 0)))]
    assert "order 2" in found[0].detail


def test_u4_audit_for_another_account_does_not_count(
    world: World, healthy: InvariantInputs
) -> None:
    orders = [_order(world, 1, 100, index=0)]
    audit = [_audit(world, 90, allowed=True, index=1)]
    found = check_all_invariants(attrs.evolve(healthy, orders=orders, audit=audit))
    assert [v.code for v in found] == ["U4"]


def test_u5_ledger_account_of_an_unregistered_account(
    world: World, healthy: InvariantInputs
) -> None:
    stranger = AccountId(0x0190_0000_00FF_0000)
    extra = LedgerAccount(id=derive_tb_usd_account_id(stranger), ledger=1, code=1)
    broken = attrs.evolve(healthy, ledger_accounts=[*healthy.ledger_accounts, extra])
    assert check_all_invariants(broken) == [
        Violation("U5", str(stranger), "not a registered account")
    ]


def test_u5_ledger_account_that_does_not_decode(healthy: InvariantInputs) -> None:
    bad_id = (0x0190_0000_0000_0001 << 64) | (1 << 63) | 1001
    extra = LedgerAccount(id=bad_id, ledger=1001, code=2)
    found = check_all_invariants(
        attrs.evolve(healthy, ledger_accounts=[*healthy.ledger_accounts, extra])
    )
    assert [(v.code, v.subject) for v in found] == [("U5", f"{bad_id:#x}")]


def test_u5_customer_without_ubo(world: World, healthy: InvariantInputs) -> None:
    broken_account = attrs.evolve(world.customers[2])
    object.__setattr__(broken_account, "ubo_user_id", None)
    accounts = [broken_account if a == world.customers[2] else a for a in healthy.accounts]
    found = check_all_invariants(attrs.evolve(healthy, accounts=accounts))
    assert {(v.code, v.subject) for v in found} == {("U5", str(_cust(world, 2)))}


def test_u5_system_account_with_ubo(healthy: InvariantInputs) -> None:
    accounts = list(healthy.accounts)
    pnl = next(a for a in accounts if a.account_id == PNL)
    corrupted = attrs.evolve(pnl)
    object.__setattr__(corrupted, "ubo_user_id", UserId(0x0190_0000_0000_0000))
    accounts[accounts.index(pnl)] = corrupted
    found = check_all_invariants(attrs.evolve(healthy, accounts=accounts))
    assert {(v.code, v.subject) for v in found} == {("U5", str(PNL))}


def _move_basis(
    healthy: InvariantInputs, account: AccountId, contract: ContractId, delta: int
) -> InvariantInputs:
    """Shift a customer's basis, compensated on AX_SETTLEMENT so G2 and G3 still hold."""
    return _replace_accounts(
        healthy,
        {
            derive_tb_basis_account_id(account, contract): _credit(delta),
            derive_tb_basis_account_id(SETTLEMENT, contract): _credit(-delta),
        },
    )


def test_p1_open_qty_with_zero_basis(world: World, healthy: InvariantInputs) -> None:
    account = _cust(world, 2)
    basis = _net(healthy, derive_tb_basis_account_id(account, DATED))
    assert basis < 0
    found = check_all_invariants(_move_basis(healthy, account, DATED, -basis))
    assert [(v.code, v.subject) for v in found] == [("P1", f"{account}/{DATED}")]


def test_p1_flat_qty_with_basis_left_over(world: World, healthy: InvariantInputs) -> None:
    account = _cust(world, 1)
    assert _net(healthy, derive_tb_account_id(account, DATED)) == 0
    found = check_all_invariants(_move_basis(healthy, account, DATED, 9))
    assert [(v.code, v.subject) for v in found] == [("P1", f"{account}/{DATED}")]


def test_p2_basis_sign_opposite_to_qty(world: World, healthy: InvariantInputs) -> None:
    account = _cust(world, 0)
    basis = _net(healthy, derive_tb_basis_account_id(account, PERP))
    assert _net(healthy, derive_tb_account_id(account, PERP)) > 0 < basis
    found = check_all_invariants(_move_basis(healthy, account, PERP, -2 * basis))
    assert [(v.code, v.subject) for v in found] == [("P2", f"{account}/{PERP}")]


def test_p3_missing_basis_twin(world: World, healthy: InvariantInputs) -> None:
    twin = derive_tb_basis_account_id(_cust(world, 1), DATED)
    rows = [a for a in healthy.ledger_accounts if a.id != twin]
    found = check_all_invariants(attrs.evolve(healthy, ledger_accounts=rows))
    assert [(v.code, v.subject) for v in found] == [("P3", f"{_cust(world, 1)}/{DATED}")]


def test_p3_twin_without_the_date_mirror(world: World, healthy: InvariantInputs) -> None:
    twin = derive_tb_basis_account_id(_cust(world, 0), DATED)
    broken = _replace_accounts(healthy, {twin: lambda a: attrs.evolve(a, user_data_32=0)})
    found = check_all_invariants(broken)
    assert [(v.code, v.subject) for v in found] == [("P3", f"{_cust(world, 0)}/{DATED}")]
    assert "user_data_32" in found[0].detail


def _replace_transfer(
    healthy: InvariantInputs, code: TransferCode, change: Callable[[Transfer], Transfer]
) -> tuple[InvariantInputs, int]:
    rows = list(healthy.transfers)
    index = next(i for i, t in enumerate(rows) if t.code == code)
    rows[index] = change(rows[index])
    return attrs.evolve(healthy, transfers=rows), rows[index].id


def test_p4_qty_transfer_across_two_contract_dates(healthy: InvariantInputs) -> None:
    def cross(transfer: Transfer) -> Transfer:
        credit = derive_tb_account_id(AccountId(transfer.credit_account_id >> 64), DATED)
        return attrs.evolve(transfer, credit_account_id=credit)

    broken, transfer_id = _replace_transfer(healthy, TransferCode.TRADE_QTY, cross)
    found = check_all_invariants(broken)
    assert [(v.code, v.subject) for v in found] == [("P4", f"transfer {transfer_id}")]


def test_p4_money_transfer_off_the_usd_ledger(healthy: InvariantInputs) -> None:
    broken, transfer_id = _replace_transfer(
        healthy, TransferCode.FEE, lambda t: attrs.evolve(t, ledger=1001)
    )
    found = check_all_invariants(broken)
    assert found == [Violation("P4", f"transfer {transfer_id}", "FEE on ledger 1001")]


def test_p4_basis_transfer_on_the_qty_ledger(healthy: InvariantInputs) -> None:
    broken, transfer_id = _replace_transfer(
        healthy, TransferCode.TRADE_BASIS, lambda t: attrs.evolve(t, ledger=t.ledger - 1)
    )
    found = check_all_invariants(broken)
    assert [(v.code, v.subject) for v in found] == [("P4", f"transfer {transfer_id}")]


def test_every_code_has_a_negative_test_in_this_module() -> None:
    names = {name for name in globals() if name.startswith("test_")}
    for code in INVARIANT_CODES:
        assert any(name.startswith(f"test_{code.lower()}_") for name in names), code
