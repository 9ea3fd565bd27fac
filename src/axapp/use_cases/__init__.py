"""The application's use cases, one module per area, each taking the principal first and
deciding through the one gateway (audited): see ``docs/use_cases.md``."""

from __future__ import annotations

from axapp.exchange import Exchange
from axapp.gateway import Gateway
from axapp.stores import Stores
from axapp.use_cases.base import Context
from axapp.use_cases.directory import DirectoryUseCases
from axapp.use_cases.identity import IdentityUseCases, LimitUseCases
from axapp.use_cases.membership import MembershipUseCases
from axapp.use_cases.money import MoneyUseCases
from axapp.use_cases.operator import OperatorUseCases
from axapp.use_cases.orders import OrderUseCases
from axapp.use_cases.reads import ReadUseCases
from axdomain.cache import SessionStore


class Application:
    """Every use case over one set of stores, one ledger-backed exchange and one gateway."""

    def __init__(
        self, *, stores: Stores, exchange: Exchange, sessions: SessionStore, pepper: bytes
    ) -> None:
        self.stores = stores
        self.exchange = exchange
        self.gateway_pepper = pepper
        self.gateway = Gateway(stores, sessions, pepper)
        context = Context(stores, self.gateway, exchange, pepper)
        self.identity = IdentityUseCases(context)
        self.limits = LimitUseCases(context)
        self.membership = MembershipUseCases(context)
        self.orders = OrderUseCases(context)
        self.money = MoneyUseCases(context)
        self.reads = ReadUseCases(context)
        self.operator = OperatorUseCases(context, sessions.create)
        self.directory = DirectoryUseCases(context)


__all__ = ["Application"]
