"""The exchange use cases over the ledger: listing, funding of accounts, order intake,
fills, funding, expiry settlement, the delist fence and the invariant report.

Every posting goes through a planner (the write-side guards), then the ledger port as one
linked batch; the risk state folds only what the ledger committed, and each committed
event stamps every touched account with its next sequence number from the allocator.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence

import attrs

from axapp.edge import resolve_account_id
from axapp.gateway import Gateway, Request
from axapp.stores import Stores
from axapp.venue import Match, MatchingBook
from axdomain.accounts import Account
from axdomain.contracts import ContractDate, ContractId, ProductId
from axdomain.errors import DomainError, NotFound
from axdomain.ids import SYSTEM_ACCOUNTS, AccountId
from axdomain.ledger.events import split_chains
from axdomain.ledger.invariants import (
    AccountFlagChange,
    InvariantInputs,
    Violation,
    check_all_invariants,
)
from axdomain.ledger.ownership import OwnLedgerScan, scan_own_ledger
from axdomain.ledger.planners import (
    DelistFence,
    FillSide,
    delist_fence,
    plan_contract_system_accounts,
    plan_deposit,
    plan_fill,
    plan_funding,
    plan_position_accounts,
    plan_settlement,
    plan_system_usd_accounts,
    plan_usd_account,
    plan_withdrawal,
    require_delistable,
    split_batches,
)
from axdomain.ledger.port import CreateTransferResult, LedgerPort
from axdomain.ledger.risk import RiskState
from axdomain.ledger.sequencing import (
    PositionRecord,
    SequenceStamp,
    TransactionRecord,
    records_for_chain,
    stamp_chain,
)
from axdomain.ledger.values import LedgerAccount, Transfer
from axdomain.membership import Principal
from axdomain.orders import Order, OrderStatus, Side, TimeInForce
from axdomain.permissions import Action
from axdomain.ports import ProductRepository, SequenceAllocator
from axdomain.products import Instrument, Product

BPS = 10_000
INITIAL_MARGIN_BPS = 1_000  # 10 % of the order's notional must be free cash on the account


class SequenceMismatch(DomainError):
    """At start, the durable sequence allocator disagrees with the ledger's event count."""


def historic_stamps(transfers: Sequence[Transfer]) -> list[SequenceStamp]:
    """The stamps earned by every committed event so far, rebuilt from the ledger scan in
    commit order (each linked chain is one event per touched account)."""
    state = RiskState()
    return [stamp for chain in split_chains(transfers) for stamp in state.apply_chain(chain)]


def require_allocator_agrees(
    risk: RiskState, sequences: SequenceAllocator, registered: Sequence[Account]
) -> None:
    """Restart check: the allocator must have issued exactly as many numbers per account as
    the ledger holds events for it; a gap or an excess would break U2 from now on. Every
    account the ledger or the registry knows is checked (a lost ledger shows up as an
    allocator that is ahead)."""
    accounts = set(risk.last_sequence) | {a.account_id for a in registered}
    for account_id in sorted(accounts):
        last = risk.last_sequence.get(account_id, 0)
        allocated = sequences.last_allocated(account_id)
        if allocated != last:
            raise SequenceMismatch(
                "sequence_number", allocated, f"{account_id}: the ledger holds {last} events"
            )


class LedgerRejected(DomainError):
    """The ledger refused a batch; nothing of it was applied."""


class OrderRejected(DomainError):
    """Order intake refused an order before it reached the venue."""


@attrs.frozen
class Committed:
    transfers: tuple[Transfer, ...]
    stamps: tuple[SequenceStamp, ...]
    positions: tuple[PositionRecord, ...]
    transactions: tuple[TransactionRecord, ...]


class Exchange:
    def __init__(
        self,
        *,
        stores: Stores,
        products: ProductRepository,
        sequences: SequenceAllocator,
        ledger: LedgerPort,
        gateway: Gateway,
    ) -> None:
        self.stores = stores
        self.products = products
        self.sequences = sequences
        self.ledger = ledger
        self.gateway = gateway
        self.book = MatchingBook()
        scan = self.own_ledger_scan()
        self.risk = RiskState.resume(scan.accounts, scan.transfers)
        self.stamps: list[SequenceStamp] = historic_stamps(scan.transfers)
        require_allocator_agrees(self.risk, sequences, stores.accounts.list_accounts())
        self.flag_history: list[AccountFlagChange] = []
        self.records: list[PositionRecord | TransactionRecord] = []

    # ------------------------------------------------------------------ plumbing

    def own_ledger_scan(self) -> OwnLedgerScan:
        """This exchange's accounts and transfers only: a shared cluster's others are skipped."""
        return scan_own_ledger(
            self.ledger,
            products=self.products.list_products(),
            accounts=self.stores.accounts.list_accounts(),
        )

    def _transfer_ids(self) -> Iterator[int]:
        base = self.stores.ids.new_id() << 64
        return (base | n for n in itertools.count(1))

    def _create_accounts(self, accounts: Sequence[LedgerAccount]) -> None:
        """Create a planned (linked) group once: all present is a no-op, a partial group is
        a broken ledger and fails loudly rather than being patched up."""
        found = {a.id for a in self.ledger.lookup_accounts([a.id for a in accounts])}
        if len(found) == len(accounts):
            return
        if found:
            raise LedgerRejected("ledger_account", min(found), "only part of a linked group exists")
        errors = self.ledger.create_accounts(accounts)
        if errors:
            first = errors[0]
            raise LedgerRejected("ledger_account", accounts[first.index].id, first.result.value)

    def _commit(self, batch: list[Transfer]) -> Committed:
        """Submit a plan in batches of whole chains (the ledger's batch limit); fold, stamp
        and record every chain the ledger committed, then report the first refusal."""
        stamps: list[SequenceStamp] = []
        positions: list[PositionRecord] = []
        transactions: list[TransactionRecord] = []
        committed: list[Transfer] = []
        refusal: LedgerRejected | None = None
        for part in split_batches(batch, self.ledger.batch_events_max):
            errors = self.ledger.create_transfers(part)
            failed = {e.index for e in errors}
            start = 0
            for chain in split_chains(part):
                indexes = range(start, start + len(chain))
                start += len(chain)
                if not failed.isdisjoint(indexes):
                    continue
                folded = self.risk.apply_chain(chain)
                chain_stamps = stamp_chain(chain, self.sequences)
                if chain_stamps != folded:  # the durable allocator must agree with the fold
                    raise SequenceMismatch("sequence_number", chain[0].id, "allocator != fold")
                chain_positions, chain_transactions = records_for_chain(
                    chain, chain_stamps, self.risk.position
                )
                stamps += chain_stamps
                positions += chain_positions
                transactions += chain_transactions
                committed += chain
            if errors and refusal is None:
                causes = [
                    e for e in errors if e.result is not CreateTransferResult.LINKED_EVENT_FAILED
                ]
                first = (causes or errors)[0]
                refusal = LedgerRejected("transfer", part[first.index].id, first.result.value)
        self.stamps += stamps
        self.records += [*positions, *transactions]
        if refusal is not None:
            raise refusal
        return Committed(tuple(committed), tuple(stamps), tuple(positions), tuple(transactions))

    def _account(self, account_id: AccountId) -> Account:
        account = self.stores.accounts.get_account(account_id)
        if account is None:
            raise NotFound("account_id", str(account_id), "no such account")
        return account

    # ------------------------------------------------------------------ setup

    def bootstrap(self) -> None:
        """System USD accounts on the ledger (the registry rows must already exist)."""
        system = [self._account(a) for a in SYSTEM_ACCOUNTS]
        self._create_accounts(plan_system_usd_accounts(system))

    def open_ledger_account(self, account: Account) -> None:
        self._create_accounts(plan_usd_account(account))
        self.record_flags(account)

    def record_flags(self, account: Account) -> None:
        self.flag_history.append(
            AccountFlagChange(
                account.account_id,
                self.stores.clock.now_ns(),
                account.is_frozen,
                account.is_close_only,
            )
        )

    def set_flags(self, account_id: AccountId, *, frozen: bool, close_only: bool) -> Account:
        account = attrs.evolve(
            self._account(account_id), is_frozen=frozen, is_close_only=close_only
        )
        self.stores.accounts.update_account(account)
        self.record_flags(account)
        return account

    def list_product(self, name: str) -> Product:
        return self.products.create_product(name, self.stores.clock.now_ns())

    def list_contract(
        self, symbol: str, product: ProductId, date: ContractDate, expiration_ns: int | None
    ) -> Instrument:
        instrument = Instrument(symbol, ContractId.new(product, date), expiration_ns)
        self.products.add_instrument(instrument)
        self._create_accounts(plan_contract_system_accounts(instrument.contract))
        return instrument

    # ------------------------------------------------------------------ money in and out

    def deposit(self, account_id: AccountId, amount_micro_usd: int) -> Committed:
        batch = plan_deposit(
            account=self._account(account_id),
            amount_micro_usd=amount_micro_usd,
            timestamp_ns=self.stores.clock.now_ns(),
            transfer_ids=self._transfer_ids(),
        )
        return self._commit(batch)

    def withdraw(self, account_id: AccountId, amount_micro_usd: int) -> Committed:
        batch = plan_withdrawal(
            account=self._account(account_id),
            amount_micro_usd=amount_micro_usd,
            timestamp_ns=self.stores.clock.now_ns(),
            transfer_ids=self._transfer_ids(),
        )
        return self._commit(batch)

    # ------------------------------------------------------------------ orders

    def place_order(
        self,
        principal: Principal,
        *,
        account_id: AccountId | None,
        contract: ContractId,
        side: Side,
        qty_lots: int,
        limit_price_micro_usd: int,
        client_order_id: str,
        time_in_force: TimeInForce = TimeInForce.GTC,
    ) -> tuple[Order, list[Committed]]:
        """Intake (authorize, margin, limits), record, match, and post every fill."""
        resolved = resolve_account_id(principal, account_id)
        position = self.risk.position(resolved, contract).qty_lots
        reducing = position * side.sign < 0 and qty_lots <= abs(position)
        action = Action.REDUCE_OR_CLOSE if reducing else Action.TRADE
        request_id = f"order:{resolved}:{client_order_id}"
        decided = self.gateway.decide(Request(request_id, principal, action, resolved))
        if not decided.decision.allowed:
            reason = decided.decision.reason.client_reason
            raise OrderRejected("account_id", str(resolved), f"denied: {reason.name}")
        account = self._account(resolved)
        if not reducing:
            self._check_margin_and_limits(account, contract, qty_lots, limit_price_micro_usd)
        order = Order(
            order_id=self.stores.ids.new_id(),
            account_id=resolved,
            user_id=principal.user_id,
            client_order_id=client_order_id,
            contract=contract,
            side=side,
            qty_lots=qty_lots,
            limit_price_micro_usd=limit_price_micro_usd,
            time_in_force=time_in_force,
            created_at_ns=self.stores.clock.now_ns(),
            reduce_only=reducing,
        )
        self.stores.orders.add_order(order)
        matches = self.book.submit(order)
        fills = [self._fill(match) for match in matches]
        if self.book.remaining(order.order_id) == 0:
            filled_lots = sum(m.qty_lots for m in matches)
            done = OrderStatus.FILLED if filled_lots == qty_lots else OrderStatus.CANCELLED
            self.stores.orders.set_status(order.order_id, done)
        return order, fills

    def _check_margin_and_limits(
        self, account: Account, contract: ContractId, qty_lots: int, price_micro_usd: int
    ) -> None:
        """Margin is per account (accounts are never netted): free cash must cover it."""
        notional = qty_lots * price_micro_usd
        if notional > account.limits.max_notional_micro_usd:
            raise OrderRejected("qty_lots", qty_lots, "order notional exceeds the account limit")
        required = notional * INITIAL_MARGIN_BPS // BPS
        if self.risk.usd(account.account_id) < required:
            raise OrderRejected(
                "qty_lots", qty_lots, f"needs {required} micro-USD of margin on the account"
            )
        open_contracts = {
            c for (a, c), q in self.risk.qty_lots.items() if a == account.account_id and q
        }
        if (
            contract not in open_contracts
            and len(open_contracts) >= account.limits.max_open_positions
        ):
            raise OrderRejected("contract", str(contract), "max open positions reached")

    def _fill(self, match: Match) -> Committed:
        maker, taker = match.maker, match.taker
        buy, sell = (maker, taker) if maker.side is Side.BUY else (taker, maker)
        self._create_accounts(plan_contract_system_accounts(buy.contract))
        for order in (buy, sell):
            self._create_accounts(plan_position_accounts(order.account_id, order.contract))
        batch = plan_fill(
            buy=self._side(buy, is_maker=buy is maker),
            sell=self._side(sell, is_maker=sell is maker),
            qty_lots=match.qty_lots,
            price_micro_usd=match.price_micro_usd,
            timestamp_ns=self.stores.clock.now_ns(),
            transfer_ids=self._transfer_ids(),
        )
        committed = self._commit(batch)
        if self.book.remaining(maker.order_id) == 0:
            self.stores.orders.set_status(maker.order_id, OrderStatus.FILLED)
        return committed

    def _side(self, order: Order, *, is_maker: bool) -> FillSide:
        account = self._account(order.account_id)
        position = self.risk.position(order.account_id, order.contract)
        return FillSide(account, order.contract, position, is_maker)

    def cancel(self, order_id: int) -> bool:
        order = self.stores.orders.get_order(order_id)
        if order is None or not self.book.cancel(order):
            return False
        self.stores.orders.set_status(order_id, OrderStatus.CANCELLED)
        return True

    # ------------------------------------------------------------------ contract lifecycle

    def customer_positions(self, contract: ContractId) -> dict[AccountId, int]:
        return {a: p.qty_lots for a, p in self.risk.holders(contract).items() if not a.is_reserved}

    def fund(self, contract: ContractId, mark_price_micro_usd: int, rate_ppb: int) -> Committed:
        batch = plan_funding(
            contract=contract,
            positions=self.customer_positions(contract),
            mark_price_micro_usd=mark_price_micro_usd,
            funding_rate_ppb=rate_ppb,
            timestamp_ns=self.stores.clock.now_ns(),
            transfer_ids=self._transfer_ids(),
            batch_events_max=self.ledger.batch_events_max,
        )
        return self._commit(batch)

    def settle_expiry(self, contract: ContractId, settlement_price_micro_usd: int) -> Committed:
        holders = {
            a: p for a, p in self.risk.holders(contract).items() if not a.is_reserved and p.qty_lots
        }
        batch = plan_settlement(
            contract=contract,
            settlement_price_micro_usd=settlement_price_micro_usd,
            positions=holders,
            timestamp_ns=self.stores.clock.now_ns(),
            transfer_ids=self._transfer_ids(),
        )
        return self._commit(batch)

    def delist_fence(self, contract: ContractId) -> DelistFence:
        date = contract.date.value
        return delist_fence(
            contract,
            qty_accounts=self.ledger.query_accounts(contract.qty_ledger, date),
            basis_accounts=self.ledger.query_accounts(contract.qty_ledger + 1, date),
            resting_orders=self.stores.orders.resting_orders(contract),
        )

    def delist(self, contract: ContractId) -> DelistFence:
        fence = self.delist_fence(contract)
        require_delistable(fence)
        return fence

    # ------------------------------------------------------------------ invariants

    def invariant_inputs(self) -> InvariantInputs:
        scan = self.own_ledger_scan()
        return InvariantInputs(
            ledger_accounts=scan.accounts,
            transfers=scan.transfers,
            accounts=list(self.stores.accounts.list_accounts()),
            flag_history=list(self.flag_history),
            orders=list(self.stores.orders.all_orders()),
            audit=list(self.stores.audit.all_records()),
            sequence_stamps=list(self.stamps),
        )

    def check_invariants(self) -> list[Violation]:
        return check_all_invariants(self.invariant_inputs())

    def resume_matches_live(self) -> bool:
        scan = self.own_ledger_scan()
        rebuilt = RiskState.resume(scan.accounts, scan.transfers)
        return rebuilt == self.risk
