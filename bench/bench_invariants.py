"""Time ``check_all_invariants`` and ``RiskState.resume`` on synthetic ledgers.

A ledger of N positions spreads N (account, contract) pairs over ten perpetual contracts:
customers are paired, each pair holds +q / -q with the matching basis, posted as one fill
chain (qty leg + two basis legs against AX_PNL). The ledger is healthy, so the run also
checks that the report is empty. Prints figures only; no assertion on speed.

Usage: python bench/bench_invariants.py [max_exponent]   (default 6: 10**4, 10**5, 10**6)
"""

from __future__ import annotations

import gc
import resource
import sys
import time

from axdomain import SYSTEM_ACCOUNTS, AccountId, ContractId, ProductId, UserId
from axdomain.accounts import Account, AccountKind
from axdomain.ledger.invariants import InvariantInputs, check_all_invariants
from axdomain.ledger.planners import (
    plan_contract_system_accounts,
    plan_position_accounts,
    plan_system_usd_accounts,
    plan_usd_account,
)
from axdomain.ledger.risk import RiskState
from axdomain.ledger.sequencing import SequenceStamp
from axdomain.ledger.values import LedgerAccount, Transfer, TransferCode, TransferFlags
from axdomain.ledger_ids import derive_tb_account_id, derive_tb_basis_account_id

CONTRACTS = tuple(ContractId.perp(ProductId(1001 + 2 * i)) for i in range(10))
FIRST_CUSTOMER = 0x0190_0000_0000_0000
PNL = SYSTEM_ACCOUNTS.AX_PNL


def _system_registry() -> list[Account]:
    return [
        Account(account_id=a, name=n, kind=AccountKind.SYSTEM, ubo_user_id=None, created_at_ns=0)
        for n, a in SYSTEM_ACCOUNTS.by_name().items()
    ]


def build(positions: int) -> InvariantInputs:
    customers = max(2, positions // len(CONTRACTS))
    customers += customers % 2
    registry = _system_registry()
    ledger: list[LedgerAccount] = list(plan_system_usd_accounts(registry))
    transfers: list[Transfer] = []
    stamps: list[SequenceStamp] = []
    sequence: dict[AccountId, int] = {}
    balances: dict[int, list[int]] = {}  # tb id -> [debits, credits]
    for contract in CONTRACTS:
        ledger += plan_contract_system_accounts(contract)
    ids = iter(range(1, 1 << 62))
    for index in range(customers):
        account_id = AccountId(FIRST_CUSTOMER + index)
        account = Account(
            account_id=account_id,
            name=f"c{index}",
            kind=AccountKind.CUSTOMER,
            ubo_user_id=UserId(FIRST_CUSTOMER + index),
            created_at_ns=0,
        )
        registry.append(account)
        ledger += plan_usd_account(account)
        for contract in CONTRACTS:
            ledger += plan_position_accounts(account_id, contract)
    for contract in CONTRACTS:
        for pair in range(0, customers, 2):
            long_id = AccountId(FIRST_CUSTOMER + pair)
            short_id = AccountId(FIRST_CUSTOMER + pair + 1)
            qty, basis = 1 + pair % 7, (1 + pair % 7) * 1_000_000
            qty_of = derive_tb_account_id
            basis_of = derive_tb_basis_account_id
            qty_ledger, basis_ledger = contract.qty_ledger, contract.qty_ledger + 1
            trade_qty, trade_basis = TransferCode.TRADE_QTY, TransferCode.TRADE_BASIS
            long_qty, short_qty = qty_of(long_id, contract), qty_of(short_id, contract)
            long_basis, short_basis = basis_of(long_id, contract), basis_of(short_id, contract)
            pnl_basis = basis_of(PNL, contract)
            legs = [
                (short_qty, long_qty, qty, trade_qty, qty_ledger),
                (pnl_basis, long_basis, basis, trade_basis, basis_ledger),
                (short_basis, pnl_basis, basis, trade_basis, basis_ledger),
            ]
            first = None
            for leg_index, (debit, credit, amount, code, ledger_no) in enumerate(legs):
                transfer = Transfer(
                    id=next(ids),
                    debit_account_id=debit,
                    credit_account_id=credit,
                    amount=amount,
                    ledger=ledger_no,
                    code=code,
                    flags=TransferFlags.LINKED if leg_index < 2 else TransferFlags.NONE,
                    user_data_128=(1_000_000 << 64) | qty,
                    user_data_64=1,
                )
                first = first or transfer.id
                transfers.append(transfer)
                balances.setdefault(debit, [0, 0])[0] += amount
                balances.setdefault(credit, [0, 0])[1] += amount
            for account_id in (short_id, long_id, PNL):
                sequence[account_id] = sequence.get(account_id, 0) + 1
                stamps.append(SequenceStamp(account_id, sequence[account_id], first or 0))
    posted = [
        LedgerAccount(
            id=a.id,
            ledger=a.ledger,
            code=a.code,
            flags=a.flags,
            user_data_32=a.user_data_32,
            debits_posted=balances.get(a.id, [0, 0])[0],
            credits_posted=balances.get(a.id, [0, 0])[1],
        )
        for a in ledger
    ]
    return InvariantInputs(
        ledger_accounts=posted, transfers=transfers, accounts=registry, sequence_stamps=stamps
    )


def _rss_mib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def main() -> None:
    max_exponent = int(sys.argv[1]) if len(sys.argv) > 1 else 6
    print(
        f"{'positions':>10} {'accounts':>10} {'transfers':>10} {'build s':>8} {'check s':>8} "
        f"{'resume s':>9} {'violations':>10} {'max RSS MiB':>11}"
    )
    for exponent in range(4, max_exponent + 1):
        gc.collect()
        started = time.perf_counter()
        inputs = build(10**exponent)
        built = time.perf_counter()
        violations = check_all_invariants(inputs)
        checked = time.perf_counter()
        state = RiskState.resume(inputs.ledger_accounts, inputs.transfers)
        resumed = time.perf_counter()
        held = len(state.qty_lots)
        print(
            f"{held:>10} {len(inputs.ledger_accounts):>10} {len(inputs.transfers):>10} "
            f"{built - started:>8.2f} {checked - built:>8.2f} {resumed - checked:>9.2f} "
            f"{len(violations):>10} {_rss_mib():>11}",
            flush=True,
        )
        del inputs, state, violations


if __name__ == "__main__":
    main()
