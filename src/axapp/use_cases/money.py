"""Money movement: deposits from custody (operator), withdrawals and transfers (TRANSFER).

Every request carries an idempotency key scoped to its account; the ledger transfer ids
derive from it, so a retry after any failure finds the first attempt's transfers.
"""

from __future__ import annotations

from axapp.gateway import Authorized
from axapp.use_cases import args
from axapp.use_cases.base import Context
from axapp.use_cases.views import MoneyMoved, PendingWithdrawals
from axdomain.errors import InvalidValue
from axdomain.idempotency import derived_transfer_ids
from axdomain.ids import AccountId
from axdomain.intake import InsufficientFunds
from axdomain.membership import Principal
from axdomain.permissions import Action

U127_MAX = (1 << 127) - 1


class MoneyUseCases:
    def __init__(self, context: Context) -> None:
        self._c = context

    def deposit(
        self,
        operator: Principal,
        account_id: object,
        amount_micro_usd: object,
        idempotency_key: object,
    ) -> MoneyMoved:
        """Credit a customer account from AX_CUSTODY (operators only)."""
        idempotency_key = args.idempotency_key(idempotency_key)
        account = args.account_id("account_id", account_id)
        amount = args.positive("amount_micro_usd", amount_micro_usd, U127_MAX)

        def effect(authorized: Authorized) -> MoneyMoved:
            if not authorized.account.is_customer:
                raise InvalidValue("account_id", str(account), "not a customer account")

            def compute(key: str) -> MoneyMoved:
                ids = derived_transfer_ids(account, key)
                committed = self._c.exchange.deposit(authorized.account, amount, ids)
                return MoneyMoved(tuple(committed.transfer_ids), amount)

            return self._c.idempotent(
                account,
                idempotency_key,
                "deposit",
                {"amount_micro_usd": amount},
                compute,
                MoneyMoved.from_dict,
            )

        return self._c.gateway.run(operator, Action.DEPOSIT, account, effect)

    def withdraw(
        self,
        principal: Principal,
        *,
        account_id: object = None,
        amount_micro_usd: object,
        idempotency_key: object,
    ) -> MoneyMoved:
        """Reserve USD for a payment out of custody; needs TRANSFER and free cash (net of
        resting orders' margin and of earlier pending withdrawals). The answer's one
        transfer id is the withdrawal's id; the amount stays held until an operator posts
        or voids it (``post_withdrawal`` / ``void_withdrawal``)."""
        idempotency_key = args.idempotency_key(idempotency_key)
        account = args.optional_account_id("account_id", account_id)
        amount = args.positive("amount_micro_usd", amount_micro_usd, U127_MAX)

        def effect(authorized: Authorized) -> MoneyMoved:
            source = authorized.account

            def compute(key: str) -> MoneyMoved:
                self._require_free(source.account_id, amount)
                ids = derived_transfer_ids(source.account_id, key)
                committed = self._c.exchange.withdraw(source, amount, ids)
                return MoneyMoved(tuple(committed.transfer_ids), amount)

            return self._c.idempotent(
                source.account_id,
                idempotency_key,
                "withdraw",
                {"amount_micro_usd": amount},
                compute,
                MoneyMoved.from_dict,
            )

        return self._c.gateway.run(principal, Action.TRANSFER, account, effect)

    def post_withdrawal(
        self,
        operator: Principal,
        account_id: object,
        withdrawal_id: object,
        idempotency_key: object,
    ) -> MoneyMoved:
        """The payment left custody: post the account's pending withdrawal (operators)."""
        return self._resolve(operator, account_id, withdrawal_id, idempotency_key, post=True)

    def void_withdrawal(
        self,
        operator: Principal,
        account_id: object,
        withdrawal_id: object,
        idempotency_key: object,
    ) -> MoneyMoved:
        """The payment failed or was cancelled: void the pending withdrawal, so the amount
        is free cash again (operators)."""
        return self._resolve(operator, account_id, withdrawal_id, idempotency_key, post=False)

    def pending_withdrawals(self, operator: Principal, account_id: object) -> PendingWithdrawals:
        """The account's withdrawals still waiting for a post or a void (operators)."""
        account = args.account_id("account_id", account_id)

        def effect(authorized: Authorized) -> PendingWithdrawals:
            held = self._c.exchange.risk.reservations_of(account)
            return PendingWithdrawals(account, tuple(held.items()))

        return self._c.gateway.run(operator, Action.RESOLVE_WITHDRAWAL, account, effect)

    def _resolve(
        self,
        operator: Principal,
        account_id: object,
        withdrawal_id: object,
        idempotency_key: object,
        *,
        post: bool,
    ) -> MoneyMoved:
        idempotency_key = args.idempotency_key(idempotency_key)
        account = args.account_id("account_id", account_id)
        withdrawal = args.transfer_id("withdrawal_id", withdrawal_id)
        kind = "post_withdrawal" if post else "void_withdrawal"

        def effect(authorized: Authorized) -> MoneyMoved:
            def compute(key: str) -> MoneyMoved:
                ids = derived_transfer_ids(account, key)
                committed = self._c.exchange.resolve_withdrawal(
                    authorized.account, withdrawal, post=post, ids=ids
                )
                return MoneyMoved(tuple(committed.transfer_ids), committed.transfers[0].amount)

            body: dict[str, object] = {"withdrawal_id": f"{withdrawal:032x}"}
            return self._c.idempotent(
                account, idempotency_key, kind, body, compute, MoneyMoved.from_dict
            )

        return self._c.gateway.run(operator, Action.RESOLVE_WITHDRAWAL, account, effect)

    def transfer(
        self,
        principal: Principal,
        *,
        from_account_id: object,
        to_account_id: object,
        amount_micro_usd: object,
        idempotency_key: object,
    ) -> MoneyMoved:
        """USD between two customer accounts: TRANSFER on the source, READ on the
        destination (both decisions audited), one INTERNAL_TRANSFER on the USD ledger."""
        idempotency_key = args.idempotency_key(idempotency_key)
        source_id = args.account_id("from_account_id", from_account_id)
        destination_id = args.account_id("to_account_id", to_account_id)
        amount = args.positive("amount_micro_usd", amount_micro_usd, U127_MAX)
        if source_id == destination_id:
            raise InvalidValue("to_account_id", str(destination_id), "same as from_account_id")
        gateway = self._c.gateway

        def effect(authorized: Authorized) -> MoneyMoved:
            source = authorized.account
            destination = gateway.run(principal, Action.READ, destination_id, lambda a: a.account)

            def compute(key: str) -> MoneyMoved:
                self._require_free(source.account_id, amount)
                ids = derived_transfer_ids(source.account_id, key)
                committed = self._c.exchange.transfer(source, destination, amount, ids)
                return MoneyMoved(tuple(committed.transfer_ids), amount)

            body = {"amount_micro_usd": amount, "to_account_id": str(destination_id)}
            return self._c.idempotent(
                source_id, idempotency_key, "transfer", body, compute, MoneyMoved.from_dict
            )

        return gateway.run(principal, Action.TRANSFER, source_id, effect)

    def _require_free(self, account_id: AccountId, amount: int) -> None:
        free = self._c.exchange.free_cash_micro_usd(account_id)
        if free < amount:
            raise InsufficientFunds("amount_micro_usd", amount, f"free cash is {free} micro-USD")
