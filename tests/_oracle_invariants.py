"""The invariant checks and ``RiskState.resume`` as they were before the linear rewrite.

Kept verbatim (only renamed to a test module) as the oracle of
``tests/unit/test_invariants_oracle.py``: the fast implementation must report exactly the
same violations, and rebuild exactly the same state, on every input.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence

import attrs

from axdomain.accounts import AccountKind
from axdomain.audit import AuditRecord
from axdomain.contracts import ContractId
from axdomain.errors import InvalidValue
from axdomain.ids import SYSTEM_ACCOUNTS, AccountId
from axdomain.ledger.events import (
    BASIS_CODES,
    QTY_CODES,
    USD_CODES,
    Phase,
    decode_ref,
    phase_of,
)
from axdomain.ledger.invariants import AccountFlagChange, InvariantInputs, Violation
from axdomain.ledger.position import sign
from axdomain.ledger.risk import Reservation, RiskState
from axdomain.ledger.values import (
    USD_LEDGER,
    AccountFlags,
    LedgerAccount,
    Transfer,
    TransferCode,
    TransferFlags,
)
from axdomain.ledger_ids import TbAccountRef
from axdomain.permissions import Action


@attrs.frozen
class LedgerView:
    """The inputs with every ledger account decoded once, shared by all twelve checks."""

    inputs: InvariantInputs
    decoded: list[tuple[LedgerAccount, TbAccountRef]]  # accounts that decode (U5: the rest)
    refs: dict[int, TbAccountRef]
    customers: frozenset[AccountId]

    @classmethod
    def of(cls, inputs: InvariantInputs) -> LedgerView:
        decoded = []
        for account in inputs.ledger_accounts:
            try:
                decoded.append((account, decode_ref(account.id)))
            except InvalidValue:
                continue
        customers = frozenset(
            a.account_id for a in inputs.accounts if a.kind is AccountKind.CUSTOMER
        )
        return cls(inputs, decoded, {a.id: ref for a, ref in decoded}, customers)

    def ref(self, tb_id: int) -> TbAccountRef:
        """Decode a transfer leg; raises ``InvalidValue`` like ``decode_tb_account_id``."""
        found = self.refs.get(tb_id)
        return found if found is not None else decode_ref(tb_id)


def _product_nets(view: LedgerView, basis: bool) -> dict[ContractId, int]:
    sums: dict[ContractId, int] = defaultdict(int)
    for account, ref in view.decoded:
        if not ref.contract.is_usd and ref.is_basis == basis:
            sums[ref.contract] += account.net
    return sums


def _customer_positions(
    view: LedgerView,
) -> dict[tuple[AccountId, ContractId], tuple[int, int]]:
    qty: dict[tuple[AccountId, ContractId], int] = defaultdict(int)
    basis: dict[tuple[AccountId, ContractId], int] = defaultdict(int)
    for account, ref in view.decoded:
        if not ref.contract.is_usd and ref.account_id in view.customers:
            (basis if ref.is_basis else qty)[(ref.account_id, ref.contract)] += account.net
    return {key: (qty.get(key, 0), basis.get(key, 0)) for key in qty.keys() | basis.keys()}


# ------------------------------------------------------------------------------ global


def _pending(view: LedgerView, code: str, basis: bool) -> list[Violation]:
    kind = "basis" if basis else "qty"
    return [
        Violation(
            code,
            f"{ref.account_id}/{ref.contract}",
            f"{kind} account holds debits_pending {account.debits_pending}, "
            f"credits_pending {account.credits_pending}",
        )
        for account, ref in view.decoded
        if not ref.contract.is_usd
        and ref.is_basis == basis
        and (account.debits_pending or account.credits_pending)
    ]


def check_g1(view: LedgerView) -> list[Violation]:
    """For every contract the qty of all accounts sums to zero; no qty is pending."""
    return [
        Violation("G1", str(c), f"sum of net qty is {total}")
        for c, total in sorted(_product_nets(view, basis=False).items())
        if total != 0
    ] + _pending(view, "G1", basis=False)


def check_g2(view: LedgerView) -> list[Violation]:
    """For every contract the basis of all accounts sums to zero."""
    return [
        Violation("G2", str(c), f"sum of net basis is {total}")
        for c, total in sorted(_product_nets(view, basis=True).items())
        if total != 0
    ] + _pending(view, "G2", basis=True)


def check_g3(view: LedgerView) -> list[Violation]:
    """USD sums to zero; AX_PNL's USD equals AX_PNL's basis summed over contracts."""
    total = 0
    pending = 0
    pnl_usd = 0
    pnl_basis = 0
    for account, ref in view.decoded:
        if ref.contract.is_usd:
            total += account.net
            pending += account.credits_pending - account.debits_pending
            if ref.account_id == SYSTEM_ACCOUNTS.AX_PNL:
                pnl_usd += account.net
        elif ref.is_basis and ref.account_id == SYSTEM_ACCOUNTS.AX_PNL:
            pnl_basis += account.net
    found = []
    if total != 0:
        found.append(Violation("G3", "USD", f"sum of USD nets is {total}"))
    if pending != 0:
        found.append(Violation("G3", "USD", f"sum of pending USD (credits - debits) is {pending}"))
    if pnl_usd != pnl_basis:
        found.append(
            Violation("G3", "AX_PNL", f"USD net {pnl_usd} != sum of basis nets {pnl_basis}")
        )
    return found


# ------------------------------------------------------------------------------- users


def check_u1(view: LedgerView) -> list[Violation]:
    """Customer USD accounts never go negative and carry the overdraft flag."""
    found = []
    for account, ref in view.decoded:
        if not ref.contract.is_usd or ref.account_id not in view.customers:
            continue
        if account.available < 0:
            detail = (
                f"USD available {account.available} < 0 (net {account.net}, "
                f"debits pending {account.debits_pending})"
            )
            found.append(Violation("U1", str(ref.account_id), detail))
        if not account.flags & AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS:
            found.append(
                Violation("U1", str(ref.account_id), "USD account lacks the overdraft flag")
            )
    return found


def _chains(transfers: Sequence[Transfer]) -> Iterator[list[Transfer]]:
    """Linked chains in commit order; a trailing open run still counts as one event."""
    chain: list[Transfer] = []
    for transfer in transfers:
        chain.append(transfer)
        if not transfer.flags & TransferFlags.LINKED:
            yield chain
            chain = []
    if chain:
        yield chain


def check_u2(view: LedgerView) -> list[Violation]:
    """Each account's stamps are 1..n in commit order, one per chain that touched it."""
    expected: dict[int, list[int]] = defaultdict(list)
    for chain in _chains(view.inputs.transfers):
        touched: dict[int, None] = {}
        for transfer in chain:
            touched.setdefault(transfer.debit_account_id >> 64, None)
            touched.setdefault(transfer.credit_account_id >> 64, None)
        for account in touched:
            expected[account].append(chain[0].id)
    numbers: dict[int, list[int]] = defaultdict(list)
    events: dict[int, list[int]] = defaultdict(list)
    for stamp in view.inputs.sequence_stamps:
        numbers[stamp.account_id.value].append(stamp.sequence_number)
        events[stamp.account_id.value].append(stamp.first_transfer_id)
    found = []
    for account in sorted(expected.keys() | numbers.keys()):
        seen = numbers.get(account, [])
        if seen != list(range(1, len(seen) + 1)):
            found.append(Violation("U2", f"{account:016x}", f"numbers {seen[:8]} not 1..n"))
        elif events.get(account, []) != expected.get(account, []):
            found.append(
                Violation(
                    "U2",
                    f"{account:016x}",
                    f"{len(seen)} stamps for {len(expected.get(account, []))} ledger events",
                )
            )
    return found


def _flags_at(
    inputs: InvariantInputs,
) -> Callable[[AccountId, int], tuple[bool, bool]]:
    """(is_frozen, is_close_only) of an account at a time, from history or the registry."""
    history: dict[AccountId, list[AccountFlagChange]] = defaultdict(list)
    for change in inputs.flag_history:
        history[change.account_id].append(change)
    current = {a.account_id: (a.is_frozen, a.is_close_only) for a in inputs.accounts}

    def flags_at(account_id: AccountId, at_ns: int) -> tuple[bool, bool]:
        changes = history.get(account_id)
        if not changes:
            return current.get(account_id, (False, False))
        state = (False, False)
        for change in changes:
            if change.at_ns > at_ns:
                break
            state = (change.is_frozen, change.is_close_only)
        return state

    return flags_at


def check_u3(view: LedgerView) -> list[Violation]:
    """No fill raised |qty| on a close-only account; no order or fill on a frozen one."""
    flags_at = _flags_at(view.inputs)
    found = []
    for order in view.inputs.orders:
        if flags_at(order.account_id, order.created_at_ns)[0]:
            found.append(
                Violation("U3", str(order.account_id), f"order {order.order_id} while frozen")
            )
    qty: dict[tuple[AccountId, ContractId], int] = defaultdict(int)
    for transfer in view.inputs.transfers:
        if transfer.code not in QTY_CODES:
            continue
        try:
            debit = view.ref(transfer.debit_account_id)
            credit = view.ref(transfer.credit_account_id)
        except InvalidValue:
            continue  # P4 reports undecodable legs
        for ref, delta in ((debit, -transfer.amount), (credit, transfer.amount)):
            key = (ref.account_id, ref.contract)
            before = qty[key]
            qty[key] = before + delta
            if transfer.code != TransferCode.TRADE_QTY:
                continue
            frozen, close_only = flags_at(ref.account_id, transfer.user_data_64)
            if frozen:
                found.append(
                    Violation("U3", str(ref.account_id), f"fill {transfer.id} while frozen")
                )
            elif close_only and abs(before + delta) > abs(before):
                found.append(
                    Violation(
                        "U3",
                        str(ref.account_id),
                        f"fill {transfer.id} raised |qty| {abs(before)}->{abs(before + delta)}"
                        " on a close-only account",
                    )
                )
    return found


def _audit_allows(record: AuditRecord, action: Action) -> bool:
    if not record.allowed or record.grant_permissions is None:
        return False
    if not record.grant_permissions.allows(action):
        return False
    return record.key_id is None or (
        record.key_scope is not None and record.key_scope.allows(action)
    )


def check_u4(view: LedgerView) -> list[Violation]:
    """Every order's actor was, per the latest audit decision at or before the order, allowed
    its action on the order's account by a grant (and key scope, for key requests)."""
    trail: dict[tuple[object, AccountId], list[AuditRecord]] = defaultdict(list)
    for record in view.inputs.audit:
        trail[(record.actor_user_id, record.account_id)].append(record)
    found = []
    for order in view.inputs.orders:
        action = Action.REDUCE_OR_CLOSE if order.reduce_only else Action.TRADE
        relevant = [
            r
            for r in trail.get((order.user_id, order.account_id), [])
            if r.at_ns <= order.created_at_ns and r.action in (Action.TRADE, action)
        ]
        latest = max(relevant, key=lambda r: r.at_ns, default=None)
        if latest is None or not _audit_allows(latest, action):
            why = "no audit record" if latest is None else f"audit says {latest.reason.name}"
            found.append(
                Violation(
                    "U4",
                    str(order.account_id),
                    f"order {order.order_id} by {order.user_id}: {why}",
                )
            )
    return found


def check_u5(view: LedgerView) -> list[Violation]:
    """Every ledger account decodes to a registered account of a consistent kind."""
    registry = {a.account_id: a for a in view.inputs.accounts}
    found = []
    for account in view.inputs.ledger_accounts:
        try:
            ref = view.ref(account.id)
        except InvalidValue as error:
            found.append(Violation("U5", f"{account.id:#x}", f"does not decode: {error}"))
            continue
        owner = registry.get(ref.account_id)
        if owner is None:
            found.append(Violation("U5", str(ref.account_id), "not a registered account"))
        elif owner.kind is AccountKind.CUSTOMER and (
            owner.ubo_user_id is None or ref.account_id.is_reserved
        ):
            found.append(Violation("U5", str(ref.account_id), "customer without a UBO"))
        elif owner.kind is AccountKind.SYSTEM and (
            owner.ubo_user_id is not None or not ref.account_id.is_reserved
        ):
            found.append(Violation("U5", str(ref.account_id), "system account with a UBO"))
    return found


# --------------------------------------------------------------------------- positions


def check_p1(view: LedgerView) -> list[Violation]:
    """Customer position: net qty is zero exactly when net basis is zero."""
    return sorted(
        Violation("P1", f"{account}/{contract}", f"qty {qty} but basis {basis}")
        for (account, contract), (qty, basis) in _customer_positions(view).items()
        if (qty == 0) != (basis == 0)
    )


def check_p2(view: LedgerView) -> list[Violation]:
    """Customer position: basis has the sign of qty (the zero cases belong to P1)."""
    return sorted(
        Violation("P2", f"{account}/{contract}", f"qty {qty} but basis {basis}")
        for (account, contract), (qty, basis) in _customer_positions(view).items()
        if qty != 0 and basis != 0 and sign(qty) != sign(basis)
    )


def check_p3(view: LedgerView) -> list[Violation]:
    """Every qty account has its basis twin at id+1 on ledger+1, both mirroring the date."""
    by_id = {a.id: a for a in view.inputs.ledger_accounts}
    found = []
    for account, ref in view.decoded:
        if ref.contract.is_usd or ref.is_basis:
            continue
        subject = f"{ref.account_id}/{ref.contract}"
        date = ref.contract.date.value
        twin = by_id.get(account.id + 1)
        if account.ledger != ref.contract.qty_ledger:
            found.append(Violation("P3", subject, f"qty account on ledger {account.ledger}"))
        if account.user_data_32 != date:
            found.append(Violation("P3", subject, f"qty user_data_32 {account.user_data_32}"))
        if twin is None:
            found.append(Violation("P3", subject, "basis twin missing"))
            continue
        if twin.ledger != account.ledger + 1:
            found.append(Violation("P3", subject, f"basis twin on ledger {twin.ledger}"))
        if twin.user_data_32 != date:
            found.append(Violation("P3", subject, f"basis user_data_32 {twin.user_data_32}"))
    return found


def _p4_problem(view: LedgerView, transfer: Transfer) -> str | None:
    try:
        code = TransferCode(transfer.code)
    except ValueError:
        return f"unknown code {transfer.code}"
    try:
        debit, credit = (
            decode_ref(transfer.debit_account_id),
            decode_ref(transfer.credit_account_id),
        )
    except InvalidValue as error:
        return f"leg does not decode: {error}"
    if code in USD_CODES:
        if not (debit.contract.is_usd and credit.contract.is_usd):
            return f"{code.name} touches a non-USD account"
        return None if transfer.ledger == USD_LEDGER else f"{code.name} on ledger {transfer.ledger}"
    if debit.contract != credit.contract:
        return f"legs on {debit.contract} and {credit.contract}"
    wants_basis = code in BASIS_CODES
    assert wants_basis or code in QTY_CODES
    if debit.contract.is_usd or debit.is_basis != wants_basis or credit.is_basis != wants_basis:
        return f"{code.name} between the wrong kind of accounts"
    expected_ledger = debit.contract.qty_ledger + (1 if wants_basis else 0)
    if transfer.ledger != expected_ledger:
        return f"ledger {transfer.ledger}, contract {debit.contract} needs {expected_ledger}"
    return None


def check_p4(view: LedgerView) -> list[Violation]:
    """Qty/basis transfers stay within one contract and its ledger; money is USD-only."""
    found = []
    for transfer in view.inputs.transfers:
        problem = _p4_problem(view, transfer)
        if problem is not None:
            found.append(Violation("P4", f"transfer {transfer.id}", problem))
    return found


CHECKS: tuple[Callable[[LedgerView], list[Violation]], ...] = (
    check_g1,
    check_g2,
    check_g3,
    check_u1,
    check_u2,
    check_u3,
    check_u4,
    check_u5,
    check_p1,
    check_p2,
    check_p3,
    check_p4,
)


def check_all_invariants(inputs: InvariantInputs) -> list[Violation]:
    """Every violation of G1-G3, U1-U5, P1-P4, in that order; empty means healthy."""
    view = LedgerView.of(inputs)
    return [violation for check in CHECKS for violation in check(view)]


# ----------------------------------------------------------------------- resume (oracle)


def resume(accounts: Iterable[LedgerAccount], transfers: Iterable[Transfer]) -> RiskState:
    """``RiskState.resume`` before the rewrite: typed refs per row, GC on."""
    transfers = list(transfers)
    state = RiskState()
    for account in accounts:
        net = account.credits_posted - account.debits_posted
        if net:
            state._post(account.id, net)
        if account.debits_pending or account.credits_pending:
            ref = decode_ref(account.id)
            if ref.contract.is_usd:
                for table, amount in (
                    (state.usd_debits_pending_micro_usd, account.debits_pending),
                    (state.usd_credits_pending_micro_usd, account.credits_pending),
                ):
                    if amount:
                        table[ref.account_id] = table.get(ref.account_id, 0) + amount
    counts: dict[int, int] = {}
    chain_open = False
    touched: set[int] = set()
    for transfer in transfers:
        if not chain_open:
            touched = set()
        for side in (transfer.debit_account_id >> 64, transfer.credit_account_id >> 64):
            if side not in touched:
                touched.add(side)
                counts[side] = counts.get(side, 0) + 1
        chain_open = bool(transfer.flags & TransferFlags.LINKED)
    if chain_open:
        raise InvalidValue("transfers", "scan", "ends inside an open linked chain")
    state.last_sequence = {AccountId(value): count for value, count in counts.items()}
    for transfer in transfers:
        phase = phase_of(transfer)
        if phase is Phase.PENDING and transfer.amount:
            owner = AccountId(transfer.debit_account_id >> 64)
            state.reservations[transfer.id] = Reservation(owner, transfer.amount)
        elif phase in (Phase.POST, Phase.VOID):
            state.reservations.pop(transfer.pending_id, None)
    return state
