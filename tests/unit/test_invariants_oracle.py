"""The linear ``check_all_invariants`` and ``RiskState.resume`` against the implementation
they replaced (``tests/_oracle_invariants.py``): identical violations, in identical order,
and identical rebuilt states (or the identical typed error) on generated ledgers that mix
healthy rows with every kind of corruption the twelve rules look for."""

from __future__ import annotations

import copy
import gc
import itertools

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from axdomain import SYSTEM_ACCOUNTS, AccountId, DenyReason, UserId
from axdomain.accounts import Account, AccountKind
from axdomain.audit import AuditRecord
from axdomain.contracts import ContractDate, ContractId, ProductId
from axdomain.errors import InvalidValue
from axdomain.ledger.invariants import (
    AccountFlagChange,
    InvariantInputs,
    check_all_invariants,
)
from axdomain.ledger.risk import RiskState
from axdomain.ledger.sequencing import SequenceStamp
from axdomain.ledger.values import AccountFlags, LedgerAccount, Transfer, TransferFlags
from axdomain.ledger_ids import derive_tb_account_id
from axdomain.orders import Order, Side, TimeInForce
from axdomain.permissions import Action, Permissions
from tests import _oracle_invariants as oracle
from tests.ledger_support import World

CONTRACTS = (
    ContractId.perp(ProductId(1001)),
    ContractId.new(ProductId(1001), ContractDate(20260130)),
    ContractId.perp(ProductId(1003)),
)
USD = ContractId.usd()
CUSTOMERS = tuple(AccountId(0x0190_0000_0000_0000 + n) for n in range(4))
SYSTEM = tuple(SYSTEM_ACCOUNTS)
STRANGER = AccountId(0x0190_0000_00FF_0000)  # owns ledger rows, not in the registry
OWNERS = (*SYSTEM[:3], *CUSTOMERS, STRANGER)
GARBAGE_IDS = (
    (CUSTOMERS[0].value << 64) | (1 << 63) | 1001,  # scheme tag set
    (CUSTOMERS[1].value << 64) | 1000,  # even product: basis of nothing
    (20260130 << 32) | 1001,  # owner 0
    (CUSTOMERS[2].value << 64) | (1 << 32) | 1,  # USD with a date
)


def _compare(inputs: InvariantInputs) -> None:
    assert check_all_invariants(inputs) == oracle.check_all_invariants(inputs)
    try:
        expected: RiskState | str = oracle.resume(inputs.ledger_accounts, inputs.transfers)
    except InvalidValue as error:
        expected = f"{type(error).__name__}: {error}"
    try:
        found: RiskState | str = RiskState.resume(inputs.ledger_accounts, inputs.transfers)
    except InvalidValue as error:
        found = f"{type(error).__name__}: {error}"
    assert found == expected


def _ids(owner: AccountId) -> list[int]:
    ids = [derive_tb_account_id(owner, USD)]
    for contract in CONTRACTS:
        qty = derive_tb_account_id(owner, contract)
        ids += [qty, qty + 1]
    return ids


ALL_IDS = tuple(tb_id for owner in OWNERS for tb_id in _ids(owner))
LEG_IDS = st.one_of(st.sampled_from(ALL_IDS), st.sampled_from(GARBAGE_IDS))
LEDGERS = st.sampled_from((1, 1001, 1002, 1003, 1004))
SMALL = st.integers(0, 3)
PENDING = st.sampled_from((0, 0, 0, 1, 2))  # mostly none, as on a real ledger


@st.composite
def ledger_rows(draw: st.DrawFn) -> list[LedgerAccount]:
    rows = []
    for tb_id in draw(st.lists(LEG_IDS, max_size=40)):
        own_ledger = tb_id & ((1 << 32) - 1)  # a valid id's low 32 bits are its ledger
        rows.append(
            LedgerAccount(
                id=tb_id,
                ledger=draw(st.one_of(st.just(own_ledger), LEDGERS)),
                code=draw(st.integers(1, 3)),
                flags=draw(st.sampled_from(AccountFlags)),
                user_data_32=draw(st.sampled_from((0, 20260130, (tb_id >> 32) & 0x7FFF_FFFF))),
                debits_posted=draw(SMALL),
                credits_posted=draw(SMALL),
                debits_pending=draw(PENDING),
                credits_pending=draw(PENDING),
            )
        )
    return rows


@st.composite
def transfers(draw: st.DrawFn) -> list[Transfer]:
    ids = itertools.count(1)
    found = []
    for _ in range(draw(st.integers(0, 25))):
        transfer_id = next(ids) if draw(st.booleans()) else draw(st.integers(1, 3))
        found.append(
            Transfer(
                id=transfer_id,
                debit_account_id=draw(LEG_IDS),
                credit_account_id=draw(LEG_IDS),
                amount=draw(SMALL),
                ledger=draw(LEDGERS),
                code=draw(st.integers(1, 10)),  # 10 is no TransferCode
                flags=draw(st.sampled_from(TransferFlags)),
                user_data_64=draw(st.integers(0, 20)),
                pending_id=draw(st.integers(0, 3)),
            )
        )
    return found


def _account(owner: AccountId, kind: AccountKind, frozen: bool, close_only: bool) -> Account:
    ubo = UserId(owner.value) if kind is AccountKind.CUSTOMER else None
    return Account(
        account_id=owner,
        name=f"a-{owner.value:x}",
        kind=kind,
        ubo_user_id=ubo,
        created_at_ns=0,
        is_frozen=frozen,
        is_close_only=close_only,
    )


@st.composite
def registries(draw: st.DrawFn) -> list[Account]:
    accounts = [
        _account(a, AccountKind.SYSTEM, False, False) for a in SYSTEM if draw(st.booleans())
    ]
    for owner in CUSTOMERS:
        if draw(st.integers(0, 4)):
            accounts.append(
                _account(owner, AccountKind.CUSTOMER, draw(st.booleans()), draw(st.booleans()))
            )
    for index in draw(st.lists(st.integers(0, len(accounts) - 1), max_size=2)) if accounts else []:
        broken = copy.copy(accounts[index])  # a registry row that broke its UBO rule
        flipped = None if broken.ubo_user_id is not None else UserId(0x0190_0000_0000_0000)
        object.__setattr__(broken, "ubo_user_id", flipped)
        accounts[index] = broken
    return accounts


@st.composite
def stamps_for(draw: st.DrawFn, chains: list[Transfer]) -> list[SequenceStamp]:
    stamps: list[SequenceStamp] = []
    numbers: dict[int, int] = {}
    first = None
    for transfer in chains:  # mostly the stamps the ledger earned, then perturbed
        first = first or transfer.id
        if transfer.flags & TransferFlags.LINKED:
            continue
        for side in dict.fromkeys(
            (transfer.debit_account_id >> 64, transfer.credit_account_id >> 64)
        ):
            if side == 0:
                continue
            numbers[side] = numbers.get(side, 0) + 1
            stamps.append(SequenceStamp(AccountId(side), numbers[side], first))
        first = None
    if stamps and draw(st.booleans()):
        del stamps[draw(st.integers(0, len(stamps) - 1))]
    if len(stamps) > 1 and draw(st.booleans()):
        i, j = draw(st.integers(0, len(stamps) - 1)), draw(st.integers(0, len(stamps) - 1))
        stamps[i], stamps[j] = stamps[j], stamps[i]
    return stamps


@st.composite
def order_logs(draw: st.DrawFn) -> tuple[list[Order], list[AuditRecord]]:
    orders, audit = [], []
    for order_id in range(1, draw(st.integers(0, 6)) + 1):
        owner = draw(st.sampled_from(CUSTOMERS))
        orders.append(
            Order(
                order_id=order_id,
                account_id=owner,
                user_id=UserId(owner.value),
                client_order_id=f"c-{order_id}",
                contract=CONTRACTS[0],
                side=Side.BUY,
                qty_lots=1,
                limit_price_micro_usd=1_000_000,
                time_in_force=TimeInForce.GTC,
                created_at_ns=draw(st.integers(0, 20)),
                reduce_only=draw(st.booleans()),
            )
        )
    for request in range(draw(st.integers(0, 10))):
        owner = draw(st.sampled_from(CUSTOMERS))
        allowed = draw(st.booleans())
        keyed = draw(st.booleans())
        audit.append(
            AuditRecord(
                request_id=f"r-{request}",
                at_ns=draw(st.integers(0, 20)),
                actor_user_id=UserId(owner.value),
                account_id=owner,
                action=draw(st.sampled_from((Action.TRADE, Action.REDUCE_OR_CLOSE, Action.READ))),
                allowed=allowed,
                reason=DenyReason.ALLOWED if allowed else DenyReason.NOT_PERMITTED,
                grant_permissions=draw(
                    st.sampled_from((None, Permissions.TRADER, Permissions.READ_ONLY))
                ),
                key_id=7 if keyed else None,
                key_scope=draw(st.sampled_from((None, Permissions.TRADER))) if keyed else None,
            )
        )
    return orders, audit


@st.composite
def invariant_inputs(draw: st.DrawFn) -> InvariantInputs:
    moves = draw(transfers())
    orders, audit = draw(order_logs())
    history = [
        AccountFlagChange(
            draw(st.sampled_from(CUSTOMERS)),
            draw(st.integers(0, 20)),
            is_frozen=draw(st.booleans()),
            is_close_only=draw(st.booleans()),
        )
        for _ in range(draw(st.integers(0, 3)))
    ]
    return InvariantInputs(
        ledger_accounts=draw(ledger_rows()),
        transfers=moves,
        accounts=draw(registries()),
        flag_history=history,
        orders=orders,
        audit=audit,
        sequence_stamps=draw(stamps_for(moves)),
    )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(invariant_inputs())
def test_generated_ledgers_get_the_oracles_report_and_state(inputs: InvariantInputs) -> None:
    _compare(inputs)


def test_a_traded_twin_ledger_matches_the_oracle_healthy_and_broken() -> None:
    world = World.build(3)
    for index in range(3):
        assert world.deposit(index, 10**12) == []
    assert world.fill(0, 1, 10, 1_000_000) == []
    assert world.fill(1, 0, 4, 1_100_000) == []
    assert world.fill(0, 2, 7, 123_457, CONTRACTS[1]) == []
    healthy = world.inputs()
    assert check_all_invariants(healthy) == []
    _compare(healthy)
    rows = healthy.ledger_accounts
    held = [row for row in rows if row.credits_posted != row.debits_posted]
    for row in held:  # a scan that lists one account twice: its net counts twice
        doubled = attrs.evolve(healthy, ledger_accounts=[*rows, row])
        assert check_all_invariants(doubled)
        _compare(doubled)


def test_gc_state_is_restored_even_when_a_check_raises() -> None:
    assert gc.isenabled()
    broken = InvariantInputs(transfers=[object()])  # type: ignore[list-item]
    with pytest.raises(AttributeError):
        check_all_invariants(broken)
    assert gc.isenabled()
    gc.disable()
    try:
        check_all_invariants(InvariantInputs())
        assert not gc.isenabled()  # a caller that had it off keeps it off
    finally:
        gc.enable()
