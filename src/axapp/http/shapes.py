"""Answers built from domain values where no use-case view exists yet (wire shapes only)."""

from __future__ import annotations

from typing import Any

from axdomain.accounts import Account
from axdomain.api_keys import ApiKey
from axdomain.audit import AuditRecord
from axdomain.membership import Grant
from axdomain.permissions import Permissions
from axdomain.products import Instrument


def _flags(permissions: Permissions | None) -> list[str] | None:
    return None if permissions is None else permissions.wire_names()


def account_flags(account: Account) -> dict[str, Any]:
    return {
        "account_id": str(account.account_id),
        "is_frozen": account.is_frozen,
        "is_close_only": account.is_close_only,
    }


def limits_answer(account: Account) -> dict[str, Any]:
    limits = account.limits
    return {
        "account_id": str(account.account_id),
        "max_open_positions": limits.max_open_positions,
        "max_notional_micro_usd": limits.max_notional_micro_usd,
        "monthly_loss_limit_micro_usd": limits.monthly_loss_limit_micro_usd,
    }


def instrument_answer(instrument: Instrument) -> dict[str, Any]:
    contract = instrument.contract
    return {
        "symbol": instrument.symbol,
        "contract_id": contract.value,
        "product_id": contract.product.value,
        "contract_date": contract.date.value,
        "expiration_ns": instrument.expiration_ns,
        "delisted_at_ns": instrument.delisted_at_ns,
    }


def grant_answer(grant: Grant) -> dict[str, Any]:
    return {
        "account_id": str(grant.account_id),
        "user_id": str(grant.user_id),
        "permissions": grant.permissions.wire_names(),
    }


def key_answer(key: ApiKey, token: str) -> dict[str, Any]:
    return {
        "key_id": f"{key.key_id:016x}",
        "token": token,
        "account_id": str(key.account_id or key.user_id.as_default_account_id()),
        "permissions": key.scope.wire_names(),
        "expires_at_ns": key.expires_at_ns,
        "allowed_cidrs": list(key.allowed_cidrs),
    }


def audit_item(record: AuditRecord) -> dict[str, Any]:
    """One decision of the trail, with the deciding grant's flags as they were then."""
    operator = record.actor_operator_id
    return {
        "request_id": record.request_id,
        "at_ns": record.at_ns,
        "actor_user_id": None if record.actor_user_id is None else str(record.actor_user_id),
        "actor_operator_id": None if operator is None else f"{operator:016x}",
        "account_id": None if record.account_id is None else str(record.account_id),
        "action": record.action.value,
        "allowed": record.allowed,
        "reason": record.reason.value,
        "grant_permissions": _flags(record.grant_permissions),
        "key_id": None if record.key_id is None else f"{record.key_id:016x}",
        "key_scope": _flags(record.key_scope),
    }
