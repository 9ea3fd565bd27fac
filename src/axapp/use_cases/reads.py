"""Reads of one account each (READ): balances, positions, orders, fills, transactions and
the risk snapshot. Never an aggregate over several accounts; list reads are paged."""

from __future__ import annotations

from typing import Any

from axapp.gateway import Authorized
from axapp.use_cases import args
from axapp.use_cases.base import Context
from axapp.use_cases.views import FillView, OrderView, Page, hex128
from axdomain.ledger.events import Phase, decode_transfer
from axdomain.ledger_ids import derive_tb_usd_account_id
from axdomain.membership import Principal
from axdomain.orders import OrderStatus
from axdomain.paging import page_of, parse_cursor, parse_limit
from axdomain.permissions import Action

# How a transaction moves what pending withdrawals hold: a reservation adds, its post or
# void releases, every other transfer leaves it alone.
_HELD_SIGN = {Phase.PENDING: 1, Phase.POST: -1, Phase.VOID: -1}


class ReadUseCases:
    def __init__(self, context: Context) -> None:
        self._c = context

    def _read(self, principal: Principal, account_id: object, view: Any) -> Any:
        account = args.optional_account_id("account_id", account_id)
        return self._c.gateway.run(principal, Action.READ, account, view)

    def balances(self, principal: Principal, account_id: object = None) -> dict[str, Any]:
        exchange = self._c.exchange

        def view(a: Authorized) -> dict[str, Any]:
            account_id = a.account.account_id
            return {
                "account_id": str(account_id),
                "usd_micro_usd": exchange.risk.usd(account_id),
                "free_micro_usd": exchange.free_cash_micro_usd(account_id),
                "withdrawals_pending_micro_usd": exchange.risk.reserved(account_id),
            }

        result: dict[str, Any] = self._read(principal, account_id, view)
        return result

    def positions(self, principal: Principal, account_id: object = None) -> dict[str, Any]:
        exchange = self._c.exchange

        def view(a: Authorized) -> dict[str, Any]:
            held = exchange.positions(a.account.account_id)
            return {
                "account_id": str(a.account.account_id),
                "positions": [
                    {
                        "symbol": self._c.symbol_of(contract),
                        "contract_id": contract.value,
                        "qty_lots": qty,
                        "basis_micro_usd": basis,
                    }
                    for contract, (qty, basis) in held.items()
                ],
            }

        result: dict[str, Any] = self._read(principal, account_id, view)
        return result

    def orders(
        self,
        principal: Principal,
        account_id: object = None,
        *,
        status: object = None,
        limit: object = None,
        cursor: object = None,
    ) -> Page:
        wanted = None if status is None else args.enum_member("status", status, OrderStatus)
        size, after = parse_limit(limit), parse_cursor(cursor)

        def view(a: Authorized) -> Page:
            page = self._c.stores.orders.orders_for_account(
                a.account.account_id, status=wanted, after=after, limit=size
            )
            items = [OrderView(o, self._c.symbol_of(o.contract)).as_dict() for o in page.items]
            return Page(items, page.next_cursor)

        result: Page = self._read(principal, account_id, view)
        return result

    def fills(
        self,
        principal: Principal,
        account_id: object = None,
        *,
        limit: object = None,
        cursor: object = None,
    ) -> Page:
        size, after = parse_limit(limit), parse_cursor(cursor)

        def view(a: Authorized) -> Page:
            page = self._c.stores.fills.fills_for_account(
                a.account.account_id, after=after, limit=size
            )
            items = [FillView(f, self._c.symbol_of(f.contract)).as_dict() for f in page.items]
            return Page(items, page.next_cursor)

        result: Page = self._read(principal, account_id, view)
        return result

    def transactions(
        self,
        principal: Principal,
        account_id: object = None,
        *,
        limit: object = None,
        cursor: object = None,
    ) -> Page:
        """The account's USD movements, read from the ledger (the source of truth).

        ``amount_micro_usd`` is the signed change of the posted balance (the amounts sum to
        ``usd_micro_usd``); ``held_micro_usd`` the change of what pending withdrawals hold
        (+ on a reservation, - on its post or void; they sum to
        ``withdrawals_pending_micro_usd``). Withdrawals are always posted whole."""
        size, after = parse_limit(limit), parse_cursor(cursor)
        ledger = self._c.exchange.ledger

        def view(a: Authorized) -> Page:
            usd_id = derive_tb_usd_account_id(a.account.account_id)
            transfers = ledger.get_account_transfers(usd_id)
            rows = []
            for position, transfer in enumerate(transfers, start=1):
                if position <= after:
                    continue
                event = decode_transfer(transfer)
                sign = 1 if transfer.credit_account_id == usd_id else -1
                held = _HELD_SIGN.get(event.phase, 0)
                rows.append(
                    (
                        position,
                        {
                            "transfer_id": hex128(transfer.id),
                            "kind": event.kind.name.lower(),
                            "amount_micro_usd": sign * event.posted_amount,
                            "phase": event.phase.value,
                            "held_micro_usd": held * transfer.amount,
                            "at_ns": transfer.user_data_64,
                        },
                    )
                )
                if len(rows) > size:
                    break
            page = page_of(rows, size)
            return Page(list(page.items), page.next_cursor)

        result: Page = self._read(principal, account_id, view)
        return result

    def risk(self, principal: Principal, account_id: object = None) -> dict[str, Any]:
        exchange = self._c.exchange
        clock = self._c.stores.clock

        def view(a: Authorized) -> dict[str, Any]:
            account_id = a.account.account_id
            usd = exchange.risk.usd(account_id)
            free = exchange.free_cash_micro_usd(account_id)
            return {
                "account_id": str(account_id),
                "equity_micro_usd": usd,
                "free_micro_usd": free,
                "order_margin_micro_usd": exchange.risk.available(account_id) - free,
                "withdrawals_pending_micro_usd": exchange.risk.reserved(account_id),
                "open_positions": len(exchange.open_contracts(account_id)),
                "is_frozen": a.account.is_frozen,
                "is_close_only": a.account.is_close_only,
                "as_of_ns": clock.now_ns(),
            }

        result: dict[str, Any] = self._read(principal, account_id, view)
        return result
