"""The exchange engine behind the use cases: the ledger, the risk fold and the book.

It takes accounts the gateway already authorized; clients never call it directly (the use
cases in ``axapp.use_cases`` do, each with its principal and its audit record). Every
posting goes through a planner (the write-side guards), then the ledger port as one linked
batch; the risk state folds only what the ledger committed. Everything else about money is a
projection of the committed ledger (``axdomain.ledger.projection``): sequence numbers, records
and balances are written after each commit, keyed and idempotent, and caught up from the
ledger at start, so a crash anywhere never blocks a restart. Transfer ids derive from the
request's idempotency key (fills: from the taker order and its filled lots), so a retried
batch meets ``exists`` and is not posted twice.

Start-up cost: one scan and fold of the ledger (linear in its transfers), the pending fills,
and the resting orders of the log. Nothing grows in memory with the history except the risk
state (one entry per non-flat position and per account).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import attrs

from axapp.stores import Stores
from axapp.venue import Match, MatchingBook
from axdomain.accounts import Account
from axdomain.cache import RiskSnapshot, RiskSnapshotCache
from axdomain.contracts import ContractDate, ContractId, ProductId
from axdomain.errors import Conflict, DomainError, InvalidValue, NotFound
from axdomain.idempotency import derived_fill_transfer_ids
from axdomain.ids import SYSTEM_ACCOUNTS, AccountId
from axdomain.intake import (
    OrderRejected,
    check_opening_order,
    fill_raises_exposure,
    is_reducing,
    resting_margin_micro_usd,
)
from axdomain.ledger.events import Phase, phase_of, split_chains
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
    fee_micro_usd,
    plan_close_contract_accounts,
    plan_contract_system_accounts,
    plan_deposit,
    plan_fill,
    plan_funding,
    plan_internal_transfer,
    plan_position_accounts,
    plan_post_withdrawal,
    plan_reserve_withdrawal,
    plan_settlement,
    plan_system_usd_accounts,
    plan_usd_account,
    plan_void_withdrawal,
    require_delistable,
    require_transfer_ids_unique,
    split_batches,
)
from axdomain.ledger.port import CreateTransferResult, LedgerPort, TransferError
from axdomain.ledger.projection import (
    PendingFill,
    ProjectedChain,
    ProjectionCursor,
    batches,
    catch_up,
    project_chain,
)
from axdomain.ledger.risk import RiskState
from axdomain.ledger.values import LedgerAccount, Transfer, TransferCode
from axdomain.ledger_ids import derive_tb_usd_account_id
from axdomain.orders import Fill, Order, OrderStatus, Side, TimeInForce
from axdomain.products import Instrument, Product

__all__ = ["Committed", "Exchange", "LedgerRejected", "OrderRejected"]
RISK_SNAPSHOT_TTL_MS = 7 * 24 * 3600 * 1000
_RESOLVED = {  # the ledger's answer for a reservation resolved before -> what the caller sees
    CreateTransferResult.PENDING_TRANSFER_ALREADY_POSTED.value: "already posted",
    CreateTransferResult.PENDING_TRANSFER_ALREADY_VOIDED.value: "already voided",
    CreateTransferResult.PENDING_TRANSFER_EXPIRED.value: "expired",
}
MAX_FILLS_PER_SUBMIT = 10_000  # one order sweeps at most this many resting orders


class LedgerRejected(DomainError):
    """The ledger refused a batch; nothing of it was applied."""

    def __init__(self, field: str, value: object, problem: str, account: AccountId | None = None):
        super().__init__(field, value, problem)
        self.account = account


@attrs.frozen
class Committed:
    transfers: tuple[Transfer, ...]
    chains: tuple[ProjectedChain, ...]
    replayed: bool = False  # the ledger already held this batch (a retry)

    @property
    def transfer_ids(self) -> list[int]:
        return [t.id for t in self.transfers]


@attrs.frozen
class PlacedOrder:
    order: Order
    fills: tuple[Fill, ...]


class Exchange:
    def __init__(
        self, *, stores: Stores, ledger: LedgerPort, risk_cache: RiskSnapshotCache | None = None
    ) -> None:
        self.stores = stores
        self.ledger = ledger
        self.risk_cache = risk_cache
        self.book = MatchingBook()
        self._unprojected: list[ProjectedChain] = []
        transfers = self.own_ledger_scan().transfers
        cursor = stores.projections.cursor()
        self.risk, missing = catch_up(transfers, cursor)
        self._cursor = cursor
        self._unprojected = missing
        self.flush_projections()
        self._recover_pending_fills()
        self._rebuild_book()

    def own_ledger_scan(self) -> OwnLedgerScan:
        """This exchange's accounts and transfers only: a shared cluster's others are skipped
        (start-up cost follows the exchange's own ledgers, never the whole cluster)."""
        return scan_own_ledger(
            self.ledger,
            products=self.stores.products.list_products(),
            accounts=self.stores.accounts.list_accounts(),
        )

    def flush_projections(self) -> None:
        """Write every committed chain not yet projected, in commit order, each batch with
        its cursor in one transaction; a failure leaves the rest queued (and the next flush
        or the next start finishes it)."""
        while self._unprojected:
            chunk = next(batches(self._unprojected))
            last = chunk[-1].transfers[-1]
            projected = sum(len(c.transfers) for c in chunk)
            cursor = ProjectionCursor(self._cursor.transfers_projected + projected, last.id)
            self.stores.projections.project(chunk, cursor)
            self._cursor = cursor
            del self._unprojected[: len(chunk)]
            self._publish(chunk)

    def _publish(self, chains: Sequence[ProjectedChain]) -> None:
        if self.risk_cache is None:
            return
        touched = {account for chain in chains for account, _ in chain.usd_after}
        for account in sorted(touched):
            self.risk_cache.put(self.snapshot(account), RISK_SNAPSHOT_TTL_MS)

    def snapshot(self, account_id: AccountId) -> RiskSnapshot:
        usd = self.risk.usd(account_id)
        margin = resting_margin_micro_usd(self.stores.orders.resting_orders_for_account(account_id))
        return RiskSnapshot(
            account_id=account_id,
            symbol=None,
            equity_micro_usd=usd,
            initial_margin_micro_usd=margin,
            maintenance_margin_micro_usd=0,
            unrealized_pnl_micro_usd=0,
            as_of_ns=self.stores.clock.now_ns(),
        )

    def _recover_pending_fills(self) -> None:
        """A fill whose intent was written but whose outcome was not: the ledger decides.
        Its transfers exist -> apply it to the order log; they do not -> forget it."""
        for pending in self.stores.pending_fills.all_pending():
            found = self.ledger.lookup_transfers([pending.first_transfer_id])
            taker = self.stores.orders.get_order(pending.taker_order_id)
            maker = self.stores.orders.get_order(pending.maker_order_id)
            if (
                found
                and taker is not None
                and maker is not None
                and taker.filled_lots == pending.fill_key
            ):
                match = Match(maker, taker, pending.qty_lots, pending.price_micro_usd)
                self._apply_fill(match, maker, taker, found[0])
            self.stores.pending_fills.delete(pending.taker_order_id, pending.fill_key)

    def _rebuild_book(self) -> None:
        """Replay the log's open orders in placement order: one that crosses what is
        already on the book (its matching was cut short by a crash) is matched now; an
        immediate-or-cancel order never rests."""
        for instrument in self.stores.products.list_instruments():
            for order in self.stores.orders.resting_orders(instrument.contract):
                current = self._current(order)
                if not current.status.is_resting:
                    continue
                if current.remaining_lots == 0:  # filled, status not yet written: finish it
                    self._finish(current, OrderStatus.FILLED, None)
                    continue
                if current.time_in_force is TimeInForce.IOC or self.book.plan(current):
                    self.submit(current)
                else:
                    self.book.rest(current, current.remaining_lots)

    # ------------------------------------------------------------------ plumbing

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

    def commit(self, batch: list[Transfer]) -> Committed:
        """Post a plan in requests of whole linked chains (the ledger's batch limit). Every
        chain the ledger committed is folded and queued for projection; the first refusal
        is raised after. A request the ledger already holds (every leg ``exists``) is a
        retry: it was folded when it first committed (or at start), not again."""
        if not batch:
            return Committed((), ())
        require_transfer_ids_unique(batch)  # a duplicate id would make a leg vanish as "exists"
        committed: list[Transfer] = []
        chains: list[ProjectedChain] = []
        refusal: LedgerRejected | None = None
        replayed = True
        for part in split_batches(batch, self.ledger.batch_events_max):
            errors = self.ledger.create_transfers(part)
            if errors and len(errors) == len(part):
                earlier = self._replayed(part)
                if earlier is not None:
                    committed += earlier
                    continue
            replayed = False
            failed = {e.index for e in errors}
            start = 0
            for chain in split_chains(part):
                indexes = range(start, start + len(chain))
                start += len(chain)
                if failed.isdisjoint(indexes):
                    chains.append(project_chain(self.risk, chain))
                    committed += chain
            if errors and refusal is None:
                refusal = self._rejection(part, errors)
        if chains:
            self._unprojected += chains
            self.stores.uow.after(self.flush_projections)
        if refusal is not None:
            raise refusal
        return Committed(tuple(committed), tuple(chains), replayed=replayed)

    def _replayed(self, batch: list[Transfer]) -> tuple[Transfer, ...] | None:
        """The committed batch a retry re-planned, or None. A retry plans the same legs
        with the same derived ids but a later planning time (``user_data_64``), so the
        ledger says ``exists_with_different_user_data_64``: the committed transfers are
        read back and compared field by field, planning time aside."""
        found = {t.id: t for t in self.ledger.lookup_transfers([t.id for t in batch])}
        if len(found) != len(batch):
            return None
        committed = tuple(found[t.id] for t in batch)
        for planned, stored in zip(batch, committed, strict=True):
            same = attrs.evolve(planned, user_data_64=stored.user_data_64, timestamp=0)
            if same != attrs.evolve(stored, timestamp=0):
                return None
        return committed

    @staticmethod
    def _rejection(batch: list[Transfer], errors: list[TransferError]) -> LedgerRejected:
        causes = [e for e in errors if e.result is not CreateTransferResult.LINKED_EVENT_FAILED]
        first = (causes or errors)[0]
        failed = batch[first.index]
        return LedgerRejected(
            "transfer", failed.id, first.result.value, AccountId(failed.debit_account_id >> 64)
        )

    def account(self, account_id: AccountId) -> Account:
        account = self.stores.accounts.get_account(account_id)
        if account is None:
            raise NotFound("account_id", str(account_id), "no such account")
        return account

    # ------------------------------------------------------------------ setup

    def bootstrap(self) -> None:
        """System USD accounts on the ledger (the registry rows must already exist)."""
        system = [self.account(a) for a in SYSTEM_ACCOUNTS]
        self._create_accounts(plan_system_usd_accounts(system))

    def open_ledger_account(self, account: Account) -> None:
        """The USD ledger account, and the first entry of the account's flag history."""
        self._create_accounts(plan_usd_account(account))
        self.stores.flag_history.append(
            AccountFlagChange(
                account.account_id, account.created_at_ns, account.is_frozen, account.is_close_only
            )
        )

    def set_flags(self, account: Account, *, frozen: bool, close_only: bool) -> Account:
        """Flags change on the account; freezing cancels its resting orders."""
        changed = attrs.evolve(account, is_frozen=frozen, is_close_only=close_only)
        self.stores.accounts.update_account(changed)
        self.stores.flag_history.append(
            AccountFlagChange(account.account_id, self.stores.clock.now_ns(), frozen, close_only)
        )
        if frozen:
            for order in self.stores.orders.resting_orders_for_account(account.account_id):
                self.cancel(order, "account frozen")
        return changed

    def list_product(self, name: str) -> Product:
        return self.stores.products.create_product(name, self.stores.clock.now_ns())

    def list_instrument(
        self, symbol: str, product: ProductId, date: ContractDate, expiration_ns: int | None
    ) -> Instrument:
        instrument = Instrument(symbol, ContractId.new(product, date), expiration_ns)
        self.stores.products.add_instrument(instrument)
        self._create_accounts(plan_contract_system_accounts(instrument.contract))
        return instrument

    # ------------------------------------------------------------------ money in and out

    def deposit(self, account: Account, amount_micro_usd: int, ids: Iterator[int]) -> Committed:
        return self.commit(
            plan_deposit(
                account=account,
                amount_micro_usd=amount_micro_usd,
                timestamp_ns=self.stores.clock.now_ns(),
                transfer_ids=ids,
            )
        )

    def withdraw(self, account: Account, amount_micro_usd: int, ids: Iterator[int]) -> Committed:
        """Reserve a withdrawal: a pending transfer to custody that holds the amount until an
        operator posts it (the payment left) or voids it (the payment failed). Its transfer
        id is the withdrawal's id. No timeout: a reservation never lapses behind the risk
        fold's back."""
        return self.commit(
            plan_reserve_withdrawal(
                account=account,
                amount_micro_usd=amount_micro_usd,
                timestamp_ns=self.stores.clock.now_ns(),
                transfer_ids=ids,
            )
        )

    def resolve_withdrawal(
        self, account: Account, withdrawal_id: int, *, post: bool, ids: Iterator[int]
    ) -> Committed:
        """Post or void the account's pending withdrawal ``withdrawal_id``.

        The ledger is asked, not the risk state: a retry whose first attempt committed
        meets its own transfer (``exists``) and replays, while a withdrawal already resolved
        by another request is a ``Conflict``."""
        found = self.ledger.lookup_transfers([withdrawal_id])
        owner = derive_tb_usd_account_id(account.account_id)
        if not found or found[0].debit_account_id != owner:
            raise NotFound("withdrawal_id", f"{withdrawal_id:032x}", "no such withdrawal")
        pending = found[0]
        if pending.code != TransferCode.WITHDRAWAL or phase_of(pending) is not Phase.PENDING:
            raise InvalidValue("withdrawal_id", f"{withdrawal_id:032x}", "not a pending withdrawal")
        plan = plan_post_withdrawal if post else plan_void_withdrawal
        batch = plan(pending=pending, timestamp_ns=self.stores.clock.now_ns(), transfer_ids=ids)
        try:
            return self.commit(batch)
        except LedgerRejected as refused:
            if refused.problem in _RESOLVED:
                raise Conflict(
                    "withdrawal_id", f"{withdrawal_id:032x}", _RESOLVED[refused.problem]
                ) from None
            raise

    def transfer(
        self, source: Account, destination: Account, amount_micro_usd: int, ids: Iterator[int]
    ) -> Committed:
        return self.commit(
            plan_internal_transfer(
                source=source,
                destination=destination,
                amount_micro_usd=amount_micro_usd,
                timestamp_ns=self.stores.clock.now_ns(),
                transfer_ids=ids,
            )
        )

    def free_cash_micro_usd(self, account_id: AccountId) -> int:
        """USD net of what pending withdrawals hold and of the margin held by the account's
        resting opening orders."""
        resting = self.stores.orders.resting_orders_for_account(account_id)
        return self.risk.available(account_id) - resting_margin_micro_usd(resting)

    # ------------------------------------------------------------------ orders

    def open_contracts(self, account_id: AccountId) -> set[ContractId]:
        return {c for (a, c), q in self.risk.qty_lots.items() if a == account_id and q}

    def positions(self, account_id: AccountId) -> dict[ContractId, tuple[int, int]]:
        """(qty lots, basis micro-USD) per contract of one account, non-flat only."""
        keys = {c for (a, c) in self.risk.qty_lots if a == account_id}
        keys |= {c for (a, c) in self.risk.basis_micro_usd if a == account_id}
        return {
            c: (
                self.risk.position(account_id, c).qty_lots,
                self.risk.position(account_id, c).basis_micro_usd,
            )
            for c in sorted(keys)
        }

    def classify(self, account_id: AccountId, contract: ContractId, side: Side, qty: int) -> bool:
        """Is this order reducing, net of the account's other resting reducing orders?"""
        position = self.risk.position(account_id, contract).qty_lots
        resting = sum(
            o.remaining_lots
            for o in self.stores.orders.resting_orders_for_account(account_id)
            if o.contract == contract and o.reduce_only and o.side is side
        )
        return is_reducing(position, resting, side, qty)

    def check_opening(self, account: Account, contract: ContractId, order: Order) -> None:
        open_contracts = self.open_contracts(account.account_id)
        check_opening_order(
            account=account,
            qty_lots=order.qty_lots,
            price_micro_usd=order.limit_price_micro_usd,
            free_cash_micro_usd=self.free_cash_micro_usd(account.account_id),
            open_contracts=len(open_contracts),
            opens_new_contract=contract not in open_contracts,
        )

    def submit(self, order: Order) -> PlacedOrder:
        """Match a recorded order, one fill at a time: the fill's intent is written, the
        ledger posts it, then the order log, the fill rows and the book move together. A
        fill refused because of one side cancels that side's order with the reason."""
        fills: list[Fill] = []
        taker = self._current(order)
        for _ in range(MAX_FILLS_PER_SUBMIT):
            matches = self.book.plan(taker)
            if not matches:
                break
            match = matches[0]
            maker = self._current(match.maker)
            if maker.account_id == taker.account_id:
                # Self-trade prevention: an account never trades with itself; the older
                # (resting) order gives way, the taker goes on matching.
                self.cancel(maker, "self-trade prevention")
                continue
            refused = self._guard(maker, taker, match.qty_lots)
            reason = "fill would raise a reduce-only or close-only position"
            qty_transfer: Transfer | None = None
            if refused is None:
                try:
                    qty_transfer = self._post_fill(match, maker, taker)
                except LedgerRejected as error:
                    refused = maker if error.account == maker.account_id else taker
                    reason = f"fill refused by the ledger: {error.problem}"
            if qty_transfer is None:
                if refused is maker:
                    self.cancel(maker, reason)
                    continue
                taker = self._finish(taker, OrderStatus.CANCELLED, reason)
                return PlacedOrder(taker, tuple(fills))
            taker, taker_fill = self._apply_fill(match, maker, taker, qty_transfer)
            fills.append(taker_fill)
        if taker.remaining_lots == 0:
            taker = self._finish(taker, OrderStatus.FILLED, None)
        elif taker.time_in_force is TimeInForce.GTC:
            self.book.rest(taker, taker.remaining_lots)
        else:
            taker = self._finish(taker, OrderStatus.CANCELLED, "immediate-or-cancel remainder")
        return PlacedOrder(taker, tuple(fills))

    def _apply_fill(
        self, match: Match, maker: Order, taker: Order, qty_transfer: Transfer
    ) -> tuple[Order, Fill]:
        """A committed fill reaches the order log, the fill log and the book together."""
        maker_fill, taker_fill = self._fills(match, maker, taker, qty_transfer)
        filled = taker.filled_lots + match.qty_lots
        status = OrderStatus.FILLED if filled == taker.qty_lots else taker.status
        taker = attrs.evolve(taker, filled_lots=filled, status=status)
        with self.stores.uow.transaction():
            self._progress(maker, match.qty_lots)
            self.stores.orders.update_order(taker)
            self.stores.fills.add_fill(maker_fill)
            self.stores.fills.add_fill(taker_fill)
            if self.book.is_resting(maker.order_id):
                self.stores.uow.on_commit(lambda: self.book.apply(match))
        self.stores.pending_fills.delete(taker.order_id, taker.filled_lots - match.qty_lots)
        return taker, taker_fill

    def _current(self, order: Order) -> Order:
        return self.stores.orders.get_order(order.order_id) or order

    def _guard(self, maker: Order, taker: Order, qty: int) -> Order | None:
        """Re-check at fill time: no fill raises |qty| of a reduce-only order or of a
        close-only account; the frozen/close-only flags are read now, not at intake."""
        for order in (maker, taker):
            account = self.account(order.account_id)
            if account.is_frozen:
                return order
            position = self.risk.position(order.account_id, order.contract).qty_lots
            if (order.reduce_only or account.is_close_only) and fill_raises_exposure(
                position, order.side.sign * qty
            ):
                return order
        return None

    def _post_fill(self, match: Match, maker: Order, taker: Order) -> Transfer:
        """Write the fill's intent durably, then post it; returns the committed qty leg."""
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
            transfer_ids=derived_fill_transfer_ids(taker.order_id, taker.filled_lots),
        )
        self.stores.pending_fills.put(
            PendingFill(
                taker.order_id,
                taker.filled_lots,
                maker.order_id,
                match.qty_lots,
                match.price_micro_usd,
                batch[0].id,
            )
        )
        self.commit(batch)
        return batch[0]

    def _side(self, order: Order, *, is_maker: bool) -> FillSide:
        account = self.account(order.account_id)
        position = self.risk.position(order.account_id, order.contract)
        return FillSide(account, order.contract, position, is_maker)

    def _fills(
        self, match: Match, maker: Order, taker: Order, transfer: Transfer
    ) -> tuple[Fill, Fill]:
        qty_transfer = transfer.id
        notional = match.qty_lots * match.price_micro_usd

        def fill(order: Order, is_maker: bool) -> Fill:
            fees = self.account(order.account_id).fees
            bps = fees.maker_fee_bps if is_maker else fees.taker_fee_bps
            return Fill(
                order_id=order.order_id,
                qty_transfer_id=qty_transfer,
                account_id=order.account_id,
                contract=order.contract,
                side=order.side,
                qty_lots=match.qty_lots,
                price_micro_usd=match.price_micro_usd,
                fee_micro_usd=fee_micro_usd(notional, bps),
                is_maker=is_maker,
                at_ns=transfer.user_data_64,
            )

        return fill(maker, True), fill(taker, False)

    def _progress(self, maker: Order, qty: int) -> None:
        filled = maker.filled_lots + qty
        status = OrderStatus.FILLED if filled == maker.qty_lots else OrderStatus.OPEN
        self.stores.orders.update_order(attrs.evolve(maker, filled_lots=filled, status=status))

    def _finish(self, order: Order, status: OrderStatus, reason: str | None) -> Order:
        done = attrs.evolve(order, status=status, status_reason=reason)
        self.stores.orders.update_order(done)
        return done

    def cancel(self, order: Order, reason: str) -> Order:
        """Close a resting order in the log; it leaves the book once that is durable."""
        current = self._current(order)
        done = self._finish(current, OrderStatus.CANCELLED, reason)

        def off_the_book() -> None:
            self.book.cancel(current)

        self.stores.uow.on_commit(off_the_book)
        return done

    # ------------------------------------------------------------------ contract lifecycle

    def customer_positions(self, contract: ContractId) -> dict[AccountId, int]:
        return {a: p.qty_lots for a, p in self.risk.holders(contract).items() if not a.is_reserved}

    def fund(
        self, contract: ContractId, mark_price_micro_usd: int, rate_ppb: int, ids: Iterator[int]
    ) -> Committed:
        batch = plan_funding(
            contract=contract,
            positions=self.customer_positions(contract),
            mark_price_micro_usd=mark_price_micro_usd,
            funding_rate_ppb=rate_ppb,
            timestamp_ns=self.stores.clock.now_ns(),
            transfer_ids=ids,
            batch_events_max=self.ledger.batch_events_max,
        )
        return self.commit(batch)

    def settle_expiry(
        self, contract: ContractId, settlement_price_micro_usd: int, ids: Iterator[int]
    ) -> Committed:
        holders = {
            a: p for a, p in self.risk.holders(contract).items() if not a.is_reserved and p.qty_lots
        }
        batch = plan_settlement(
            contract=contract,
            settlement_price_micro_usd=settlement_price_micro_usd,
            positions=holders,
            timestamp_ns=self.stores.clock.now_ns(),
            transfer_ids=ids,
        )
        return self.commit(batch)

    def delist_fence(self, contract: ContractId) -> DelistFence:
        date = contract.date.value
        return delist_fence(
            contract,
            qty_accounts=self.ledger.query_accounts(contract.qty_ledger, date),
            basis_accounts=self.ledger.query_accounts(contract.qty_ledger + 1, date),
            resting_orders=self.stores.orders.resting_orders(contract),
        )

    def delist(self, instrument: Instrument, ids: Iterator[int]) -> Instrument:
        """Once the fence passes: mark the instrument delisted (no more orders), then close
        every qty and basis account of the contract on the ledger with closing transfers,
        so nothing can post to them again. Re-running finishes a run cut short."""
        contract = instrument.contract
        require_delistable(self.delist_fence(contract))
        delisted = self.stores.products.mark_delisted(instrument.symbol, self.stores.clock.now_ns())
        date = contract.date.value
        closing = plan_close_contract_accounts(
            contract,
            qty_accounts=self.ledger.query_accounts(contract.qty_ledger, date),
            basis_accounts=self.ledger.query_accounts(contract.qty_ledger + 1, date),
            resting_orders=self.stores.orders.resting_orders(contract),
            timestamp_ns=self.stores.clock.now_ns(),
            transfer_ids=ids,
        )
        self.commit(closing)
        return delisted

    # ------------------------------------------------------------------ invariants

    def invariant_inputs(self) -> InvariantInputs:
        scan = self.own_ledger_scan()
        return InvariantInputs(
            ledger_accounts=scan.accounts,
            transfers=scan.transfers,
            accounts=list(self.stores.accounts.list_accounts()),
            flag_history=self.flag_history(),
            orders=list(self.stores.orders.all_orders()),
            audit=list(self.stores.audit.all_records()),
            sequence_stamps=list(self.stores.projections.stamps()),
        )

    def flag_history(self) -> list[AccountFlagChange]:
        """The stored history; an account registered without one (a system account, a row
        written by a migration) counts with its current flags from its creation on."""
        changes = list(self.stores.flag_history.all_changes())
        known = {c.account_id for c in changes}
        for account in self.stores.accounts.list_accounts():
            if account.account_id not in known:
                changes.append(
                    AccountFlagChange(
                        account.account_id,
                        account.created_at_ns,
                        account.is_frozen,
                        account.is_close_only,
                    )
                )
        return changes

    def check_invariants(self) -> list[Violation]:
        return check_all_invariants(self.invariant_inputs())

    def resume_matches_live(self) -> bool:
        scan = self.own_ledger_scan()
        return RiskState.resume(scan.accounts, scan.transfers) == self.risk

    def book_matches_log(self) -> bool:
        """The order log's resting orders are exactly the book's, with the same remainder."""
        resting = [
            o
            for i in self.stores.products.list_instruments()
            for o in self.stores.orders.resting_orders(i.contract)
        ]
        if {o.order_id for o in resting} != self.book.resting_ids():
            return False
        return all(self.book.remaining(o.order_id) == o.remaining_lots for o in resting)
