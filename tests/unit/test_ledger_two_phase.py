"""Two-phase withdrawals and closing delisted accounts: planners, decoding, the twin."""

from __future__ import annotations

import itertools
from pathlib import Path

import attrs
import pytest

from axadapters.ledger_twin import FsyncPolicy, LedgerTwin
from axdomain import SYSTEM_ACCOUNTS
from axdomain.errors import Conflict, InvalidValue
from axdomain.ledger.events import (
    Phase,
    TransferDecodeError,
    Withdrawal,
    decode_transfer,
    pending_delta,
    posted_amount,
)
from axdomain.ledger.invariants import check_all_invariants
from axdomain.ledger.planners import (
    plan_close_contract_accounts,
    plan_post_withdrawal,
    plan_reserve_withdrawal,
    plan_void_withdrawal,
)
from axdomain.ledger.port import CreateTransferResult, TransferError
from axdomain.ledger.position import Position
from axdomain.ledger.sequencing import SequenceStamp, records_for_chain
from axdomain.ledger.values import (
    USD_LEDGER,
    AccountFlags,
    LedgerAccount,
    Transfer,
    TransferCode,
    TransferFlags,
)
from axdomain.ledger_ids import derive_tb_usd_account_id
from tests.ledger_support import DATED, World, customer, system_accounts

T = CreateTransferResult
CUSTODY = derive_tb_usd_account_id(SYSTEM_ACCOUNTS.AX_CUSTODY)


def ids() -> itertools.count[int]:
    return itertools.count(500)


def usd_of(world: World, index: int) -> LedgerAccount:
    [found] = world.ledger.lookup_accounts(
        [derive_tb_usd_account_id(world.customers[index].account_id)]
    )
    return found


def reserve(world: World, index: int, amount: int, timeout_s: int = 0) -> Transfer:
    [pending] = plan_reserve_withdrawal(
        account=world.customers[index],
        amount_micro_usd=amount,
        timestamp_ns=world.tick(),
        transfer_ids=world.ids,
        timeout_s=timeout_s,
    )
    return pending


# ------------------------------------------------------------------------------- planners


def test_a_reservation_is_one_pending_withdrawal_to_custody() -> None:
    account = customer(0)
    [pending] = plan_reserve_withdrawal(
        account=account, amount_micro_usd=70, timestamp_ns=5, transfer_ids=ids()
    )
    assert pending.flags == TransferFlags.PENDING
    assert pending.code == TransferCode.WITHDRAWAL and pending.ledger == USD_LEDGER
    assert pending.debit_account_id == derive_tb_usd_account_id(account.account_id)
    assert pending.credit_account_id == CUSTODY
    assert (pending.amount, pending.timeout, pending.user_data_64) == (70, 0, 5)
    event = decode_transfer(pending)
    assert isinstance(event, Withdrawal) and event.phase is Phase.PENDING
    assert event.posted_amount == 0 == posted_amount(pending)
    assert pending_delta(pending, 0) == 70


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"amount_micro_usd": 0}, "amount_micro_usd"),
        ({"timeout_s": -1}, "timeout_s"),
        ({"timeout_s": 1 << 32}, "timeout_s"),
        ({"account": system_accounts()[0]}, "account"),
    ],
)
def test_a_reservation_guard_names_the_field(kw: dict[str, object], field: str) -> None:
    args: dict[str, object] = {
        "account": customer(0),
        "amount_micro_usd": 1,
        "timestamp_ns": 1,
        "transfer_ids": ids(),
    }
    with pytest.raises(InvalidValue) as error:
        plan_reserve_withdrawal(**{**args, **kw})  # type: ignore[arg-type]
    assert error.value.field == field


def test_post_and_void_name_the_reservation_and_decode_with_their_phase() -> None:
    [pending] = plan_reserve_withdrawal(
        account=customer(0), amount_micro_usd=70, timestamp_ns=5, transfer_ids=ids()
    )
    [post] = plan_post_withdrawal(pending=pending, timestamp_ns=6, transfer_ids=itertools.count(9))
    [void] = plan_void_withdrawal(pending=pending, timestamp_ns=7, transfer_ids=itertools.count(10))
    cases = [
        (post, TransferFlags.POST_PENDING_TRANSFER, Phase.POST),
        (void, TransferFlags.VOID_PENDING_TRANSFER, Phase.VOID),
    ]
    for resolved, flag, phase in cases:
        assert resolved.flags == flag and resolved.pending_id == pending.id
        assert (resolved.debit_account_id, resolved.credit_account_id, resolved.amount) == (
            pending.debit_account_id,
            pending.credit_account_id,
            70,
        )
        assert decode_transfer(resolved).phase is phase
        assert pending_delta(resolved, pending.amount) == -70
    assert posted_amount(post) == 70 and posted_amount(void) == 0
    with pytest.raises(InvalidValue) as error:
        plan_post_withdrawal(pending=post, timestamp_ns=8, transfer_ids=ids())
    assert error.value.field == "pending"


@pytest.mark.parametrize(
    ("code", "flags", "amount", "field"),
    [
        (TransferCode.FEE, TransferFlags.PENDING, 5, "flags"),
        (TransferCode.WITHDRAWAL, TransferFlags.PENDING | TransferFlags.CLOSING_DEBIT, 0, "flags"),
        (TransferCode.WITHDRAWAL, TransferFlags.BALANCING_DEBIT, 5, "flags"),
        (TransferCode.WITHDRAWAL, TransferFlags(1 << 10), 5, "flags"),
        (TransferCode.WITHDRAWAL, TransferFlags.POST_PENDING_TRANSFER, 5, "pending_id"),
    ],
)
def test_the_decoder_refuses_two_phase_shapes_the_exchange_never_writes(
    code: TransferCode, flags: TransferFlags, amount: int, field: str
) -> None:
    [base] = plan_reserve_withdrawal(
        account=customer(0), amount_micro_usd=5, timestamp_ns=5, transfer_ids=ids()
    )
    odd = attrs.evolve(base, code=code, flags=flags, amount=amount)
    if code is TransferCode.FEE:
        odd = attrs.evolve(odd, credit_account_id=derive_tb_usd_account_id(SYSTEM_ACCOUNTS.AX_FEES))
    with pytest.raises(TransferDecodeError) as error:
        decode_transfer(odd)
    assert error.value.field == field
    with pytest.raises(TransferDecodeError):
        decode_transfer(attrs.evolve(base, flags=TransferFlags.NONE, timeout=5))


# ------------------------------------------------------------------- withdrawals end to end


def test_a_reserved_withdrawal_holds_free_cash_until_posted() -> None:
    world = World.build(2)
    assert world.deposit(0, 1_000) == []
    pending = reserve(world, 0, 600)
    assert world.ledger.create_transfers([pending]) == []
    before = usd_of(world, 0)
    assert (before.net, before.debits_pending, before.available) == (1_000, 600, 400)
    # the reserve counts against the overdraft flag: 401 more cannot leave
    assert world.withdraw(0, 401) == [TransferError(0, T.EXCEEDS_CREDITS)]
    post = plan_post_withdrawal(pending=pending, timestamp_ns=world.tick(), transfer_ids=world.ids)
    assert world.ledger.create_transfers(post) == []
    after = usd_of(world, 0)
    assert (after.net, after.debits_pending, after.available) == (400, 0, 400)
    again = plan_post_withdrawal(pending=pending, timestamp_ns=world.tick(), transfer_ids=world.ids)
    assert world.ledger.create_transfers(again) == [
        TransferError(0, T.PENDING_TRANSFER_ALREADY_POSTED)
    ]
    [custody] = world.ledger.lookup_accounts([CUSTODY])
    assert custody.credits_pending == 0


def test_a_voided_withdrawal_gives_the_cash_back() -> None:
    world = World.build(1)
    assert world.deposit(0, 1_000) == []
    pending = reserve(world, 0, 1_000)
    assert world.ledger.create_transfers([pending]) == []
    assert usd_of(world, 0).available == 0
    void = plan_void_withdrawal(pending=pending, timestamp_ns=world.tick(), transfer_ids=world.ids)
    assert world.ledger.create_transfers(void) == []
    assert (usd_of(world, 0).net, usd_of(world, 0).available) == (1_000, 1_000)


# ------------------------------------------------------------------------- twin: expiry


class Clock:
    def __init__(self) -> None:
        self.now_ns = 1_700_000_000 * 10**9

    def __call__(self) -> int:
        return self.now_ns


def test_an_expired_reservation_is_released_at_the_next_write_and_replayed(
    tmp_path: Path,
) -> None:
    clock = Clock()
    path = tmp_path / "ledger.journal"
    customer_usd = derive_tb_usd_account_id(customer(0).account_id)
    opening = [
        LedgerAccount(
            id=customer_usd, ledger=1, code=1, flags=AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS
        ),
        LedgerAccount(id=CUSTODY, ledger=1, code=1),
    ]
    deposit = Transfer(id=1, debit_account_id=CUSTODY, credit_account_id=customer_usd,
                       amount=100, ledger=1, code=int(TransferCode.DEPOSIT))  # fmt: skip
    [held] = plan_reserve_withdrawal(
        account=customer(0), amount_micro_usd=80, timestamp_ns=1, transfer_ids=ids(), timeout_s=30
    )
    with LedgerTwin.open(path, clock_ns=clock, fsync=FsyncPolicy.OS_BUFFERED) as twin:
        assert twin.create_accounts(opening) == []
        assert twin.create_transfers([deposit, held]) == []
        clock.now_ns += 31 * 10**9
        # TigerBeetle releases an expired reserve some time after expiry: the twin does it
        # when the next request arrives, before that request's events run.
        assert twin.lookup_accounts([customer_usd])[0].debits_pending == 80
        assert twin.pending_status(held.id) == "pending"
        spend = attrs.evolve(deposit, id=2, debit_account_id=customer_usd,
                             credit_account_id=CUSTODY, amount=100, code=6)  # fmt: skip
        assert twin.create_transfers([spend]) == []
        assert twin.pending_status(held.id) == "expired"
        assert twin.lookup_accounts([customer_usd])[0].debits_pending == 0
        state = twin.scan_accounts()
    with LedgerTwin.open(path, clock_ns=clock) as reopened:
        assert reopened.scan_accounts() == state
        assert reopened.pending_status(held.id) == "expired"


def test_an_expiry_alone_is_journaled(tmp_path: Path) -> None:
    clock = Clock()
    path = tmp_path / "ledger.journal"
    customer_usd = derive_tb_usd_account_id(customer(0).account_id)
    with LedgerTwin.open(path, clock_ns=clock, fsync=FsyncPolicy.OS_BUFFERED) as twin:
        opening = [
            LedgerAccount(id=customer_usd, ledger=1, code=1),
            LedgerAccount(id=CUSTODY, ledger=1, code=1),
        ]
        assert twin.create_accounts(opening) == []
        [held] = plan_reserve_withdrawal(
            account=customer(0), amount_micro_usd=5, timestamp_ns=1, transfer_ids=ids(), timeout_s=1
        )
        assert twin.create_transfers([held]) == []
        clock.now_ns += 2 * 10**9
        size = path.stat().st_size
        # every event of this batch fails, yet the expiry before it changed the state
        assert twin.create_accounts([LedgerAccount(id=CUSTODY, ledger=1, code=1)]) != []
        assert path.stat().st_size > size
    with LedgerTwin.open(path) as reopened:
        assert reopened.pending_status(held.id) == "expired"
        assert reopened.lookup_accounts([customer_usd])[0].debits_pending == 0


# ------------------------------------------------------------------- closing a contract


def settled_world() -> World:
    world = World.build(3)
    for index in range(3):
        assert world.deposit(index, 10**12) == []
    assert world.fill(0, 1, 4, 1_000_000, DATED) == []
    assert world.fill(2, 0, 1, 1_100_000, DATED) == []
    assert world.settle(1_050_000) == []
    return world


def close_plan(world: World) -> list[Transfer]:
    ledger = DATED.qty_ledger
    return plan_close_contract_accounts(
        DATED,
        qty_accounts=world.ledger.query_accounts(ledger, DATED.date.value),
        basis_accounts=world.ledger.query_accounts(ledger + 1, DATED.date.value),
        resting_orders=[],
        timestamp_ns=world.tick(),
        transfer_ids=world.ids,
    )


def test_closing_a_settled_contract_closes_every_qty_and_basis_account() -> None:
    world = settled_world()
    planned = close_plan(world)
    # 3 customers + the system pair, on the qty and on the basis ledger
    assert len(planned) == 2 * (3 + 1)
    assert all(t.flags & TransferFlags.PENDING and t.amount == 0 for t in planned)
    assert all(decode_transfer(t).closing for t in planned)
    assert world.submit(planned) == []
    for ledger in (DATED.qty_ledger, DATED.qty_ledger + 1):
        accounts = world.ledger.query_accounts(ledger, DATED.date.value)
        assert len(accounts) == 5 and all(a.is_closed for a in accounts)
    assert check_all_invariants(world.inputs()) == []
    assert world.resumed() == world.state
    # nothing posts to the contract again
    refused = {error.result for error in world.fill(0, 1, 1, 1_000_000, DATED)}
    assert refused == {T.DEBIT_ACCOUNT_ALREADY_CLOSED, T.LINKED_EVENT_FAILED}
    assert close_plan(world) == []  # planning again finds nothing left to close


def test_closing_resumes_after_a_partial_run() -> None:
    world = settled_world()
    planned = close_plan(world)
    assert world.submit(planned[:2]) == []
    rest = close_plan(world)
    assert len(rest) == len(planned) - 2
    assert world.submit(rest) == []
    assert close_plan(world) == []


def test_closing_needs_the_fence_to_pass_and_no_pending_balance() -> None:
    world = World.build(2)
    for index in range(2):
        assert world.deposit(index, 10**12) == []
    assert world.fill(0, 1, 2, 1_000_000, DATED) == []
    with pytest.raises(Conflict) as error:
        close_plan(world)
    assert error.value.field == "contract"
    flat = World.build(1)
    qty = flat.ledger.query_accounts(DATED.qty_ledger, DATED.date.value)
    held = attrs.evolve(qty[0], debits_pending=1)
    with pytest.raises(Conflict) as pending_error:
        plan_close_contract_accounts(
            DATED,
            qty_accounts=[held, *qty[1:]],
            basis_accounts=flat.ledger.query_accounts(DATED.qty_ledger + 1, DATED.date.value),
            resting_orders=[],
            timestamp_ns=1,
            transfer_ids=ids(),
        )
    assert pending_error.value.field == "ledger_account"


def test_transaction_records_carry_what_was_posted() -> None:
    [pending] = plan_reserve_withdrawal(
        account=customer(0), amount_micro_usd=70, timestamp_ns=5, transfer_ids=ids()
    )
    [post] = plan_post_withdrawal(pending=pending, timestamp_ns=6, transfer_ids=ids())
    [void] = plan_void_withdrawal(pending=pending, timestamp_ns=6, transfer_ids=ids())
    owner = customer(0).account_id
    totals = []
    for chain in ([pending], [post], [void]):
        stamps = [SequenceStamp(owner, 1, chain[0].id)]
        stamps.append(SequenceStamp(SYSTEM_ACCOUNTS.AX_CUSTODY, 1, chain[0].id))
        _, transactions = records_for_chain(chain, stamps, lambda a, c: Position())
        totals.append({t.account_id: t.total_micro_usd for t in transactions}[owner])
    assert totals == [0, -70, 0]
