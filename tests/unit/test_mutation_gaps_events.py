"""The transfer decoder, branch by branch: every refusal names its field, value and problem,
and every decoded event carries the transfer's own fields.

Each negative fixture breaks exactly one rule of an otherwise well-formed transfer, so a
check turned off or pointed at the wrong leg is noticed.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs
import pytest

from axdomain import SYSTEM_ACCOUNTS, AccountId, ContractId, InvalidValue
from axdomain.ledger.events import (
    Deposit,
    Phase,
    TradeBasis,
    TradeQty,
    TransferDecodeError,
    Withdrawal,
    decode_ref,
    decode_transfer,
    pending_delta,
    phase_of,
    posted_amount,
    split_chains,
)
from axdomain.ledger.values import Transfer, TransferCode, TransferFlags, pack_price_qty
from axdomain.ledger_ids import (
    decode_tb_account_id,
    derive_tb_account_id,
    derive_tb_basis_account_id,
    derive_tb_usd_account_id,
)
from tests.ledger_support import DATED, PERP

ANN = AccountId(0x0190_0000_0000_0A01)
BEN = AccountId(0x0190_0000_0000_0B01)
CUSTODY = SYSTEM_ACCOUNTS.AX_CUSTODY
FEES = SYSTEM_ACCOUNTS.AX_FEES
PNL = SYSTEM_ACCOUNTS.AX_PNL
BAD_ID = (5 << 64) | (1 << 63) | 1  # scheme tag set: no ledger account id
BAD_PROBLEM = "not a ledger account id (contract_id: bit 63 (scheme tag) is reserved)"
PENDING, POST, VOID = (
    TransferFlags.PENDING,
    TransferFlags.POST_PENDING_TRANSFER,
    (TransferFlags.VOID_PENDING_TRANSFER),
)
CLOSING = TransferFlags.CLOSING_DEBIT


def usd(owner: AccountId) -> int:
    return derive_tb_usd_account_id(owner)


def qty(owner: AccountId, contract: ContractId = DATED) -> int:
    return derive_tb_account_id(owner, contract)


def basis(owner: AccountId, contract: ContractId = DATED) -> int:
    return derive_tb_basis_account_id(owner, contract)


def deposit(**changes: object) -> Transfer:
    base = Transfer(
        id=11,
        debit_account_id=usd(CUSTODY),
        credit_account_id=usd(ANN),
        amount=5,
        ledger=1,
        code=TransferCode.DEPOSIT,
        user_data_64=77,
    )
    return attrs.evolve(base, **changes)


def withdrawal(**changes: object) -> Transfer:
    return deposit(
        **{
            "code": TransferCode.WITHDRAWAL,
            "debit_account_id": usd(ANN),
            "credit_account_id": usd(CUSTODY),
            **changes,
        }
    )


def trade_qty(**changes: object) -> Transfer:
    base = Transfer(
        id=12,
        debit_account_id=qty(BEN),
        credit_account_id=qty(ANN),
        amount=3,
        ledger=DATED.qty_ledger,
        code=TransferCode.TRADE_QTY,
        user_data_128=pack_price_qty(9, 3),
        user_data_64=78,
        user_data_32=DATED.date.value,
    )
    return attrs.evolve(base, **changes)


def trade_basis(**changes: object) -> Transfer:
    base = Transfer(
        id=13,
        debit_account_id=basis(PNL),
        credit_account_id=basis(ANN),
        amount=27,
        ledger=DATED.qty_ledger + 1,
        code=TransferCode.TRADE_BASIS,
        user_data_32=DATED.date.value,
    )
    return attrs.evolve(base, **changes)


def closing(**changes: object) -> Transfer:
    return trade_qty(
        **{
            "code": TransferCode.SETTLEMENT_QTY,
            "debit_account_id": qty(SYSTEM_ACCOUNTS.AX_SETTLEMENT),
            "amount": 0,
            "user_data_128": pack_price_qty(0, 0),
            "flags": PENDING | CLOSING,
            **changes,
        }
    )


CASES: dict[str, tuple[Callable[[], Transfer], str, object, str]] = {
    "unknown_code": (lambda: deposit(code=42), "code", 42, "unknown transfer code"),
    "bad_debit": (
        lambda: deposit(debit_account_id=BAD_ID),
        "debit_account_id",
        BAD_ID,
        BAD_PROBLEM,
    ),
    "bad_credit": (
        lambda: deposit(credit_account_id=BAD_ID),
        "credit_account_id",
        BAD_ID,
        BAD_PROBLEM,
    ),
    "other_contract": (
        lambda: trade_qty(credit_account_id=qty(ANN, PERP)),
        "credit_account_id",
        qty(ANN, PERP),
        f"not the same contract/account kind as the debit account {DATED}",
    ),
    "qty_against_basis": (
        lambda: trade_qty(credit_account_id=basis(ANN)),
        "credit_account_id",
        basis(ANN),
        f"not the same contract/account kind as the debit account {DATED}",
    ),
    "usd_code_on_qty": (
        lambda: trade_qty(code=TransferCode.FEE, debit_account_id=qty(FEES)),
        "debit_account_id",
        qty(FEES),
        "FEE is USD-only",
    ),
    "qty_code_on_usd": (
        lambda: deposit(code=TransferCode.TRADE_QTY),
        "debit_account_id",
        usd(CUSTODY),
        "TRADE_QTY needs qty",
    ),
    "qty_code_on_basis": (
        lambda: trade_basis(code=TransferCode.TRADE_QTY),
        "debit_account_id",
        basis(PNL),
        "TRADE_QTY needs qty",
    ),
    "basis_code_on_qty": (
        lambda: trade_qty(code=TransferCode.BASIS_RESET, debit_account_id=qty(PNL)),
        "debit_account_id",
        qty(PNL),
        "BASIS_RESET needs basis",
    ),
    "usd_ledger": (lambda: deposit(ledger=2), "ledger", 2, "must be 1 for USD"),
    "qty_ledger": (
        lambda: trade_qty(ledger=1),
        "ledger",
        1,
        f"must be {DATED.qty_ledger} for {DATED}",
    ),
    "contract_date": (
        lambda: trade_qty(user_data_32=0),
        "user_data_32",
        0,
        "must be the contract date",
    ),
    "same_account": (
        lambda: trade_qty(debit_account_id=qty(ANN)),
        "credit_account_id",
        qty(ANN),
        "same account both sides",
    ),
    "deposit_not_from_custody": (
        lambda: deposit(debit_account_id=usd(BEN)),
        "debit_account_id",
        usd(BEN),
        "a deposit debits custody",
    ),
    "withdrawal_not_to_custody": (
        lambda: withdrawal(credit_account_id=usd(BEN)),
        "credit_account_id",
        usd(BEN),
        "withdrawal credits custody",
    ),
    "fee_without_fees_account": (
        lambda: deposit(code=TransferCode.FEE, debit_account_id=usd(BEN)),
        "transfer",
        11,
        f"FEE must have {FEES!r} on one side",
    ),
    "trade_with_system_debit": (
        lambda: trade_qty(debit_account_id=qty(PNL)),
        "transfer",
        12,
        "TRADE_QTY is between two customer accounts",
    ),
    "trade_with_system_credit": (
        lambda: trade_qty(credit_account_id=qty(PNL)),
        "transfer",
        12,
        "TRADE_QTY is between two customer accounts",
    ),
    "unknown_flag": (
        lambda: deposit(flags=TransferFlags.BALANCING_DEBIT),
        "flags",
        TransferFlags.BALANCING_DEBIT,
        "not a flag combination the exchange writes",
    ),
    "two_phases": (
        lambda: withdrawal(flags=PENDING | VOID, pending_id=3),
        "flags",
        PENDING | VOID,
        "pending, post and void exclude each other",
    ),
    "closing_wrong_code": (
        lambda: trade_qty(flags=PENDING | CLOSING, amount=0, user_data_128=0),
        "flags",
        PENDING | CLOSING,
        "closing is a zero pending qty/basis transfer",
    ),
    "closing_not_pending": (
        lambda: closing(flags=CLOSING),
        "flags",
        CLOSING,
        "closing is a zero pending qty/basis transfer",
    ),
    "closing_with_amount": (
        lambda: closing(amount=1, user_data_128=pack_price_qty(0, 1)),
        "flags",
        PENDING | CLOSING,
        "closing is a zero pending qty/basis transfer",
    ),
    "pending_deposit": (
        lambda: deposit(flags=PENDING),
        "flags",
        PENDING,
        "DEPOSIT is never two-phase",
    ),
    "post_without_pending_id": (
        lambda: withdrawal(flags=POST),
        "pending_id",
        0,
        "wrong for a post transfer",
    ),
    "void_without_pending_id": (
        lambda: withdrawal(flags=VOID),
        "pending_id",
        0,
        "wrong for a void transfer",
    ),
    "single_with_pending_id": (
        lambda: withdrawal(pending_id=4),
        "pending_id",
        4,
        "wrong for a single transfer",
    ),
    "pending_with_pending_id": (
        lambda: withdrawal(flags=PENDING, pending_id=4),
        "pending_id",
        4,
        "wrong for a pending transfer",
    ),
    "timeout_when_posted": (
        lambda: withdrawal(timeout=30),
        "timeout",
        30,
        "only a pending transfer has a timeout",
    ),
    "packed_qty": (
        lambda: trade_qty(user_data_128=pack_price_qty(9, 4)),
        "user_data_128",
        pack_price_qty(9, 4),
        "packed qty != amount",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_decode_refusal_names_field_value_and_problem(case: str) -> None:
    make, field, value, problem = CASES[case]
    with pytest.raises(TransferDecodeError) as raised:
        decode_transfer(make())
    assert (raised.value.field, raised.value.value, raised.value.problem) == (
        field,
        value,
        problem,
    )


def test_well_formed_fixtures_decode_with_every_field() -> None:
    event = decode_transfer(trade_qty(flags=TransferFlags.LINKED))
    assert event == TradeQty(
        transfer_id=12,
        debit=decode_tb_account_id(qty(BEN)),
        credit=decode_tb_account_id(qty(ANN)),
        amount=3,
        timestamp_ns=78,
        linked=True,
        phase=Phase.SINGLE,
        pending_id=0,
        closing=False,
        price_micro_usd=9,
    )
    assert (event.kind, event.contract, event.posted_amount) == (TransferCode.TRADE_QTY, DATED, 3)
    assert decode_transfer(deposit()) == Deposit(
        11, decode_tb_account_id(usd(CUSTODY)), decode_tb_account_id(usd(ANN)), 5, 77, False
    )
    assert isinstance(decode_transfer(trade_basis()), TradeBasis)
    settled = decode_transfer(closing())
    assert (settled.phase, settled.closing, settled.kind) == (
        Phase.PENDING,
        True,
        TransferCode.SETTLEMENT_QTY,
    )
    reserved = decode_transfer(withdrawal(flags=PENDING, timeout=30))
    assert (reserved.phase, reserved.posted_amount) == (Phase.PENDING, 0)
    posted = decode_transfer(withdrawal(flags=POST, pending_id=4, id=14))
    assert posted == Withdrawal(
        14,
        decode_tb_account_id(usd(ANN)),
        decode_tb_account_id(usd(CUSTODY)),
        5,
        77,
        False,
        Phase.POST,
        4,
        False,
    )
    assert posted.posted_amount == 5
    assert decode_transfer(withdrawal(flags=VOID, pending_id=4)).posted_amount == 0


@pytest.mark.parametrize(
    ("flags", "phase", "posted", "delta"),
    [
        (TransferFlags.NONE, Phase.SINGLE, 5, 0),
        (TransferFlags.LINKED, Phase.SINGLE, 5, 0),
        (PENDING, Phase.PENDING, 0, 5),
        (POST, Phase.POST, 5, -8),
        (VOID, Phase.VOID, 0, -8),
    ],
)
def test_phase_posted_amount_and_pending_delta(
    flags: TransferFlags, phase: Phase, posted: int, delta: int
) -> None:
    transfer = withdrawal(flags=flags)
    assert phase_of(transfer) is phase
    assert posted_amount(transfer) == posted
    assert pending_delta(transfer, 8) == delta


def test_decode_ref_refuses_what_the_full_decoder_refuses() -> None:
    assert decode_ref(qty(ANN)) == decode_tb_account_id(qty(ANN))
    assert decode_ref(basis(ANN)).is_basis
    for bad in (True, 0, 1 << 128, BAD_ID, -1):
        with pytest.raises(InvalidValue) as raised:
            decode_ref(bad)  # type: ignore[arg-type]
        assert raised.value.field == "tb_account_id"
        assert raised.value.value == bad


def test_an_open_chain_names_its_first_transfer() -> None:
    open_tail = [deposit(id=1), withdrawal(id=2, flags=TransferFlags.LINKED)]
    with pytest.raises(TransferDecodeError) as raised:
        list(split_chains(open_tail))
    assert (raised.value.field, raised.value.value, raised.value.problem) == (
        "transfers",
        2,
        "linked chain left open",
    )
    chains = list(split_chains([deposit(id=1, flags=TransferFlags.LINKED), deposit(id=2)]))
    assert [[t.id for t in chain] for chain in chains] == [[1, 2]]
    assert list(split_chains([])) == []
