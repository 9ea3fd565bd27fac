"""Cost of packing ContractIds, deriving ledger account ids and decoding them.

Prints nanoseconds per call for each operation next to its floor measured in the same
run, and the time of one bulk decode of 10**6 ledger account ids (a full account scan at
start-up decodes every id once) next to the bulk floor. Figures only, no assertions.

Floors: ``ContractId.new`` against the same two type checks and the shift/or on the ints
(no object built); ``decode_tb_account_id`` against a decoder on plain ints that makes the
same checks (u128 range, AccountId range, scheme tag, USD date, product range and parity,
calendar date) and returns a tuple of ints.

    .venv/bin/python bench/bench_contract_ids.py
"""

from __future__ import annotations

import time
from collections.abc import Callable

from axdomain import (
    AccountId,
    ContractDate,
    ContractId,
    ProductId,
    decode_tb_account_id,
    derive_tb_account_id,
)
from axdomain._checks import require_range
from axdomain.contracts import (
    DATE_MASK,
    DATE_SHIFT,
    PRODUCT_ID_MAX,
    PRODUCT_ID_MIN,
    PRODUCT_MASK,
    SCHEME_TAG_BIT,
    USD_ASSET_ID,
)
from axdomain.errors import InvalidValue
from axdomain.ledger_ids import derive_tb_basis_account_id

CALLS_PER_ROUND = 100_000
ROUNDS = 5
BULK_IDS = 10**6
U64_MAX = (1 << 64) - 1
U128_MAX = (1 << 128) - 1
_DAYS = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _check_date(date: int) -> None:
    if date == 0:
        return
    year, month, day = date // 10_000, date // 100 % 100, date % 100
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    if not 1000 <= year <= 9999 or not 1 <= month <= 12 or not 1 <= day <= _DAYS[month]:
        raise InvalidValue("contract_date", date, "is not a calendar date")
    if month == 2 and day == 29 and not leap:
        raise InvalidValue("contract_date", date, "is not a calendar date")


def floor_decode(tb_id: object) -> tuple[int, int, bool]:
    """The validated-int floor: every check of the real decoder, on ints, no objects."""
    number = require_range("tb_account_id", tb_id, 1, U128_MAX)
    owner, low = number >> 64, number & U64_MAX
    require_range("account_id", owner, 1, U64_MAX)
    if low >> SCHEME_TAG_BIT:
        raise InvalidValue("contract_id", low, "bit 63 (scheme tag) is reserved")
    product_bits, date = low & PRODUCT_MASK, (low >> DATE_SHIFT) & DATE_MASK
    if product_bits == USD_ASSET_ID:
        if date:
            raise InvalidValue("contract_id", low, "the USD asset has no contract date")
        return owner, low, False
    is_basis = product_bits % 2 == 0
    require_range("product_id", product_bits - is_basis, PRODUCT_ID_MIN, PRODUCT_ID_MAX)
    _check_date(date)
    return owner, low - is_basis, is_basis


def floor_new(product: object, date: object) -> int:
    """The packing floor: the type checks of ``ContractId.new`` and the shift/or."""
    if not isinstance(product, ProductId):
        raise InvalidValue("product", product, "must be a ProductId")
    if not isinstance(date, ContractDate):
        raise InvalidValue("contract_date", date, "must be a ContractDate")
    return (date.value << DATE_SHIFT) | product.value


def ns_per_call(operation: Callable[[], object]) -> float:
    """Best of several rounds: the least disturbed by other work on the machine."""
    best_s = float("inf")
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(CALLS_PER_ROUND):
            operation()
        best_s = min(best_s, time.perf_counter() - start)
    return best_s / CALLS_PER_ROUND * 1e9


def bulk_ids(count: int) -> list[int]:
    """A realistic mix: qty, basis and USD accounts, perpetual and dated, many accounts."""
    products = [ProductId(1001 + 2 * n) for n in range(6)]
    dates = [ContractDate(0), ContractDate(20260130), ContractDate(20260227)]
    ids: list[int] = []
    account_value = 0x0190_0000_0000_0000
    while len(ids) < count:
        account_value += 1
        account = AccountId(account_value)
        ids.append(derive_tb_account_id(account, ContractId.usd()))
        for product in products:
            for date in dates:
                contract = ContractId.new(product, date)
                ids.append(derive_tb_account_id(account, contract))
                ids.append(derive_tb_basis_account_id(account, contract))
    return ids[:count]


def main() -> None:
    product = ProductId(1001)
    date = ContractDate(20260130)
    account = AccountId(0x0190_F1B2_C3D4_E5F6)
    contract = ContractId.new(product, date)
    packed = contract.value
    tb_id = derive_tb_account_id(account, contract)

    rows = [
        ("pack    ContractId.new(product, date)", lambda: ContractId.new(product, date)),
        ("  floor type checks + shift/or on ints", lambda: floor_new(product, date)),
        ("check   ContractId(n) (validating)", lambda: ContractId(packed)),
        ("date    ContractDate(yyyymmdd)", lambda: ContractDate(20260130)),
        ("derive  derive_tb_account_id", lambda: derive_tb_account_id(account, contract)),
        ("decode  decode_tb_account_id", lambda: decode_tb_account_id(tb_id)),
        ("  floor same checks on ints, no objects", lambda: floor_decode(tb_id)),
    ]
    print(f"per call (best of {ROUNDS} x {CALLS_PER_ROUND:,} calls)")
    figures = {}
    for label, operation in rows:
        figures[label] = ns_per_call(operation)
        print(f"  {label:<42} {figures[label]:>9.0f} ns")
    new_ratio = figures[rows[0][0]] / figures[rows[1][0]]
    decode_ratio = figures[rows[5][0]] / figures[rows[6][0]]
    print(f"  ContractId.new / floor = {new_ratio:.2f}x; decode / floor = {decode_ratio:.2f}x")

    ids = bulk_ids(BULK_IDS)
    for label, decode in (("decode_tb_account_id", decode_tb_account_id), ("floor", floor_decode)):
        start = time.perf_counter()
        for value in ids:
            decode(value)
        elapsed_s = time.perf_counter() - start
        print(
            f"bulk {label} of {len(ids):,} ids (qty/basis/USD, perpetual and dated): "
            f"{elapsed_s:.3f} s, {len(ids) / elapsed_s:,.0f} ids/s"
        )


if __name__ == "__main__":
    main()
