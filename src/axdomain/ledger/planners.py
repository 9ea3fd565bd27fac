"""Posting planners: each business event becomes exactly one linked batch of transfers.

A planner is the single choke point every posting goes through, so the write-side guards
live here: a batch that would break an invariant is refused with a typed error naming the
field and value, and nothing is emitted. Planners are pure: positions come in from the risk
state, transfer ids from the caller's id source, time as an argument.

Signed amounts become unsigned transfers by choosing the direction: a positive change to an
account credits it, a negative one debits it (net = credits - debits). Zero-amount legs are
left out. Every batch but a single transfer is one linked chain: all legs except the last
carry ``LINKED``, so the ledger applies the batch all or nothing. See docs/ledger.md for the
worked examples and the rounding decisions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence

import attrs

from axdomain._checks import require_int, require_range
from axdomain.accounts import Account
from axdomain.contracts import ContractId
from axdomain.errors import Conflict, InvalidValue
from axdomain.ids import SYSTEM_ACCOUNTS, AccountId
from axdomain.ledger.events import decode_ref, split_chains
from axdomain.ledger.port import TIGERBEETLE_BATCH_EVENTS_MAX
from axdomain.ledger.position import Position, div_toward_zero, fill_effect, sign
from axdomain.ledger.values import (
    U32_MAX,
    U64_MAX,
    U128_MAX,
    USD_LEDGER,
    AccountFlags,
    LedgerAccount,
    LedgerAccountCode,
    Transfer,
    TransferCode,
    TransferFlags,
    pack_price_qty,
)
from axdomain.ledger_ids import (
    derive_tb_account_id,
    derive_tb_basis_account_id,
    derive_tb_usd_account_id,
)
from axdomain.orders import Order

BPS_DENOMINATOR = 10_000
PPB_DENOMINATOR = 1_000_000_000
MAX_FUNDING_RATE_PPB = PPB_DENOMINATOR  # |rate| <= 100 % per funding interval
PNL = SYSTEM_ACCOUNTS.AX_PNL
FEES = SYSTEM_ACCOUNTS.AX_FEES
CUSTODY = SYSTEM_ACCOUNTS.AX_CUSTODY
FUNDING = SYSTEM_ACCOUNTS.AX_FUNDING
SETTLEMENT = SYSTEM_ACCOUNTS.AX_SETTLEMENT
# The longest linked chain any planner emits (a fill: the qty leg and three legs per side):
# the smallest batch limit the exchange can run with.
CHAIN_EVENTS_MAX = 7


@attrs.frozen
class _Leg:
    """A signed posting to ``account_tb_id`` against ``counter_tb_id`` before direction."""

    code: TransferCode
    account_tb_id: int
    counter_tb_id: int
    signed_amount: int  # > 0 credits account_tb_id, < 0 debits it
    ledger: int
    user_data_128: int
    user_data_32: int


def _amount(field: str, value: int) -> int:
    """Every magnitude must fit u128 before it becomes a transfer amount."""
    if abs(value) > U128_MAX:
        raise InvalidValue(field, value, "does not fit a u128 transfer amount")
    return value


def _batch(legs: Sequence[_Leg], transfer_ids: Iterator[int], timestamp_ns: int) -> list[Transfer]:
    """Turn signed legs into one linked chain of unsigned transfers (zero legs dropped)."""
    live = [leg for leg in legs if leg.signed_amount != 0]
    batch: list[Transfer] = []
    for index, leg in enumerate(live):
        if leg.signed_amount > 0:
            debit, credit = leg.counter_tb_id, leg.account_tb_id
        else:
            debit, credit = leg.account_tb_id, leg.counter_tb_id
        last = index == len(live) - 1
        batch.append(
            Transfer(
                id=next(transfer_ids),
                debit_account_id=debit,
                credit_account_id=credit,
                amount=abs(leg.signed_amount),
                ledger=leg.ledger,
                code=leg.code,
                flags=TransferFlags.NONE if last else TransferFlags.LINKED,
                user_data_128=leg.user_data_128,
                user_data_64=timestamp_ns,
                user_data_32=leg.user_data_32,
            )
        )
    return batch


def _chains(
    legs_per_unit: Sequence[Sequence[_Leg]], transfer_ids: Iterator[int], timestamp_ns: int
) -> list[Transfer]:
    """One linked chain per economic unit, concatenated (empty units left out)."""
    planned: list[Transfer] = []
    for legs in legs_per_unit:
        planned += _batch(legs, transfer_ids, timestamp_ns)
    return planned


def split_batches(transfers: Sequence[Transfer], batch_events_max: int) -> list[list[Transfer]]:
    """Pack consecutive whole linked chains into batches of at most ``batch_events_max``
    events, in order: a chain (an economic unit, applied all or nothing) is never cut.

    ``InvalidValue`` if one chain alone is longer than the limit (or the plan ends inside an
    open chain): no batching could submit it atomically.
    """
    require_range("batch_events_max", batch_events_max, 1, TIGERBEETLE_BATCH_EVENTS_MAX)
    batches: list[list[Transfer]] = []
    current: list[Transfer] = []
    for chain in split_chains(transfers):
        if len(chain) > batch_events_max:
            raise InvalidValue(
                "batch_events_max", batch_events_max, f"a chain of {len(chain)} events needs more"
            )
        if len(current) + len(chain) > batch_events_max:
            batches.append(current)
            current = []
        current += chain
    if current:
        batches.append(current)
    return batches


def _require_customer(field: str, account: Account) -> None:
    if not account.is_customer:
        raise InvalidValue(field, account.account_id, "must be a customer account")


def _require_product_contract(contract: object) -> ContractId:
    if not isinstance(contract, ContractId):
        raise InvalidValue("contract", contract, "must be a ContractId")
    if contract.is_usd:
        raise InvalidValue("contract", contract.value, "USD is not a tradable contract")
    return contract


# --------------------------------------------------------------------------------- fills


@attrs.frozen
class FillSide:
    """One side of a fill: the account (with its fee schedule and flags), the contract its
    order named, its position before the fill (from the risk state) and maker/taker."""

    account: Account
    contract: ContractId
    position: Position
    is_maker: bool


def fee_micro_usd(notional_micro_usd: int, fee_bps: int) -> int:
    """Fee of a side, rounded toward zero: sub-micro-USD dust is never charged or paid.

    A positive result is charged to the account; a negative one (a maker rebate) is paid
    to it by AX_FEES.
    """
    return div_toward_zero(notional_micro_usd * fee_bps, BPS_DENOMINATOR)


def _guard_fill_side(name: str, side: FillSide, signed_qty: int) -> None:
    _require_customer(f"{name}.account", side.account)
    if side.account.is_frozen:
        raise InvalidValue(f"{name}.account.is_frozen", True, "a frozen account cannot fill")
    after = side.position.qty_lots + signed_qty
    if side.account.is_close_only and abs(after) > abs(side.position.qty_lots):
        raise InvalidValue(
            f"{name}.account.is_close_only", True, f"fill would raise |qty| to {abs(after)}"
        )


def _side_legs(
    side: FillSide, signed_qty: int, price: int, *, notional: int, udata128: int, date: int
) -> list[_Leg]:
    account = side.account.account_id
    contract = side.contract
    effect = fill_effect(side.position, signed_qty, price)
    fees = side.account.fees
    fee = fee_micro_usd(notional, fees.maker_fee_bps if side.is_maker else fees.taker_fee_bps)
    basis_change = _amount("basis_change_micro_usd", effect.basis_change_micro_usd)
    pnl = _amount("realized_pnl_micro_usd", effect.realized_pnl_micro_usd)
    _amount("fee_micro_usd", fee)
    usd = derive_tb_usd_account_id(account)
    return [
        _Leg(
            TransferCode.TRADE_BASIS,
            derive_tb_basis_account_id(account, contract),
            derive_tb_basis_account_id(PNL, contract),
            basis_change,
            contract.qty_ledger + 1,
            udata128,
            date,
        ),
        _Leg(
            TransferCode.REALIZED_PNL,
            usd,
            derive_tb_usd_account_id(PNL),
            pnl,
            USD_LEDGER,
            udata128,
            date,
        ),
        _Leg(
            TransferCode.FEE, usd, derive_tb_usd_account_id(FEES), -fee, USD_LEDGER, udata128, date
        ),
    ]


def plan_fill(
    *,
    buy: FillSide,
    sell: FillSide,
    qty_lots: int,
    price_micro_usd: int,
    timestamp_ns: int,
    transfer_ids: Iterator[int],
) -> list[Transfer]:
    """The linked batch of one fill of ``qty_lots`` at ``price_micro_usd``.

    Order: the qty leg (seller -> buyer), then per side (buyer first) basis change against
    AX_PNL's basis account, realized PnL against AX_PNL's USD account, fee against AX_FEES.
    PnL precedes the fee so a side's credit lands before its debit within the chain.
    """
    qty = require_range("qty_lots", qty_lots, 1, U64_MAX)
    price = require_range("price_micro_usd", price_micro_usd, 1, U64_MAX)
    require_range("timestamp_ns", timestamp_ns, 0, U64_MAX)
    contract = _require_product_contract(buy.contract)
    if sell.contract != contract:
        raise InvalidValue(
            "sell.contract", sell.contract.value, f"must equal buy.contract {contract.value}"
        )
    if sell.account.account_id == buy.account.account_id:
        raise InvalidValue("sell.account_id", str(sell.account.account_id), "same as buyer")
    _guard_fill_side("buy", buy, qty)
    _guard_fill_side("sell", sell, -qty)
    notional = _amount("notional_micro_usd", price * qty)
    udata128 = pack_price_qty(price, qty)
    date = contract.date.value
    buyer, seller = buy.account.account_id, sell.account.account_id
    legs = [
        _Leg(
            TransferCode.TRADE_QTY,
            derive_tb_account_id(buyer, contract),
            derive_tb_account_id(seller, contract),
            qty,
            contract.qty_ledger,
            udata128,
            date,
        ),
        *_side_legs(buy, qty, price, notional=notional, udata128=udata128, date=date),
        *_side_legs(sell, -qty, price, notional=notional, udata128=udata128, date=date),
    ]
    return _batch(legs, transfer_ids, timestamp_ns)


# ------------------------------------------------------------------ deposits, withdrawals


def _custody_leg(
    code: TransferCode, account: Account, signed_amount: int, timestamp_ns: int
) -> _Leg:
    _require_customer("account", account)
    require_range("timestamp_ns", timestamp_ns, 0, U64_MAX)
    return _Leg(
        code,
        derive_tb_usd_account_id(account.account_id),
        derive_tb_usd_account_id(CUSTODY),
        signed_amount,
        USD_LEDGER,
        0,
        0,
    )


def plan_deposit(
    *, account: Account, amount_micro_usd: int, timestamp_ns: int, transfer_ids: Iterator[int]
) -> list[Transfer]:
    """AX_CUSTODY -> the account's USD account (one transfer, so no LINKED flag)."""
    amount = require_range("amount_micro_usd", amount_micro_usd, 1, U128_MAX)
    leg = _custody_leg(TransferCode.DEPOSIT, account, amount, timestamp_ns)
    return _batch([leg], transfer_ids, timestamp_ns)


def plan_withdrawal(
    *, account: Account, amount_micro_usd: int, timestamp_ns: int, transfer_ids: Iterator[int]
) -> list[Transfer]:
    """The account's USD account -> AX_CUSTODY; the ledger refuses an overdraft
    (``exceeds_credits``) because customer USD accounts carry
    ``debits_must_not_exceed_credits``."""
    amount = require_range("amount_micro_usd", amount_micro_usd, 1, U128_MAX)
    leg = _custody_leg(TransferCode.WITHDRAWAL, account, -amount, timestamp_ns)
    return _batch([leg], transfer_ids, timestamp_ns)


def plan_internal_transfer(
    *,
    source: Account,
    destination: Account,
    amount_micro_usd: int,
    timestamp_ns: int,
    transfer_ids: Iterator[int],
) -> list[Transfer]:
    """USD from one customer account to another: one INTERNAL_TRANSFER on the USD ledger.

    The source's ``debits_must_not_exceed_credits`` makes the ledger refuse an overdraft.
    """
    _require_customer("source", source)
    _require_customer("destination", destination)
    if source.account_id == destination.account_id:
        raise InvalidValue("to_account_id", str(destination.account_id), "same as the source")
    amount = require_range("amount_micro_usd", amount_micro_usd, 1, U128_MAX)
    require_range("timestamp_ns", timestamp_ns, 0, U64_MAX)
    leg = _Leg(
        TransferCode.INTERNAL_TRANSFER,
        derive_tb_usd_account_id(destination.account_id),
        derive_tb_usd_account_id(source.account_id),
        amount,
        USD_LEDGER,
        0,
        0,
    )
    return _batch([leg], transfer_ids, timestamp_ns)


def plan_reserve_withdrawal(
    *,
    account: Account,
    amount_micro_usd: int,
    timestamp_ns: int,
    transfer_ids: Iterator[int],
    timeout_s: int = 0,
) -> list[Transfer]:
    """Reserve a withdrawal: one PENDING WITHDRAWAL, the account's USD -> AX_CUSTODY.

    Nothing is posted; the amount moves into the account's ``debits_pending`` (and custody's
    ``credits_pending``), which the ledger counts against ``debits_must_not_exceed_credits``:
    a reservation above the free cash fails with ``exceeds_credits``, and while it stands
    free cash is ``LedgerAccount.available`` (posted net minus debits pending). The
    transfer's id identifies the withdrawal for ``plan_post_withdrawal`` /
    ``plan_void_withdrawal``. ``timeout_s`` 0 (the default) holds it until an operator posts
    or voids it; a timeout makes the ledger release it on its own, with no transfer to
    fold, so the exchange keeps 0.
    """
    amount = require_range("amount_micro_usd", amount_micro_usd, 1, U128_MAX)
    timeout = require_range("timeout_s", timeout_s, 0, U32_MAX)
    leg = _custody_leg(TransferCode.WITHDRAWAL, account, -amount, timestamp_ns)
    [reserve] = _batch([leg], transfer_ids, timestamp_ns)
    return [attrs.evolve(reserve, flags=TransferFlags.PENDING, timeout=timeout)]


def _resolve_withdrawal(
    pending: Transfer, flag: TransferFlags, timestamp_ns: int, transfer_ids: Iterator[int]
) -> list[Transfer]:
    if not isinstance(pending, Transfer):
        raise InvalidValue("pending", pending, "must be the reserving Transfer")
    if pending.code != TransferCode.WITHDRAWAL or pending.flags != TransferFlags.PENDING:
        raise InvalidValue("pending", pending.id, "is not a pending withdrawal")
    require_range("timestamp_ns", timestamp_ns, 0, U64_MAX)
    return [
        Transfer(
            id=next(transfer_ids),
            debit_account_id=pending.debit_account_id,
            credit_account_id=pending.credit_account_id,
            amount=pending.amount,
            ledger=pending.ledger,
            code=pending.code,
            flags=flag,
            user_data_64=timestamp_ns,
            pending_id=pending.id,
        )
    ]


def plan_post_withdrawal(
    *, pending: Transfer, timestamp_ns: int, transfer_ids: Iterator[int]
) -> list[Transfer]:
    """The payment left: post the whole reservation (POST_PENDING_TRANSFER of
    ``pending.id``), which moves it into the posted balances and releases the reserve.
    The ledger answers ``pending_transfer_already_posted`` / ``_voided`` / ``_expired`` for
    a reservation already resolved."""
    return _resolve_withdrawal(
        pending, TransferFlags.POST_PENDING_TRANSFER, timestamp_ns, transfer_ids
    )


def plan_void_withdrawal(
    *, pending: Transfer, timestamp_ns: int, transfer_ids: Iterator[int]
) -> list[Transfer]:
    """The payment failed or was cancelled: void the reservation; nothing is posted and the
    amount is free cash again."""
    return _resolve_withdrawal(
        pending, TransferFlags.VOID_PENDING_TRANSFER, timestamp_ns, transfer_ids
    )


# -------------------------------------------------------------------------------- funding


def funding_payment_micro_usd(qty_lots: int, mark_price_micro_usd: int, rate_ppb: int) -> int:
    """Signed amount the position pays (> 0) or receives (< 0) this interval.

    Exact value ``q * mark * rate / 1e9``; a payer's amount is rounded up (away from zero)
    and a receiver's toward zero, so the rounding residue always stays with AX_FUNDING and
    is never negative: the venue never pays out more funding than it collected.
    """
    exact_numerator = qty_lots * mark_price_micro_usd * rate_ppb
    if exact_numerator > 0:
        return -(-exact_numerator // PPB_DENOMINATOR)
    return div_toward_zero(exact_numerator, PPB_DENOMINATOR)


def plan_funding(
    *,
    contract: ContractId,
    positions: Mapping[AccountId, int],
    mark_price_micro_usd: int,
    funding_rate_ppb: int,
    timestamp_ns: int,
    transfer_ids: Iterator[int],
    batch_events_max: int = TIGERBEETLE_BATCH_EVENTS_MAX,
) -> list[Transfer]:
    """One funding interval of a perpetual against AX_FUNDING.

    ``positions`` maps each customer account to its net qty (lots). With a positive rate
    longs pay and shorts receive. The residue (sum paid - sum received, between 0 and the
    number of positions in micro-USD) accrues in AX_FUNDING. Returns ``[]`` when nothing
    moves (all positions flat or rate zero).

    One linked chain when the legs fit ``batch_events_max``; otherwise consecutive chains of
    at most that many legs (each position's payment is one leg, so no payment is split;
    ``split_batches`` then gives one chain per batch).
    """
    require_range("batch_events_max", batch_events_max, 1, TIGERBEETLE_BATCH_EVENTS_MAX)
    contract = _require_product_contract(contract)
    if not contract.is_perp:
        raise InvalidValue("contract", contract.value, "funding applies to perpetuals only")
    mark = require_range("mark_price_micro_usd", mark_price_micro_usd, 1, U64_MAX)
    rate = require_range(
        "funding_rate_ppb", funding_rate_ppb, -MAX_FUNDING_RATE_PPB, MAX_FUNDING_RATE_PPB
    )
    require_range("timestamp_ns", timestamp_ns, 0, U64_MAX)
    legs: list[_Leg] = []
    for account_id, qty_lots in sorted(positions.items()):
        if account_id.is_reserved:
            raise InvalidValue("positions", str(account_id), "system accounts pay no funding")
        qty = require_range(f"positions[{account_id}]", qty_lots, -U64_MAX, U64_MAX)
        payment = _amount("funding_micro_usd", funding_payment_micro_usd(qty, mark, rate))
        legs.append(
            _Leg(
                TransferCode.FUNDING,
                derive_tb_usd_account_id(account_id),
                derive_tb_usd_account_id(FUNDING),
                -payment,
                USD_LEDGER,
                pack_price_qty(mark, abs(qty)),
                contract.date.value,
            )
        )
    live = [leg for leg in legs if leg.signed_amount != 0]
    units = [live[i : i + batch_events_max] for i in range(0, len(live), batch_events_max)]
    return _chains(units, transfer_ids, timestamp_ns)


# ------------------------------------------------------------------------------ settlement


def plan_settlement(
    *,
    contract: ContractId,
    settlement_price_micro_usd: int,
    positions: Mapping[AccountId, Position],
    timestamp_ns: int,
    transfer_ids: Iterator[int],
) -> list[Transfer]:
    """Final settlement of a dated contract at price ``S``: one linked chain per holder.

    Per open position ``(q0, B0)``: SETTLEMENT_QTY drives qty to zero against AX_SETTLEMENT,
    REALIZED_PNL ``S*q0 - B0`` against AX_PNL's USD account, BASIS_RESET ``-B0`` against
    AX_PNL's basis account, linked so each holder settles all or nothing. ``positions`` must
    list every holder (their qty must sum to zero), so once every chain has committed
    AX_SETTLEMENT is flat and AX_PNL's USD and basis have moved by the same amount (G1, G3).
    Between chains AX_PNL's USD and basis differ by ``S`` times the qty still unsettled; a
    chain the ledger refuses (a loser who cannot pay: ``exceeds_credits``) leaves that holder
    open and must be settled before G3 holds again. Submit with ``split_batches``.
    """
    contract = _require_product_contract(contract)
    if contract.is_perp:
        raise InvalidValue("contract", contract.value, "a perpetual has no expiry settlement")
    price = require_range("settlement_price_micro_usd", settlement_price_micro_usd, 1, U64_MAX)
    require_range("timestamp_ns", timestamp_ns, 0, U64_MAX)
    open_positions = {a: p for a, p in sorted(positions.items()) if not p.is_flat}
    for account_id, position in open_positions.items():
        if account_id.is_reserved:
            raise InvalidValue("positions", str(account_id), "only customer positions settle")
        if position.qty_lots == 0 or sign(position.qty_lots) != sign(position.basis_micro_usd):
            raise InvalidValue(f"positions[{account_id}]", position, "qty and basis disagree")
    total_qty = sum(p.qty_lots for p in open_positions.values())
    if total_qty != 0:
        raise InvalidValue("positions", total_qty, "net qty must be 0: list every holder")
    date = contract.date.value
    units: list[list[_Leg]] = []
    for account_id, position in open_positions.items():
        q0, b0 = position.qty_lots, position.basis_micro_usd
        udata128 = pack_price_qty(price, abs(q0))
        units.append(
            [
                _Leg(
                    TransferCode.SETTLEMENT_QTY,
                    derive_tb_account_id(account_id, contract),
                    derive_tb_account_id(SETTLEMENT, contract),
                    -q0,
                    contract.qty_ledger,
                    udata128,
                    date,
                ),
                _Leg(
                    TransferCode.REALIZED_PNL,
                    derive_tb_usd_account_id(account_id),
                    derive_tb_usd_account_id(PNL),
                    _amount("realized_pnl_micro_usd", price * q0 - b0),
                    USD_LEDGER,
                    udata128,
                    date,
                ),
                _Leg(
                    TransferCode.BASIS_RESET,
                    derive_tb_basis_account_id(account_id, contract),
                    derive_tb_basis_account_id(PNL, contract),
                    -b0,
                    contract.qty_ledger + 1,
                    udata128,
                    date,
                ),
            ]
        )
    return _chains(units, transfer_ids, timestamp_ns)


# ---------------------------------------------------------------------------- delist fence


@attrs.frozen
class DelistFence:
    """Whether ``contract`` may be delisted, and if not, every reason why."""

    contract: ContractId
    blockers: tuple[str, ...]

    @property
    def allowed(self) -> bool:
        return not self.blockers


def delist_fence(
    contract: ContractId,
    *,
    qty_accounts: Sequence[LedgerAccount],
    basis_accounts: Sequence[LedgerAccount],
    resting_orders: Sequence[Order],
) -> DelistFence:
    """Evaluate the fence from ``query_accounts(L, date)``, ``query_accounts(L+1, date)``
    and the resting orders of the contract (GTC included).

    An account returned by the query that does not decode to this contract (a wrong
    ``user_data_32`` mirror) blocks too: the sweep would otherwise miss a live position.
    """
    contract = _require_product_contract(contract)
    blockers: list[str] = []
    for expected_basis, accounts in ((False, qty_accounts), (True, basis_accounts)):
        for ledger_account in accounts:
            ref = decode_ref(ledger_account.id)
            if ref.contract != contract or ref.is_basis != expected_basis:
                blockers.append(f"account {ledger_account.id:#x} is not of {contract}")
            elif ledger_account.net != 0:
                kind = "basis" if expected_basis else "qty"
                blockers.append(f"{kind} of {ref.account_id} is {ledger_account.net}")
    blockers += [
        f"order {order.order_id} rests"
        for order in resting_orders
        if order.contract == contract and order.status.is_resting
    ]
    return DelistFence(contract, tuple(blockers))


def require_delistable(fence: DelistFence) -> None:
    if not fence.allowed:
        raise Conflict("contract", fence.contract.value, "; ".join(fence.blockers))


def _closing(
    contract: ContractId, code: TransferCode, timestamp_ns: int
) -> Callable[[int, int, TransferFlags, int], Transfer]:
    """Builder of the zero-amount pending closing transfers of one contract ledger."""
    ledger = contract.qty_ledger + (1 if code is TransferCode.BASIS_RESET else 0)

    def closing(debit_tb_id: int, credit_tb_id: int, flags: TransferFlags, tid: int) -> Transfer:
        return Transfer(
            id=tid,
            debit_account_id=debit_tb_id,
            credit_account_id=credit_tb_id,
            amount=0,
            ledger=ledger,
            code=code,
            flags=TransferFlags.PENDING | flags,
            user_data_64=timestamp_ns,
            user_data_32=contract.date.value,
        )

    return closing


def plan_close_contract_accounts(
    contract: ContractId,
    *,
    qty_accounts: Sequence[LedgerAccount],
    basis_accounts: Sequence[LedgerAccount],
    resting_orders: Sequence[Order],
    timestamp_ns: int,
    transfer_ids: Iterator[int],
) -> list[Transfer]:
    """Close every qty and basis account of a delisted contract so nothing posts to it again.

    Input as for ``delist_fence`` (the fence must pass, and no account may hold a pending
    balance). TigerBeetle closes an account with a zero-amount *pending* transfer flagged
    CLOSING_DEBIT / CLOSING_CREDIT (never posted; voiding it would reopen the account):

    * each account but the two counterparties: CLOSING_DEBIT against its counterparty
      (qty: SETTLEMENT_QTY to AX_SETTLEMENT's qty; basis: BASIS_RESET to AX_PNL's basis);
    * last, the counterparties together: AX_PNL's qty -> AX_SETTLEMENT's qty and
      AX_SETTLEMENT's basis -> AX_PNL's basis, each with both closing flags.

    Each transfer is its own event (no LINKED); accounts already closed are skipped, so a run
    cut short is finished by planning again. ``[]`` when everything is closed.
    """
    contract = _require_product_contract(contract)
    require_range("timestamp_ns", timestamp_ns, 0, U64_MAX)
    require_delistable(
        delist_fence(
            contract,
            qty_accounts=qty_accounts,
            basis_accounts=basis_accounts,
            resting_orders=resting_orders,
        )
    )
    planned: list[Transfer] = []
    for code, accounts, counter, twin in (
        (TransferCode.SETTLEMENT_QTY, qty_accounts, SETTLEMENT, PNL),
        (TransferCode.BASIS_RESET, basis_accounts, PNL, SETTLEMENT),
    ):
        derive = (
            derive_tb_basis_account_id if code is TransferCode.BASIS_RESET else derive_tb_account_id
        )
        ids = {owner: derive(owner, contract) for owner in (counter, twin)}
        for ledger_account in accounts:
            if ledger_account.debits_pending or ledger_account.credits_pending:
                raise Conflict("ledger_account", ledger_account.id, "holds a pending balance")
        open_ids = [a.id for a in accounts if not a.is_closed]
        closing = _closing(contract, code, timestamp_ns)
        for tb_id in open_ids:
            if tb_id not in ids.values():
                flags = TransferFlags.CLOSING_DEBIT
                planned.append(closing(tb_id, ids[counter], flags, next(transfer_ids)))
        system_open = [tb_id for tb_id in ids.values() if tb_id in open_ids]
        if len(system_open) == 1:
            raise Conflict("ledger_account", system_open[0], "its counterparty is already closed")
        if system_open:
            both = TransferFlags.CLOSING_DEBIT | TransferFlags.CLOSING_CREDIT
            planned.append(closing(ids[twin], ids[counter], both, next(transfer_ids)))
    return planned


# ------------------------------------------------------------------------ ledger accounts


def _linked_accounts(accounts: list[LedgerAccount]) -> list[LedgerAccount]:
    return [
        attrs.evolve(a, flags=a.flags | AccountFlags.LINKED) if i < len(accounts) - 1 else a
        for i, a in enumerate(accounts)
    ]


def plan_usd_account(account: Account) -> list[LedgerAccount]:
    """The account's USD ledger account; a customer's may never go below zero (U1)."""
    flags = AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS if account.is_customer else AccountFlags(0)
    return [
        LedgerAccount(
            id=derive_tb_usd_account_id(account.account_id),
            ledger=USD_LEDGER,
            code=LedgerAccountCode.USD,
            flags=flags,
        )
    ]


def plan_position_accounts(account_id: AccountId, contract: ContractId) -> list[LedgerAccount]:
    """Qty account + basis twin of ``(account, contract)``, linked, both mirroring the
    contract date in ``user_data_32`` so ``query_accounts(ledger, date)`` finds them (P3)."""
    contract = _require_product_contract(contract)
    if not isinstance(account_id, AccountId):
        raise InvalidValue("account_id", account_id, "must be an AccountId")
    date = contract.date.value
    return _linked_accounts(
        [
            LedgerAccount(
                id=derive_tb_account_id(account_id, contract),
                ledger=contract.qty_ledger,
                code=LedgerAccountCode.QTY,
                user_data_32=date,
            ),
            LedgerAccount(
                id=derive_tb_basis_account_id(account_id, contract),
                ledger=contract.qty_ledger + 1,
                code=LedgerAccountCode.BASIS,
                user_data_32=date,
            ),
        ]
    )


def plan_contract_system_accounts(contract: ContractId) -> list[LedgerAccount]:
    """The system positions a listed contract needs: AX_PNL (basis counterparty) and
    AX_SETTLEMENT (qty counterparty at expiry), each as a qty + basis pair."""
    pairs = [plan_position_accounts(system, contract) for system in (PNL, SETTLEMENT)]
    return _linked_accounts([attrs.evolve(a, flags=AccountFlags(0)) for p in pairs for a in p])


def plan_system_usd_accounts(system_accounts: Sequence[Account]) -> list[LedgerAccount]:
    """USD accounts of the system accounts (no overdraft flag: AX_PNL and AX_FUNDING may go
    negative by design)."""
    planned: list[LedgerAccount] = []
    for account in system_accounts:
        if account.is_customer:
            raise InvalidValue("system_accounts", str(account.account_id), "is a customer")
        planned += plan_usd_account(account)
    return _linked_accounts(planned)


def require_transfer_ids_unique(batch: Sequence[Transfer]) -> None:
    """Cheap pre-flight: a batch reusing an id would fail as a whole at the ledger."""
    seen: set[int] = set()
    for transfer in batch:
        require_int("id", transfer.id)
        if transfer.id in seen:
            raise Conflict("id", transfer.id, "transfer id used twice in one batch")
        seen.add(transfer.id)
