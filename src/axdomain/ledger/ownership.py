"""Which ledger objects belong to this exchange: the start-up scan of a shared cluster.

A production TigerBeetle cluster is shared by many services, so the exchange never decodes
the whole cluster. It reads only its own ledgers — the USD ledger (1) and, per registered
product ``p``, the qty ledger ``p`` and the basis ledger ``p + 1`` — with ``query_accounts``
and ``query_transfers`` filters, and on those keeps only the accounts it owns: an id that
decodes (bit 63 clear, a valid contract), whose ``AccountId`` is registered (or a system
account), whose ledger is the one the id implies and whose product is registered. Everything
else is foreign and ignored: accounts of other ledgers are never read, and accounts or
transfers of other services on a shared ledger are counted and skipped.

A foreign transfer that moves one of the exchange's own accounts is not skipped: the
exchange's balances would include money it cannot account for, so the scan raises.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable

import attrs

from axdomain.accounts import Account
from axdomain.errors import Conflict, InvalidValue
from axdomain.ids import SYSTEM_ACCOUNTS, AccountId
from axdomain.ledger.events import decode_ref
from axdomain.ledger.port import LedgerPort
from axdomain.ledger.values import USD_LEDGER, LedgerAccount, Transfer
from axdomain.products import Product


@attrs.frozen
class OwnLedgerScan:
    """The exchange's own accounts (creation order) and transfers (commit order)."""

    accounts: tuple[LedgerAccount, ...]
    transfers: tuple[Transfer, ...]
    ledgers: tuple[int, ...]
    foreign_accounts: int
    foreign_transfers: int


def own_ledgers(products: Iterable[Product]) -> tuple[int, ...]:
    """USD, then each registered product's qty and basis ledgers, ascending."""
    ledgers = {USD_LEDGER}
    for product in products:
        ledgers |= {product.product_id.value, product.product_id.value + 1}
    return tuple(sorted(ledgers))


def is_own_account(
    account: LedgerAccount, owners: frozenset[AccountId], product_ids: frozenset[int]
) -> bool:
    """True for an account this exchange created (see the module docstring)."""
    try:
        ref = decode_ref(account.id)
    except InvalidValue:
        return False
    if ref.account_id not in owners or ref.ledger != account.ledger:
        return False
    return ref.contract.is_usd or ref.contract.product.value in product_ids


def scan_own_ledger(
    ledger: LedgerPort, *, products: Iterable[Product], accounts: Iterable[Account]
) -> OwnLedgerScan:
    """The start-up scan: only this exchange's ledgers, only its accounts and transfers.

    ``products``: the product registry; ``accounts``: the account registry. The cost is
    proportional to the objects on the exchange's own ledgers, never the whole cluster.
    ``Conflict`` if a foreign transfer moved one of the exchange's accounts.
    """
    product_list = list(products)
    product_ids = frozenset(p.product_id.value for p in product_list)
    owners = frozenset(a.account_id for a in accounts) | frozenset(SYSTEM_ACCOUNTS)
    ledgers = own_ledgers(product_list)
    own: list[LedgerAccount] = []
    foreign_accounts = 0
    for number in ledgers:
        for account in ledger.query_accounts(number):
            if is_own_account(account, owners, product_ids):
                own.append(account)
            else:
                foreign_accounts += 1
    own.sort(key=lambda a: a.timestamp)
    own_ids = frozenset(a.id for a in own)
    per_ledger = [ledger.query_transfers(number) for number in ledgers]
    transfers: list[Transfer] = []
    foreign_transfers = 0
    for transfer in heapq.merge(*per_ledger, key=lambda t: t.timestamp):
        sides = (transfer.debit_account_id in own_ids, transfer.credit_account_id in own_ids)
        if all(sides):
            transfers.append(transfer)
        elif any(sides):
            raise Conflict(
                "transfer", transfer.id, "moves an exchange account against a foreign one"
            )
        else:
            foreign_transfers += 1
    return OwnLedgerScan(tuple(own), tuple(transfers), ledgers, foreign_accounts, foreign_transfers)
