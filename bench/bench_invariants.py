"""Time ``check_all_invariants`` and ``RiskState.resume`` on synthetic ledgers.

A ledger of N positions spreads N (account, contract) pairs over ten perpetual contracts:
customers are paired, each pair holds +q / -q with the matching basis, posted as one fill
chain (qty leg + two basis legs against AX_PNL). The ledger is healthy, so the run also
checks that the report is empty. Prints figures only; no assertion on speed.

Each size runs in its own process, so its memory figures are its own: ``inputs`` is the resident
size of the built scan, ``+check`` / ``+resume`` the most each call added on top of it (Linux
``VmHWM``, reset before each call). The floor is one bare pass that reads every ledger
account's id and balances, every transfer's legs and every stamp once: the least any check
of these rows can cost, measured in the same process.

Usage: python bench/bench_invariants.py [positions ...]   (default: 10000 100000)
"""

from __future__ import annotations

import gc
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

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


DEFAULT_SIZES = (10**4, 10**5)


def _status_kib(field: str) -> int:
    """A ``kB`` line of /proc/self/status (VmRSS: now, VmHWM: peak since the last reset)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise LookupError(field)


def _reset_peak() -> None:
    """Set the peak RSS to the current RSS (Linux ``clear_refs`` 5)."""
    Path("/proc/self/clear_refs").write_text("5")


def scan_floor(inputs: InvariantInputs) -> int:
    """One bare pass over every row the checks read; returns a checksum so it is not idle."""
    total = 0
    for account in inputs.ledger_accounts:
        total ^= (account.id >> 64) + account.credits_posted - account.debits_posted
    for transfer in inputs.transfers:
        total ^= (transfer.debit_account_id >> 64) + (transfer.credit_account_id >> 64)
    for stamp in inputs.sequence_stamps:
        total ^= stamp.sequence_number
    return total


def _timed(call: Callable[[], object]) -> tuple[float, float]:
    """(wall s, CPU s) of one call: on a shared machine the CPU figure is the stable one."""
    wall, cpu = time.perf_counter(), time.process_time()
    call()
    return time.perf_counter() - wall, time.process_time() - cpu


def run_one(positions: int) -> None:
    inputs = build(positions)
    gc.collect()
    inputs_kib = _status_kib("VmRSS")
    _, floor_cpu = _timed(lambda: scan_floor(inputs))
    _reset_peak()
    check_wall, check_cpu = _timed(lambda: check_all_invariants(inputs))
    check_peak_kib = _status_kib("VmHWM") - inputs_kib
    gc.collect()
    _reset_peak()
    resume_wall, resume_cpu = _timed(
        lambda: RiskState.resume(inputs.ledger_accounts, inputs.transfers)
    )
    resume_peak_kib = _status_kib("VmHWM") - inputs_kib
    violations = len(check_all_invariants(inputs))
    accounts = len(inputs.ledger_accounts)
    us = 1e6 / accounts
    print(
        f"{positions:>9} {accounts:>9} {len(inputs.transfers):>9} "
        f"{check_wall:>7.2f} {check_cpu:>7.2f} {check_cpu * us:>6.2f} "
        f"{resume_wall:>7.2f} {resume_cpu:>7.2f} {resume_cpu * us:>6.2f} "
        f"{floor_cpu * us:>6.2f} {violations:>4} "
        f"{inputs_kib // 1024:>7} {check_peak_kib // 1024:>7} {resume_peak_kib // 1024:>7}",
        flush=True,
    )


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        run_one(int(sys.argv[2]))
        return
    sizes = [int(arg) for arg in sys.argv[1:]] or list(DEFAULT_SIZES)
    print(
        "check = check_all_invariants, resume = RiskState.resume; µs = CPU µs per ledger "
        "account; floor = one bare read of every row (CPU µs per account); MiB: inputs "
        "resident, and the peak each call added on top"
    )
    print(
        f"{'positions':>9} {'accounts':>9} {'transfers':>9} "
        f"{'check s':>7} {'cpu s':>7} {'µs':>6} {'resume s':>7} {'cpu s':>7} {'µs':>6} "
        f"{'floor':>6} {'viol':>4} {'inputs':>7} {'+check':>7} {'+resume':>7}",
        flush=True,
    )
    for positions in sizes:
        subprocess.run([sys.executable, __file__, "--one", str(positions)], check=True)


if __name__ == "__main__":
    main()
