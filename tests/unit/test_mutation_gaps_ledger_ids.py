"""Ledger account ids: what a decoded reference reports, the fast path agreeing with the
checked one, and each refusal's exact problem."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from axdomain import AccountId, ContractDate, ContractId, InvalidValue, ProductId, TbAccountRef
from axdomain.ledger_ids import (
    _decode_checked,
    decode_tb_account_id,
    derive_tb_account_id,
    derive_tb_basis_account_id,
    derive_tb_usd_account_id,
)

DESK = AccountId(0x0190_0000_0000_00D0)
PERP = ContractId.perp(ProductId(1001))
DATED = ContractId.new(ProductId(1003), ContractDate(20260130))
U128_MAX = (1 << 128) - 1


def _refusal(call: Callable[[], object]) -> tuple[str, object, str]:
    with pytest.raises(InvalidValue) as raised:
        call()
    return raised.value.field, raised.value.value, raised.value.problem


def test_references_report_ledger_date_and_id() -> None:
    qty = TbAccountRef(DESK, DATED)
    basis = TbAccountRef(DESK, DATED, True)
    usd = TbAccountRef(DESK, ContractId.usd())
    assert (qty.ledger, basis.ledger, usd.ledger) == (1003, 1004, 1)
    assert (qty.user_data_32, basis.user_data_32, usd.user_data_32) == (20260130, 20260130, 0)
    assert TbAccountRef(DESK, PERP).user_data_32 == 0
    assert qty.tb_id == (DESK.value << 64) | DATED.value
    assert basis.tb_id == qty.tb_id + 1
    assert usd.tb_id == (DESK.value << 64) | 1
    assert (qty.is_usd, usd.is_usd) == (False, True)
    assert derive_tb_basis_account_id(DESK, DATED) == basis.tb_id
    assert derive_tb_usd_account_id(DESK) == usd.tb_id


@pytest.mark.parametrize(
    "ref",
    [
        TbAccountRef(DESK, DATED),
        TbAccountRef(DESK, DATED, True),
        TbAccountRef(DESK, ContractId.usd()),
        TbAccountRef(AccountId(1), PERP, True),
    ],
)
def test_decoding_inverts_the_derivation_on_both_paths(ref: TbAccountRef) -> None:
    checked = _decode_checked(ref.tb_id)
    fast = decode_tb_account_id(ref.tb_id)
    assert checked == fast == ref
    assert (fast.account_id, fast.contract, fast.is_basis) == (
        ref.account_id,
        ref.contract,
        ref.is_basis,
    )
    assert type(fast.account_id) is AccountId


def test_decode_refusals_name_the_id_and_the_failing_part() -> None:
    tagged = (DESK.value << 64) | (1 << 63) | 1001
    assert _refusal(lambda: decode_tb_account_id(tagged)) == (
        "tb_account_id",
        tagged,
        "contract_id: bit 63 (scheme tag) is reserved",
    )
    no_owner = PERP.value
    field, value, problem = _refusal(lambda: decode_tb_account_id(no_owner))
    assert (field, value) == ("tb_account_id", no_owner)
    assert problem.startswith("account_id: ")
    assert _refusal(lambda: decode_tb_account_id(U128_MAX + 1)) == (
        "tb_account_id",
        U128_MAX + 1,
        f"must be in [1, {U128_MAX}]",
    )
    assert _refusal(lambda: decode_tb_account_id(True))[1] is True
    top = decode_tb_account_id((((1 << 64) - 1) << 64) | PERP.value)
    assert top.account_id == AccountId((1 << 64) - 1)


def test_reference_refusals_carry_their_problem() -> None:
    assert _refusal(lambda: TbAccountRef(DESK, ContractId.usd(), True)) == (
        "contract",
        1,
        "the USD asset has no basis",
    )
    assert _refusal(lambda: derive_tb_basis_account_id(DESK, ContractId.usd())) == (
        "contract",
        1,
        "the USD asset has no basis account",
    )
    assert _refusal(lambda: TbAccountRef(DESK, PERP, 1)) == (  # type: ignore[arg-type]
        "is_basis",
        1,
        "must be a bool",
    )
    assert _refusal(lambda: derive_tb_account_id(DESK, 5))[2] == "must be a ContractId"  # type: ignore[arg-type]
    assert _refusal(lambda: derive_tb_account_id(5, PERP))[2] == "must be an AccountId"  # type: ignore[arg-type]
