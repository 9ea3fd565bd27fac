"""Account-keyed records and the account itself: the validator factories and exact fields.

Validators built by a factory (``_text(max_len)``) are made when the class is defined, so a
class-level test never sees a change inside the factory; these tests call the factories
themselves.
"""

from __future__ import annotations

import attrs
import pytest

from axdomain import (
    AccountId,
    Action,
    ApiKeyPrincipal,
    Grant,
    InvalidValue,
    OperatorPrincipal,
    Permissions,
    UserId,
    UserSession,
)
from axdomain.account_records import MAX_CHAIN_LEN, DepositAddress, _text
from axdomain.audit import MAX_REQUEST_ID_LEN, AuditRecord
from axdomain.authorization import Decision, DenyReason

BLOCKCHAIN = attrs.fields(DepositAddress).blockchain


def test_text_validator_factory_names_field_value_and_bound() -> None:
    check = _text(4)
    check(None, BLOCKCHAIN, "abcd")
    with pytest.raises(InvalidValue) as raised:
        check(None, BLOCKCHAIN, "abcde")
    error = raised.value
    assert (error.field, error.value, error.problem) == (
        "blockchain",
        "abcde",
        "must be 1..4 chars without outer spaces",
    )
    assert _text(MAX_CHAIN_LEN)(None, BLOCKCHAIN, "c" * MAX_CHAIN_LEN) is None


# ---------------------------------------------------------------------- audit records

ANN = UserId(0x0190_0000_0000_0A01)
DESK = AccountId(0x0190_0000_0000_00D0)
GRANT = Grant(ANN, DESK, Permissions.TRADER)
ALLOWED = Decision(True, DenyReason.ALLOWED, GRANT)


def _record(**overrides: object) -> AuditRecord:
    fields: dict[str, object] = {
        "request_id": "r",
        "at_ns": 5,
        "actor_user_id": ANN,
        "account_id": DESK,
        "action": Action.READ,
        "allowed": True,
        "reason": DenyReason.ALLOWED,
        "grant_permissions": None,
        "key_id": None,
        "key_scope": None,
    }
    fields.update(overrides)
    return AuditRecord(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("user", "operator"), [(None, None), (ANN, 7)], ids=["no_actor", "two_actors"]
)
def test_audit_record_has_exactly_one_actor(user: UserId | None, operator: int | None) -> None:
    with pytest.raises(InvalidValue) as raised:
        _record(actor_user_id=user, actor_operator_id=operator)
    assert (raised.value.field, raised.value.value, raised.value.problem) == (
        "actor",
        (user, operator),
        "one actor",
    )
    assert _record(actor_user_id=None, actor_operator_id=7).actor_operator_id == 7


def test_audit_record_of_a_key_request_keeps_key_grant_and_truncated_request_id() -> None:
    key = ApiKeyPrincipal(41, ANN, DESK, Permissions.READ_ONLY)
    decision = Decision(True, DenyReason.ALLOWED, GRANT, Permissions.READ_ONLY)
    record = AuditRecord.of(
        request_id="q" * (MAX_REQUEST_ID_LEN + 1),
        at_ns=9,
        principal=key,
        account_id=DESK,
        action=Action.READ,
        decision=decision,
    )
    assert record == AuditRecord(
        request_id="q" * MAX_REQUEST_ID_LEN,
        at_ns=9,
        actor_user_id=ANN,
        account_id=DESK,
        action=Action.READ,
        allowed=True,
        reason=DenyReason.ALLOWED,
        grant_permissions=Permissions.TRADER,
        key_id=41,
        key_scope=Permissions.READ_ONLY,
        actor_operator_id=None,
    )


def test_audit_record_of_an_operator_and_of_a_denied_session() -> None:
    operator = AuditRecord.of(
        request_id="op",
        at_ns=1,
        principal=OperatorPrincipal(7, "ops"),
        account_id=None,
        action=Action.FUNDING,
        decision=ALLOWED,
    )
    assert (operator.actor_user_id, operator.actor_operator_id, operator.key_id) == (None, 7, None)
    denied = AuditRecord.of(
        request_id="s",
        at_ns=2,
        principal=UserSession(ANN),
        account_id=DESK,
        action=Action.TRADE,
        decision=Decision(False, DenyReason.NO_GRANT),
    )
    assert (denied.actor_user_id, denied.allowed, denied.reason) == (
        ANN,
        False,
        DenyReason.NO_GRANT,
    )
    assert (denied.grant_permissions, denied.key_id, denied.key_scope) == (None, None, None)
