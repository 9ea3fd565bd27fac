"""The wire models: every request body and every answer, from which OpenAPI is generated.

Request bodies are strict: an unknown member is refused (a misspelt ``account_id`` must
never fall back to the default account), a number is never a string or a bool, enums are
lower case. Range rules stay in the use cases (one definition each); the models carry the
shapes, the id syntax (16 lower-case hex digits) and the text bounds.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from axdomain.idempotency import MAX_IDEMPOTENCY_KEY_LEN
from axdomain.orders import MAX_CLIENT_ORDER_ID_LEN

HEX16_PATTERN = r"^[0-9a-f]{16}$"
HEX32_PATTERN = r"^[0-9a-f]{32}$"
# Printable text: control characters (NUL above all) never reach a store.
TEXT_PATTERN = r"^[^\x00-\x1f\x7f]+$"
MAX_TEXT_LEN = 64
MAX_PERMISSION_NAMES = 7
MAX_CIDRS = 16

Hex16 = Annotated[str, Field(pattern=HEX16_PATTERN, examples=["0190f3a2b4c5d6e7"])]
Hex32 = Annotated[str, Field(pattern=HEX32_PATTERN)]
Text = Annotated[str, Field(min_length=1, max_length=MAX_TEXT_LEN, pattern=TEXT_PATTERN)]
ClientOrderId = Annotated[
    str, Field(min_length=1, max_length=MAX_CLIENT_ORDER_ID_LEN, pattern=TEXT_PATTERN)
]
IdempotencyKey = Annotated[
    str, Field(min_length=1, max_length=MAX_IDEMPOTENCY_KEY_LEN, pattern=TEXT_PATTERN)
]
PermissionName = Literal[
    "list", "read", "set_limits", "reduce_or_close", "trade", "transfer", "manage"
]
SideName = Literal["buy", "sell"]
TimeInForceName = Literal["gtc", "ioc"]
OrderStatusName = Literal["open", "filled", "cancelled", "rejected"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Answer(BaseModel):
    """Answers may grow members; clients must ignore the ones they do not know."""

    model_config = ConfigDict(extra="allow")


# ---------------------------------------------------------------- requests


class OnboardRequest(Strict):
    username: Text


class CreateAccountRequest(Strict):
    name: Text


class ProductRequest(Strict):
    name: Text


class InstrumentRequest(Strict):
    symbol: Text
    product_id: int
    contract_date: int
    expiration_ns: int | None = None


class DepositRequest(Strict):
    amount_micro_usd: int
    idempotency_key: IdempotencyKey


class ResolveWithdrawalRequest(Strict):
    idempotency_key: IdempotencyKey


class FlagsRequest(Strict):
    is_frozen: bool
    is_close_only: bool


class FundingRequest(Strict):
    mark_price_micro_usd: int
    rate_ppb: int
    idempotency_key: IdempotencyKey


class SettlementRequest(Strict):
    price_micro_usd: int
    idempotency_key: IdempotencyKey


class PlaceOrderRequest(Strict):
    account_id: Hex16 | None = None
    symbol: Text
    side: SideName
    qty_lots: int
    limit_price_micro_usd: int
    client_order_id: ClientOrderId
    time_in_force: TimeInForceName = "gtc"
    idempotency_key: IdempotencyKey


class CancelRequest(Strict):
    """``order_id`` alone, or ``client_order_id`` with an optional ``account_id``."""

    order_id: Hex16 | None = None
    client_order_id: ClientOrderId | None = None
    account_id: Hex16 | None = None


class ReplaceRequest(CancelRequest):
    qty_lots: int
    limit_price_micro_usd: int


class LimitsRequest(Strict):
    account_id: Hex16 | None = None
    max_open_positions: int
    max_notional_micro_usd: int
    monthly_loss_limit_micro_usd: int


class WithdrawalRequest(Strict):
    account_id: Hex16 | None = None
    amount_micro_usd: int
    idempotency_key: IdempotencyKey


class TransferRequest(Strict):
    from_account_id: Hex16
    to_account_id: Hex16
    amount_micro_usd: int
    idempotency_key: IdempotencyKey


class GrantRequest(Strict):
    account_id: Hex16
    user_id: Hex16
    permissions: Annotated[list[PermissionName], Field(max_length=MAX_PERMISSION_NAMES)]


class MintKeyRequest(Strict):
    account_id: Hex16 | None = None
    permissions: Annotated[list[PermissionName], Field(max_length=MAX_PERMISSION_NAMES)]
    expires_at_ns: int | None = None
    allowed_cidrs: Annotated[list[Text], Field(max_length=MAX_CIDRS)] | None = None


# ---------------------------------------------------------------- answers


class Problem(BaseModel):
    """RFC 9457 problem details with the members every client may rely on."""

    type: str
    title: str
    status: int
    detail: str
    code: Literal[
        "unauthenticated",
        "account_not_found",
        "order_not_found",
        "not_permitted",
        "key_scope",
        "account_frozen",
        "close_only",
        "invalid_value",
        "insufficient_funds",
        "conflict",
        "unavailable",
    ]
    field: str | None
    value: Any


class OnboardAnswer(Answer):
    user_id: Hex16
    default_account_id: Hex16


class TokenAnswer(Answer):
    token: str


class MoneyAnswer(Answer):
    transfer_ids: list[Hex32]
    amount_micro_usd: int


class PendingWithdrawalItem(Answer):
    withdrawal_id: Hex32
    amount_micro_usd: int


class PendingWithdrawalsAnswer(Answer):
    account_id: Hex16
    items: list[PendingWithdrawalItem]


class AccountFlagsAnswer(Answer):
    account_id: Hex16
    is_frozen: bool
    is_close_only: bool


class ProductAnswer(Answer):
    product_id: int
    name: str


class InstrumentAnswer(Answer):
    symbol: str
    contract_id: int
    product_id: int
    contract_date: int
    expiration_ns: int | None


class AuditItem(Answer):
    request_id: str
    at_ns: int
    actor_user_id: Hex16 | None
    actor_operator_id: Hex16 | None
    account_id: Hex16 | None
    action: str
    allowed: bool
    reason: str
    grant_permissions: list[PermissionName] | None
    key_id: Hex16 | None
    key_scope: list[PermissionName] | None


class AuditPage(Answer):
    items: list[AuditItem]
    next_cursor: str | None


class ViolationItem(Answer):
    code: str
    subject: str
    detail: str


class InvariantsAnswer(Answer):
    violations: list[ViolationItem]
    counts: dict[str, int]


class WhoAmIAccount(Answer):
    account_id: Hex16
    name: str
    permissions: list[PermissionName]


class WhoAmIAnswer(Answer):
    user_id: Hex16
    accounts: list[WhoAmIAccount]


class AccountAnswer(Answer):
    account_id: Hex16
    name: str


class BalancesAnswer(Answer):
    account_id: Hex16
    usd_micro_usd: int
    free_micro_usd: int
    withdrawals_pending_micro_usd: int


class PositionItem(Answer):
    symbol: str
    contract_id: int
    qty_lots: int
    basis_micro_usd: int


class PositionsAnswer(Answer):
    account_id: Hex16
    positions: list[PositionItem]


class OrderDetails(Answer):
    order_id: Hex16
    account_id: Hex16
    user_id: Hex16
    client_order_id: str
    symbol: str
    side: SideName
    qty_lots: int
    limit_price_micro_usd: int
    status: OrderStatusName
    filled_lots: int
    time_in_force: TimeInForceName


class FillItem(Answer):
    order_id: Hex16
    account_id: Hex16
    symbol: str
    side: SideName
    qty_lots: int
    price_micro_usd: int
    fee_micro_usd: int
    is_maker: bool


class TransactionItem(Answer):
    transfer_id: Hex32
    kind: str
    amount_micro_usd: int
    phase: Literal["single", "pending", "post", "void"]
    held_micro_usd: int
    at_ns: int


class OrdersPage(Answer):
    items: list[OrderDetails]
    next_cursor: str | None


class FillsPage(Answer):
    items: list[FillItem]
    next_cursor: str | None


class TransactionsPage(Answer):
    items: list[TransactionItem]
    next_cursor: str | None


class RiskAnswer(Answer):
    account_id: Hex16
    equity_micro_usd: int
    free_micro_usd: int
    order_margin_micro_usd: int
    open_positions: int
    is_frozen: bool
    is_close_only: bool
    as_of_ns: int


class PlaceAnswer(Answer):
    order: OrderDetails
    fills: list[FillItem]


class LimitsAnswer(Answer):
    account_id: Hex16
    max_open_positions: int
    max_notional_micro_usd: int
    monthly_loss_limit_micro_usd: int


class GrantAnswer(Answer):
    account_id: Hex16
    user_id: Hex16
    permissions: list[PermissionName]


class RevokedAnswer(Answer):
    revoked: bool


class KeyAnswer(Answer):
    key_id: Hex16
    token: str
    account_id: Hex16
    permissions: list[PermissionName]
