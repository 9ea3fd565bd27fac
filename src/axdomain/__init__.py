"""axdomain: the pure core of a multi-account exchange.

Identity (``UserId``: who acts), ownership (``AccountId``: whose money moves) and
membership (``Grant``: who may do what on which account) are separate types; every
money-touching request passes one ``authorize`` decision. This package imports only the
standard library and ``attrs`` and does no I/O.
"""

from __future__ import annotations

# Not ``typing.TYPE_CHECKING``: importing ``typing`` alone would double the cost of this
# module. Type checkers treat any name ``TYPE_CHECKING`` as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from axdomain.accounts import Account, AccountKind, AccountLimits, FeeSchedule
    from axdomain.api_keys import ApiKey, mint_api_key, parse_token, verify_secret
    from axdomain.audit import AuditRecord

    # Where each public name lives. ``import axdomain`` imports none of these modules (PEP 562
    # module ``__getattr__``): the first use of a name imports its home, so a process that needs
    # three value types does not pay for building every attrs class of the package at start-up.
    from axdomain.authorization import Decision, DenyReason, authorize, authorize_operator
    from axdomain.cache import RiskSnapshot, Session
    from axdomain.contracts import USD_ASSET_ID, ContractDate, ContractId, ProductId
    from axdomain.errors import (
        Conflict,
        DomainError,
        InvalidValue,
        KeyScopeError,
        NotFound,
        Unavailable,
        UnknownAction,
    )
    from axdomain.idempotency import IdempotencyRecord, derived_transfer_ids
    from axdomain.ids import SYSTEM_ACCOUNTS, AccountId, UserId
    from axdomain.intake import (
        InsufficientFunds,
        OrderRejected,
        is_reducing,
        margin_micro_usd,
    )
    from axdomain.ledger.events import LedgerEvent, TransferDecodeError, decode_transfer
    from axdomain.ledger.invariants import (
        AccountFlagChange,
        InvariantInputs,
        Violation,
        check_all_invariants,
    )
    from axdomain.ledger.planners import (
        DelistFence,
        FillSide,
        delist_fence,
        plan_contract_system_accounts,
        plan_deposit,
        plan_fill,
        plan_funding,
        plan_internal_transfer,
        plan_position_accounts,
        plan_settlement,
        plan_system_usd_accounts,
        plan_usd_account,
        plan_withdrawal,
        require_delistable,
    )
    from axdomain.ledger.position import Position
    from axdomain.ledger.risk import Reservation, RiskState
    from axdomain.ledger.sequencing import (
        PositionRecord,
        SequenceStamp,
        TransactionRecord,
        records_for_chain,
        stamp_chain,
    )
    from axdomain.ledger.values import TransferCode
    from axdomain.ledger_ids import (
        TbAccountRef,
        decode_tb_account_id,
        derive_tb_account_id,
        derive_tb_basis_account_id,
        derive_tb_usd_account_id,
    )
    from axdomain.membership import (
        ApiKeyPrincipal,
        CustomerPrincipal,
        Grant,
        OperatorPrincipal,
        Principal,
        User,
        UserSession,
    )
    from axdomain.membership_rules import MembershipRefused, check_grant, check_revoke
    from axdomain.operators import Operator, mint_operator
    from axdomain.orders import Fill, Order, OrderStatus, Side, TimeInForce
    from axdomain.paging import Page
    from axdomain.participant import (
        DEFAULT_PARTICIPANT_PREFIX,
        generate_participant,
        parse_participant,
        participant_path,
    )
    from axdomain.permissions import Action, Permissions
    from axdomain.products import Instrument, Product
    from axdomain.registry import (
        SEED_PERPETUALS,
        ProductIdSequence,
        SeedMismatch,
        SeedPerpetual,
        SymbolRegistry,
        check_against_seed,
        load_symbol_registry,
    )


# A name added to ``__all__`` needs its home here (tests/unit/test_import_cost.py checks).
_HOMES: dict[str, tuple[str, ...]] = {
    "axdomain.accounts": ("Account", "AccountKind", "AccountLimits", "FeeSchedule"),
    "axdomain.api_keys": ("ApiKey", "mint_api_key", "parse_token", "verify_secret"),
    "axdomain.audit": ("AuditRecord",),
    "axdomain.authorization": ("Decision", "DenyReason", "authorize", "authorize_operator"),
    "axdomain.cache": ("RiskSnapshot", "Session"),
    "axdomain.contracts": ("USD_ASSET_ID", "ContractDate", "ContractId", "ProductId"),
    "axdomain.errors": (
        "Conflict",
        "DomainError",
        "InvalidValue",
        "KeyScopeError",
        "NotFound",
        "Unavailable",
        "UnknownAction",
    ),
    "axdomain.idempotency": ("IdempotencyRecord", "derived_transfer_ids"),
    "axdomain.intake": ("InsufficientFunds", "OrderRejected", "is_reducing", "margin_micro_usd"),
    "axdomain.membership_rules": ("MembershipRefused", "check_grant", "check_revoke"),
    "axdomain.operators": ("Operator", "mint_operator"),
    "axdomain.paging": ("Page",),
    "axdomain.ids": ("SYSTEM_ACCOUNTS", "AccountId", "UserId"),
    "axdomain.ledger.events": ("LedgerEvent", "TransferDecodeError", "decode_transfer"),
    "axdomain.ledger.invariants": (
        "AccountFlagChange",
        "InvariantInputs",
        "Violation",
        "check_all_invariants",
    ),
    "axdomain.ledger.planners": (
        "DelistFence",
        "FillSide",
        "delist_fence",
        "plan_contract_system_accounts",
        "plan_deposit",
        "plan_fill",
        "plan_funding",
        "plan_internal_transfer",
        "plan_position_accounts",
        "plan_settlement",
        "plan_system_usd_accounts",
        "plan_usd_account",
        "plan_withdrawal",
        "require_delistable",
    ),
    "axdomain.ledger.position": ("Position",),
    "axdomain.ledger.risk": ("Reservation", "RiskState"),
    "axdomain.ledger.sequencing": (
        "PositionRecord",
        "SequenceStamp",
        "TransactionRecord",
        "records_for_chain",
        "stamp_chain",
    ),
    "axdomain.ledger.values": ("TransferCode",),
    "axdomain.ledger_ids": (
        "TbAccountRef",
        "decode_tb_account_id",
        "derive_tb_account_id",
        "derive_tb_basis_account_id",
        "derive_tb_usd_account_id",
    ),
    "axdomain.membership": (
        "ApiKeyPrincipal",
        "CustomerPrincipal",
        "Grant",
        "OperatorPrincipal",
        "Principal",
        "User",
        "UserSession",
    ),
    "axdomain.orders": ("Fill", "Order", "OrderStatus", "Side", "TimeInForce"),
    "axdomain.participant": (
        "DEFAULT_PARTICIPANT_PREFIX",
        "generate_participant",
        "parse_participant",
        "participant_path",
    ),
    "axdomain.permissions": ("Action", "Permissions"),
    "axdomain.products": ("Instrument", "Product"),
    "axdomain.registry": (
        "SEED_PERPETUALS",
        "ProductIdSequence",
        "SeedMismatch",
        "SeedPerpetual",
        "SymbolRegistry",
        "check_against_seed",
        "load_symbol_registry",
    ),
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}


def __getattr__(name: str) -> object:
    module = _HOME_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'axdomain' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(module), name)
    globals()[name] = value  # later lookups are plain module attributes
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = [
    "CustomerPrincipal",
    "Fill",
    "IdempotencyRecord",
    "InsufficientFunds",
    "MembershipRefused",
    "Operator",
    "OperatorPrincipal",
    "OrderRejected",
    "Page",
    "Unavailable",
    "authorize_operator",
    "check_grant",
    "check_revoke",
    "derived_transfer_ids",
    "is_reducing",
    "margin_micro_usd",
    "mint_operator",
    "plan_internal_transfer",
    "DEFAULT_PARTICIPANT_PREFIX",
    "SEED_PERPETUALS",
    "SYSTEM_ACCOUNTS",
    "USD_ASSET_ID",
    "Account",
    "AccountId",
    "AccountKind",
    "AccountLimits",
    "Action",
    "ApiKey",
    "ApiKeyPrincipal",
    "AuditRecord",
    "Conflict",
    "ContractDate",
    "ContractId",
    "Decision",
    "DenyReason",
    "DomainError",
    "FeeSchedule",
    "Grant",
    "Instrument",
    "InvalidValue",
    "KeyScopeError",
    "NotFound",
    "Order",
    "OrderStatus",
    "Permissions",
    "Principal",
    "Product",
    "ProductId",
    "ProductIdSequence",
    "RiskSnapshot",
    "SeedMismatch",
    "SeedPerpetual",
    "Session",
    "Side",
    "SymbolRegistry",
    "TbAccountRef",
    "TimeInForce",
    "TransferCode",
    "UnknownAction",
    "User",
    "UserId",
    "UserSession",
    "authorize",
    "check_against_seed",
    "decode_tb_account_id",
    "derive_tb_account_id",
    "derive_tb_basis_account_id",
    "derive_tb_usd_account_id",
    "generate_participant",
    "load_symbol_registry",
    "mint_api_key",
    "parse_participant",
    "parse_token",
    "participant_path",
    "verify_secret",
    "AccountFlagChange",
    "DelistFence",
    "FillSide",
    "InvariantInputs",
    "LedgerEvent",
    "Position",
    "PositionRecord",
    "Reservation",
    "RiskState",
    "SequenceStamp",
    "TransactionRecord",
    "TransferDecodeError",
    "Violation",
    "check_all_invariants",
    "decode_transfer",
    "delist_fence",
    "plan_contract_system_accounts",
    "plan_deposit",
    "plan_fill",
    "plan_funding",
    "plan_position_accounts",
    "plan_settlement",
    "plan_system_usd_accounts",
    "plan_usd_account",
    "plan_withdrawal",
    "records_for_chain",
    "require_delistable",
    "stamp_chain",
]
