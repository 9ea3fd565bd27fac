"""Cost of packing ContractIds, deriving ledger account ids and decoding them.

Prints nanoseconds per call for each operation and the time of one bulk decode of 10**6
ledger account ids (a full account scan at start-up decodes every id once). Figures only,
no assertions: run it before and after a change to the codec.

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
from axdomain.ledger_ids import derive_tb_basis_account_id

CALLS_PER_ROUND = 100_000
ROUNDS = 5
BULK_IDS = 10**6


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
        ("check   ContractId(n) (validating)", lambda: ContractId(packed)),
        ("date    ContractDate(yyyymmdd)", lambda: ContractDate(20260130)),
        ("derive  derive_tb_account_id", lambda: derive_tb_account_id(account, contract)),
        ("decode  decode_tb_account_id", lambda: decode_tb_account_id(tb_id)),
    ]
    print(f"per call (best of {ROUNDS} x {CALLS_PER_ROUND:,} calls)")
    for label, operation in rows:
        print(f"  {label:<42} {ns_per_call(operation):>9.0f} ns")

    ids = bulk_ids(BULK_IDS)
    start = time.perf_counter()
    for value in ids:
        decode_tb_account_id(value)
    elapsed_s = time.perf_counter() - start
    print(f"bulk decode of {len(ids):,} ids (qty/basis/USD, perpetual and dated)")
    print(f"  {elapsed_s:.3f} s, {len(ids) / elapsed_s:,.0f} ids/s")


if __name__ == "__main__":
    main()
