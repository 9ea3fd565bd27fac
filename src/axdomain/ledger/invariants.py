"""The twelve ledger invariants of SPEC §7, one small pure function each.

``check_all_invariants(inputs)`` reads only the ``InvariantInputs`` value it is given (a
ledger scan plus the registry, order log, audit trail and sequence stamps) and returns
every violation; an empty list means healthy. docs/invariants.md gives each rule's
rationale and exactly which fields of the inputs it reads.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence

import attrs

from axdomain.accounts import Account, AccountKind
from axdomain.audit import AuditRecord
from axdomain.contracts import DATE_MASK, DATE_SHIFT, PRODUCT_MASK, ContractId
from axdomain.errors import InvalidValue
from axdomain.ids import RESERVED_ID_LIMIT, SYSTEM_ACCOUNTS, AccountId
from axdomain.ledger.events import BASIS_CODES, QTY_CODES, USD_CODES, decode_ref
from axdomain.ledger.position import sign
from axdomain.ledger.scan_codec import (
    KIND_BASIS,
    KIND_QTY,
    KIND_USD,
    LOW64_MASK,
    MIN_OWNED_ID,
    U128_MAX,
    UNDECODABLE,
    HalfDecoder,
    contract_of,
    cyclic_gc_paused,
)
from axdomain.ledger.sequencing import SequenceStamp
from axdomain.ledger.values import (
    USD_LEDGER,
    AccountFlags,
    LedgerAccount,
    Transfer,
    TransferCode,
    TransferFlags,
)
from axdomain.ledger_ids import ACCOUNT_SHIFT
from axdomain.orders import Order
from axdomain.permissions import Action

INVARIANT_CODES = ("G1", "G2", "G3", "U1", "U2", "U3", "U4", "U5", "P1", "P2", "P3", "P4")

_PNL = SYSTEM_ACCOUNTS.AX_PNL.value
_CODES = {int(code): code for code in TransferCode}
_QTY_CODE_VALUES = frozenset(int(code) for code in QTY_CODES)
_TRADE_QTY = int(TransferCode.TRADE_QTY)
_WANTED_KIND = {  # the kind of account both legs of a transfer code must be
    **{int(code): KIND_USD for code in USD_CODES},
    **{int(code): KIND_QTY for code in QTY_CODES},
    **{int(code): KIND_BASIS for code in BASIS_CODES},
}
# Flag tests shift the raw int: ``IntFlag.__and__`` runs Python code (~1 µs per row).
_OVERDRAFT_BIT = AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS.bit_length() - 1
_LINKED_BIT = TransferFlags.LINKED.bit_length() - 1


@attrs.frozen(order=True)
class Violation:
    code: str  # "G1" .. "P4"
    subject: str  # what is broken: a contract, an account, a transfer, an order
    detail: str


@attrs.frozen
class AccountFlagChange:
    """``account_id`` had these flags from ``at_ns`` on (the registry's history)."""

    account_id: AccountId
    at_ns: int
    is_frozen: bool
    is_close_only: bool


@attrs.frozen
class InvariantInputs:
    """Everything the invariants read; the function is pure in this value.

    * ``ledger_accounts`` / ``transfers``: ``scan_accounts()`` / ``scan_transfers()``
      (transfers in commit order).
    * ``accounts``: the account registry (current facts).
    * ``flag_history``: frozen / close-only changes over time, in time order. An account
      with no entry is judged by its current registry flags at every time (the strict
      reading, right for a registry that never changed them).
    * ``orders``: the order log; ``audit``: the audit trail in append order.
    * ``sequence_stamps``: every stamp issued, in commit order.
    """

    ledger_accounts: Sequence[LedgerAccount] = ()
    transfers: Sequence[Transfer] = ()
    accounts: Sequence[Account] = ()
    flag_history: Sequence[AccountFlagChange] = ()
    orders: Sequence[Order] = ()
    audit: Sequence[AuditRecord] = ()
    sequence_stamps: Sequence[SequenceStamp] = ()


@attrs.define
class KindColumns:
    """The decoded rows of one kind (USD, qty or basis), in scan order, as columns.

    ``rows`` are the caller's own ``LedgerAccount`` values (no per-row object is built);
    ``nets`` their credits minus debits; the ``customer_*`` columns repeat the id and net
    of the rows owned by a customer account. Owners and contracts are plain ints read from
    the id (``id >> 64``, ``contract_of``); validated types appear only in violation texts.
    """

    rows: list[LedgerAccount] = attrs.Factory(list)
    nets: list[int] = attrs.Factory(list)
    customer_ids: list[int] = attrs.Factory(list)
    customer_nets: list[int] = attrs.Factory(list)


@attrs.define
class LedgerView:
    """The inputs with every ledger account decoded once, shared by all twelve checks."""

    inputs: InvariantInputs
    decoder: HalfDecoder
    usd: KindColumns
    qty: KindColumns
    basis: KindColumns
    owners: set[int]  # owner of every row that decodes (U5 checks each against the registry)
    has_undecodable: bool
    customers: frozenset[int]
    _sign_mismatches: list[tuple[int, int, int]] | None = None

    @classmethod
    def of(cls, inputs: InvariantInputs) -> LedgerView:
        decoder = HalfDecoder()
        known = decoder.known
        customers = frozenset(
            a.account_id.value for a in inputs.accounts if a.kind is AccountKind.CUSTOMER
        )
        groups = (KindColumns(), KindColumns(), KindColumns())  # by KIND_USD/QTY/BASIS
        owners: set[int] = set()
        last_owner = 0
        is_customer = False
        has_undecodable = False
        for row in inputs.ledger_accounts:
            tb_id = row.id
            kind = known.get(tb_id & LOW64_MASK) if MIN_OWNED_ID <= tb_id <= U128_MAX else None
            if kind is None:
                kind = decoder.kind_of(tb_id)
                if kind == UNDECODABLE:
                    has_undecodable = True
                    continue
            owner = tb_id >> ACCOUNT_SHIFT
            if owner != last_owner:  # a scan lists an account's rows together
                owners.add(owner)
                last_owner = owner
                is_customer = owner in customers
            net = row.credits_posted - row.debits_posted
            group = groups[kind]
            group.rows.append(row)
            group.nets.append(net)
            if is_customer:
                group.customer_ids.append(tb_id)
                group.customer_nets.append(net)
        usd, qty, basis = groups
        return cls(inputs, decoder, usd, qty, basis, owners, has_undecodable, customers)

    def kind_of(self, tb_id: int) -> int:
        """``KIND_*`` of a transfer leg, ``UNDECODABLE`` where ``decode_tb_account_id`` raises."""
        known = self.decoder.known.get(tb_id & LOW64_MASK)
        if known is not None and MIN_OWNED_ID <= tb_id <= U128_MAX:
            return known
        return self.decoder.kind_of(tb_id)

    def sign_mismatches(self) -> list[tuple[int, int, int]]:
        """Customer positions ``(qty id, net qty, net basis)`` whose two signs differ.

        Computed once for P1 and P2: every violation of either is such a position (P1: one
        side zero, P2: opposite signs), and a healthy position never is.
        """
        if self._sign_mismatches is None:
            qty = _summed(self.qty.customer_ids, self.qty.customer_nets)
            basis = _summed(self.basis.customer_ids, self.basis.customer_nets)  # qty id + 1
            found = []
            for qty_id, net_qty in qty.items():
                net_basis = basis.pop(qty_id + 1, 0)
                if sign(net_qty) != sign(net_basis):
                    found.append((qty_id, net_qty, net_basis))
            found += [(basis_id - 1, 0, net) for basis_id, net in basis.items() if net]
            self._sign_mismatches = found
        return self._sign_mismatches


def _summed(ids: list[int], nets: list[int]) -> dict[int, int]:
    """Net per id, duplicates summed. One insert per row when ids are unique (a real scan)."""
    table = dict(zip(ids, nets, strict=True))
    if len(table) != len(ids):
        table = {}
        for tb_id, net in zip(ids, nets, strict=True):
            table[tb_id] = table.get(tb_id, 0) + net
    return table


def _account_text(owner: int) -> str:
    """``str(AccountId(owner))`` without building one."""
    return f"{owner:016x}"


def _position_text(qty_id: int) -> str:
    """``f"{account}/{contract}"`` of a qty account id."""
    return f"{_account_text(qty_id >> ACCOUNT_SHIFT)}/{ContractId(qty_id & LOW64_MASK)}"


def _contract_nets(columns: KindColumns, kind: int) -> dict[int, int]:
    sums: dict[int, int] = {}
    for row, net in zip(columns.rows, columns.nets, strict=True):
        contract = contract_of(row.id, kind)
        sums[contract] = sums.get(contract, 0) + net
    return sums


def _owner_total(columns: KindColumns, owner: int) -> int:
    first, last = owner << ACCOUNT_SHIFT, ((owner + 1) << ACCOUNT_SHIFT) - 1
    return sum(
        net for row, net in zip(columns.rows, columns.nets, strict=True) if first <= row.id <= last
    )


# ------------------------------------------------------------------------------ global


def _pending_on(columns: KindColumns, code: str, kind: str) -> list[Violation]:
    """Only USD withdrawals are ever two-phase with an amount: a pending sum on a qty or
    basis account is money (or lots) held outside the posted nets the rule sums."""
    return [
        Violation(
            code,
            _position_text(row.id - (kind == "basis")),
            f"{kind} account holds debits_pending {row.debits_pending}, "
            f"credits_pending {row.credits_pending}",
        )
        for row in columns.rows
        if row.debits_pending or row.credits_pending
    ]


def check_g1(view: LedgerView) -> list[Violation]:
    """For every contract the qty of all accounts sums to zero, and no qty is pending."""
    return [
        Violation("G1", str(ContractId(c)), f"sum of net qty is {total}")
        for c, total in sorted(_contract_nets(view.qty, KIND_QTY).items())
        if total != 0
    ] + _pending_on(view.qty, "G1", "qty")


def check_g2(view: LedgerView) -> list[Violation]:
    """For every contract the basis of all accounts sums to zero, and no basis is pending."""
    return [
        Violation("G2", str(ContractId(c)), f"sum of net basis is {total}")
        for c, total in sorted(_contract_nets(view.basis, KIND_BASIS).items())
        if total != 0
    ] + _pending_on(view.basis, "G2", "basis")


def check_g3(view: LedgerView) -> list[Violation]:
    """USD sums to zero, posted and pending alike; AX_PNL's USD equals AX_PNL's basis
    summed over contracts."""
    total = sum(view.usd.nets)
    pending = sum(row.credits_pending - row.debits_pending for row in view.usd.rows)
    pnl_usd = _owner_total(view.usd, _PNL)
    pnl_basis = _owner_total(view.basis, _PNL)
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
    """Customer USD accounts never go negative, counting what their pending withdrawals
    hold (``credits_posted - debits_posted - debits_pending``), and carry the overdraft
    flag."""
    found = []
    for row, net in zip(view.usd.rows, view.usd.nets, strict=True):
        owner = row.id >> ACCOUNT_SHIFT
        if owner not in view.customers:
            continue
        available = net - row.debits_pending
        if available < 0:
            found.append(
                Violation(
                    "U1",
                    _account_text(owner),
                    f"USD available {available} < 0 (net {net}, debits pending "
                    f"{row.debits_pending})",
                )
            )
        if not row.flags >> _OVERDRAFT_BIT & 1:
            found.append(
                Violation("U1", _account_text(owner), "USD account lacks the overdraft flag")
            )
    return found


def _events_by_account(transfers: Sequence[Transfer]) -> dict[int, list[int]]:
    """Per account, the ledger events (linked chains, by first transfer id) that touched
    it, in commit order; a trailing open run still counts as one event."""
    events: dict[int, list[int]] = {}
    touched: dict[int, None] = {}
    first = 0
    chain_open = False
    for transfer in transfers:
        if not chain_open:
            first = transfer.id
            touched = {}
        touched[transfer.debit_account_id >> ACCOUNT_SHIFT] = None
        touched[transfer.credit_account_id >> ACCOUNT_SHIFT] = None
        chain_open = bool(transfer.flags >> _LINKED_BIT & 1)
        if not chain_open:
            _append_event(events, touched, first)
    if chain_open:
        _append_event(events, touched, first)
    return events


def _append_event(events: dict[int, list[int]], touched: dict[int, None], first: int) -> None:
    for account in touched:
        seen = events.get(account)
        if seen is None:
            events[account] = [first]
        else:
            seen.append(first)


def check_u2(view: LedgerView) -> list[Violation]:
    """Each account's stamps are 1..n in commit order, one per chain that touched it."""
    expected = _events_by_account(view.inputs.transfers)
    stamped: dict[int, list[SequenceStamp]] = {}
    for stamp in view.inputs.sequence_stamps:
        mine = stamped.get(stamp.account_id.value)
        if mine is None:
            stamped[stamp.account_id.value] = [stamp]
        else:
            mine.append(stamp)
    found = []
    for account in sorted(expected.keys() | stamped.keys()):
        mine = stamped.get(account, [])
        seen = [stamp.sequence_number for stamp in mine]
        if seen != list(range(1, len(seen) + 1)):
            found.append(Violation("U2", f"{account:016x}", f"numbers {seen[:8]} not 1..n"))
        elif [stamp.first_transfer_id for stamp in mine] != expected.get(account, []):
            found.append(
                Violation(
                    "U2",
                    f"{account:016x}",
                    f"{len(seen)} stamps for {len(expected.get(account, []))} ledger events",
                )
            )
    return found


class _FlagTimeline:
    """(is_frozen, is_close_only) of an account at a time, from history or the registry.

    ``watched`` holds every account that is frozen or close-only at some time; any other
    account is neither at every time, so a caller can skip it with one set lookup.
    """

    def __init__(self, inputs: InvariantInputs) -> None:
        self.history: dict[int, list[AccountFlagChange]] = {}
        for change in inputs.flag_history:
            self.history.setdefault(change.account_id.value, []).append(change)
        self.current = {
            a.account_id.value: (a.is_frozen, a.is_close_only)
            for a in inputs.accounts
            if a.is_frozen or a.is_close_only
        }
        self.watched = frozenset(self.history.keys() | self.current.keys())

    def at(self, account: int, at_ns: int) -> tuple[bool, bool]:
        changes = self.history.get(account)
        if not changes:
            return self.current.get(account, (False, False))
        state = (False, False)
        for change in changes:
            if change.at_ns > at_ns:
                break
            state = (change.is_frozen, change.is_close_only)
        return state


def check_u3(view: LedgerView) -> list[Violation]:
    """No fill raised |qty| on a close-only account; no order or fill on a frozen one."""
    flags = _FlagTimeline(view.inputs)
    found = []
    for order in view.inputs.orders:
        if flags.at(order.account_id.value, order.created_at_ns)[0]:
            found.append(
                Violation("U3", str(order.account_id), f"order {order.order_id} while frozen")
            )
    watched = flags.watched
    if not watched:
        return found  # nobody is ever frozen or close-only: no fill can break U3
    # Replay qty only where it matters: for accounts that are frozen or close-only at times.
    qty: dict[int, int] = {}  # (account, contract) as a qty/USD account id
    for transfer in view.inputs.transfers:
        code = transfer.code
        if code not in _QTY_CODE_VALUES:
            continue
        debit, credit = transfer.debit_account_id, transfer.credit_account_id
        if debit >> ACCOUNT_SHIFT not in watched and credit >> ACCOUNT_SHIFT not in watched:
            continue
        debit_kind, credit_kind = view.kind_of(debit), view.kind_of(credit)
        if UNDECODABLE in (debit_kind, credit_kind):
            continue  # P4 reports undecodable legs
        for tb_id, kind, delta in (
            (debit, debit_kind, -transfer.amount),
            (credit, credit_kind, transfer.amount),
        ):
            key = tb_id - (kind == KIND_BASIS)
            before = qty.get(key, 0)
            qty[key] = before + delta
            owner = tb_id >> ACCOUNT_SHIFT
            if code != _TRADE_QTY or owner not in watched:
                continue
            frozen, close_only = flags.at(owner, transfer.user_data_64)
            if frozen:
                found.append(
                    Violation("U3", _account_text(owner), f"fill {transfer.id} while frozen")
                )
            elif close_only and abs(before + delta) > abs(before):
                found.append(
                    Violation(
                        "U3",
                        _account_text(owner),
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


class _AuditTimeline:
    """Latest audit decision per (actor, account, action) at a time, by binary search.

    Per key and action the relevant records (that action, or TRADE, which also covers a
    reduce-only order) are sorted by time once, stably, so among records of the same time
    the first in trail order wins, as ``max`` over the trail would pick it.
    """

    def __init__(self, audit: Sequence[AuditRecord]) -> None:
        self.trail: dict[tuple[object, object], list[AuditRecord]] = {}
        for record in audit:
            self.trail.setdefault((record.actor_user_id, record.account_id), []).append(record)
        self.sorted: dict[tuple[object, object, Action], tuple[list[int], list[AuditRecord]]]
        self.sorted = {}

    def latest(
        self, actor: object, account: object, action: Action, at_ns: int
    ) -> AuditRecord | None:
        key = (actor, account, action)
        timeline = self.sorted.get(key)
        if timeline is None:
            relevant = sorted(
                (
                    r
                    for r in self.trail.get((actor, account), [])
                    if r.action in (Action.TRADE, action)
                ),
                key=lambda r: r.at_ns,
            )
            timeline = ([r.at_ns for r in relevant], relevant)
            self.sorted[key] = timeline
        times, records = timeline
        before = bisect.bisect_right(times, at_ns)
        if before == 0:
            return None
        return records[bisect.bisect_left(times, times[before - 1])]


def check_u4(view: LedgerView) -> list[Violation]:
    """Every order's actor was, per the latest audit decision at or before the order, allowed
    its action on the order's account by a grant (and key scope, for key requests)."""
    audit = _AuditTimeline(view.inputs.audit)
    found = []
    for order in view.inputs.orders:
        action = Action.REDUCE_OR_CLOSE if order.reduce_only else Action.TRADE
        latest = audit.latest(order.user_id, order.account_id, action, order.created_at_ns)
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


def _owner_problem(owner: int, registered: Account | None) -> str | None:
    if registered is None:
        return "not a registered account"
    reserved = owner < RESERVED_ID_LIMIT
    if registered.kind is AccountKind.CUSTOMER and (registered.ubo_user_id is None or reserved):
        return "customer without a UBO"
    if registered.kind is AccountKind.SYSTEM and (
        registered.ubo_user_id is not None or not reserved
    ):
        return "system account with a UBO"
    return None


def check_u5(view: LedgerView) -> list[Violation]:
    """Every ledger account decodes to a registered account of a consistent kind."""
    registry = {a.account_id.value: a for a in view.inputs.accounts}
    problems = {
        owner: problem
        for owner in view.owners
        if (problem := _owner_problem(owner, registry.get(owner))) is not None
    }
    if not problems and not view.has_undecodable:
        return []
    found = []
    for account in view.inputs.ledger_accounts:  # again, for scan order: only when broken
        if view.kind_of(account.id) == UNDECODABLE:
            try:
                decode_ref(account.id)
            except InvalidValue as error:
                found.append(Violation("U5", f"{account.id:#x}", f"does not decode: {error}"))
            continue
        owner = account.id >> ACCOUNT_SHIFT
        problem = problems.get(owner)
        if problem is not None:
            found.append(Violation("U5", _account_text(owner), problem))
    return found


# --------------------------------------------------------------------------- positions


def check_p1(view: LedgerView) -> list[Violation]:
    """Customer position: net qty is zero exactly when net basis is zero."""
    return sorted(
        Violation("P1", _position_text(qty_id), f"qty {qty} but basis {basis}")
        for qty_id, qty, basis in view.sign_mismatches()
        if (qty == 0) != (basis == 0)
    )


def check_p2(view: LedgerView) -> list[Violation]:
    """Customer position: basis has the sign of qty (the zero cases belong to P1)."""
    return sorted(
        Violation("P2", _position_text(qty_id), f"qty {qty} but basis {basis}")
        for qty_id, qty, basis in view.sign_mismatches()
        if qty != 0 and basis != 0 and sign(qty) != sign(basis)
    )


def check_p3(view: LedgerView) -> list[Violation]:
    """Every qty account has its basis twin at id+1 on ledger+1, both mirroring the date."""
    # The id after a valid qty id is always a valid basis id, so the twin is a basis row.
    twins = {row.id: row for row in view.basis.rows}
    found = []
    for account in view.qty.rows:
        contract = account.id & LOW64_MASK
        date = (contract >> DATE_SHIFT) & DATE_MASK
        twin = twins.get(account.id + 1)
        if (
            twin is not None
            and account.ledger == contract & PRODUCT_MASK
            and account.user_data_32 == date
            and twin.ledger == account.ledger + 1
            and twin.user_data_32 == date
        ):
            continue
        subject = _position_text(account.id)
        if account.ledger != contract & PRODUCT_MASK:
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
    code = _CODES.get(transfer.code)
    if code is None:
        return f"unknown code {transfer.code}"
    debit, credit = transfer.debit_account_id, transfer.credit_account_id
    debit_kind, credit_kind = view.kind_of(debit), view.kind_of(credit)
    if UNDECODABLE in (debit_kind, credit_kind):
        try:
            decode_ref(debit)
            decode_ref(credit)
        except InvalidValue as error:
            return f"leg does not decode: {error}"
        raise AssertionError(f"scan codec and decode_ref disagree on transfer {transfer.id}")
    if code in USD_CODES:
        if debit_kind != KIND_USD or credit_kind != KIND_USD:
            return f"{code.name} touches a non-USD account"
        return None if transfer.ledger == USD_LEDGER else f"{code.name} on ledger {transfer.ledger}"
    contract = contract_of(debit, debit_kind)
    if contract != contract_of(credit, credit_kind):
        return f"legs on {ContractId(contract)} and {ContractId(contract_of(credit, credit_kind))}"
    wants = KIND_BASIS if code in BASIS_CODES else KIND_QTY
    if debit_kind != wants or credit_kind != wants:
        return f"{code.name} between the wrong kind of accounts"
    expected_ledger = (contract & PRODUCT_MASK) + (1 if wants == KIND_BASIS else 0)
    if transfer.ledger != expected_ledger:
        return f"ledger {transfer.ledger}, contract {ContractId(contract)} needs {expected_ledger}"
    return None


def check_p4(view: LedgerView) -> list[Violation]:
    """Qty/basis transfers stay within one contract and its ledger; money is USD-only."""
    known = view.decoder.known
    found = []
    for transfer in view.inputs.transfers:
        # Fast accept: both legs of one learned half of the kind the code wants, on the
        # ledger that half names (its low 32 bits: product, product + 1 or USD's 1).
        debit, credit = transfer.debit_account_id, transfer.credit_account_id
        low = debit & LOW64_MASK
        if (
            low == credit & LOW64_MASK
            and transfer.ledger == low & PRODUCT_MASK
            and known.get(low, UNDECODABLE) == _WANTED_KIND.get(transfer.code)
            and MIN_OWNED_ID <= debit <= U128_MAX
            and MIN_OWNED_ID <= credit <= U128_MAX
        ):
            continue
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
    """Every violation of G1-G3, U1-U5, P1-P4, in that order; empty means healthy.

    Linear in the size of the inputs; the cyclic collector is paused for the duration
    (``cyclic_gc_paused``), since the fold builds no reference cycles.
    """
    with cyclic_gc_paused():
        view = LedgerView.of(inputs)
        return [violation for check in CHECKS for violation in check(view)]
