from __future__ import annotations

import pytest

from axapp.edge import resolve_account_id
from axapp.gateway import AuthenticationError, Gateway, Request
from axapp.keys import KeyService
from axapp.onboarding import ensure_system_accounts, onboard_user, open_account, share_account
from axapp.stores import Stores, memory_stores
from axdomain import (
    SYSTEM_ACCOUNTS,
    AccountId,
    Action,
    DenyReason,
    KeyScopeError,
    Permissions,
    UserSession,
)

PEPPER = b"k" * 32


class CountingGrants:
    """Wraps the grant port and counts keyed reads (no fan-out allowed)."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.reads = 0

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def get_grant(self, *args: object) -> object:
        self.reads += 1
        return self.inner.get_grant(*args)  # type: ignore[attr-defined]


@pytest.fixture
def stores() -> Stores:
    s = memory_stores()
    ensure_system_accounts(s)
    return s


def gateway(stores: Stores) -> Gateway:
    return Gateway.over(stores, PEPPER)


def key_service(stores: Stores) -> KeyService:
    return KeyService.over(stores, PEPPER)


def test_missing_account_resolves_to_the_default_account_at_the_edge(stores: Stores) -> None:
    alice = onboard_user(stores, "alice")
    session = UserSession(alice.user_id)
    assert resolve_account_id(session, None) == alice.user_id.as_default_account_id()
    result = gateway(stores).decide(Request("r1", session, Action.TRADE))
    assert result.account_id == alice.user_id.as_default_account_id()
    assert result.decision.allowed


def test_every_decision_is_audited_with_the_deciding_grant(stores: Stores) -> None:
    alice, bob = onboard_user(stores, "alice"), onboard_user(stores, "bob")
    desk = open_account(stores, alice.user_id, "alice-desk")
    share_account(stores, bob.user_id, desk.account_id, Permissions.READ_ONLY)
    gw = gateway(stores)
    read = gw.decide(Request("r1", UserSession(bob.user_id), Action.READ, desk.account_id))
    trade = gw.decide(Request("r2", UserSession(bob.user_id), Action.TRADE, desk.account_id))
    assert read.decision.allowed
    assert trade.decision.reason is DenyReason.NOT_PERMITTED
    records = stores.audit.records_for_account(desk.account_id)
    assert [(r.request_id, r.allowed, r.reason) for r in records] == [
        ("r1", True, DenyReason.ALLOWED),
        ("r2", False, DenyReason.NOT_PERMITTED),
    ]
    assert all(r.actor_user_id == bob.user_id for r in records)
    assert all(r.grant_permissions == Permissions.READ_ONLY for r in records)


def test_a_rejected_request_writes_only_its_audit_record(stores: Stores) -> None:
    alice = onboard_user(stores, "alice")
    before = (
        list(stores.accounts.list_accounts()),
        list(stores.grants.grants_for_user(alice.user_id)),
    )
    ghost = AccountId(0x0190_FFFF_0000_0000)
    result = gateway(stores).decide(Request("r1", UserSession(alice.user_id), Action.TRADE, ghost))
    assert result.decision.reason is DenyReason.NO_SUCH_ACCOUNT
    after = (
        list(stores.accounts.list_accounts()),
        list(stores.grants.grants_for_user(alice.user_id)),
    )
    assert before == after
    assert [r.reason for r in stores.audit.all_records()] == [DenyReason.NO_SUCH_ACCOUNT]


def test_one_keyed_grant_read_per_request_whatever_the_grant_count(stores: Stores) -> None:
    alice = onboard_user(stores, "alice")
    for n in range(20):
        open_account(stores, alice.user_id, f"extra-{n}")
    counting = CountingGrants(stores.grants)
    gw = Gateway(
        accounts=stores.accounts,
        grants=counting,  # type: ignore[arg-type]
        keys=stores.keys,
        audit=stores.audit,
        clock=stores.clock,
        pepper=PEPPER,
    )
    gw.decide(Request("r1", UserSession(alice.user_id), Action.READ))
    assert counting.reads == 1


def test_key_round_trip_and_revocations(stores: Stores) -> None:
    alice = onboard_user(stores, "alice")
    desk = open_account(stores, alice.user_id, "alice-desk")
    keys, gw = key_service(stores), gateway(stores)
    key, token = keys.mint(alice.user_id, desk.account_id, Permissions.TRADER)
    assert token.split("_")[2] not in repr(stores.keys.get_key(key.key_id))
    principal = gw.authenticate_key(token)
    assert gw.decide(Request("r1", principal, Action.TRADE)).decision.allowed
    other = gw.decide(Request("r2", principal, Action.READ, alice.user_id.as_default_account_id()))
    assert other.decision.reason is DenyReason.KEY_SCOPE
    stores.grants.revoke_grant(alice.user_id, desk.account_id)
    assert gw.decide(Request("r3", principal, Action.TRADE)).decision.reason is DenyReason.NO_GRANT
    assert keys.revoke(key.key_id)
    with pytest.raises(AuthenticationError):
        gw.authenticate_key(token)


def test_wrong_secret_does_not_authenticate(stores: Stores) -> None:
    alice = onboard_user(stores, "alice")
    _, token = key_service(stores).mint(
        alice.user_id, alice.user_id.as_default_account_id(), Permissions.READ_ONLY
    )
    forged = token[:-4] + ("0000" if not token.endswith("0000") else "1111")
    with pytest.raises(AuthenticationError) as error:
        gateway(stores).authenticate_key(forged)
    assert error.value.field == "api_key"


def test_key_scope_wider_than_grant_is_refused_and_nothing_stored(stores: Stores) -> None:
    alice, bob = onboard_user(stores, "alice"), onboard_user(stores, "bob")
    desk = open_account(stores, alice.user_id, "alice-desk")
    share_account(stores, bob.user_id, desk.account_id, Permissions.READ_ONLY)
    with pytest.raises(KeyScopeError):
        key_service(stores).mint(bob.user_id, desk.account_id, Permissions.TRADER)
    assert list(stores.keys.keys_for_user(bob.user_id)) == []


def test_whoami_lists_accounts_with_can_list_only(stores: Stores) -> None:
    alice, bob = onboard_user(stores, "alice"), onboard_user(stores, "bob")
    desk = open_account(stores, alice.user_id, "alice-desk")
    vault = open_account(stores, alice.user_id, "alice-vault")
    share_account(stores, bob.user_id, desk.account_id, Permissions.READ_ONLY)
    share_account(stores, bob.user_id, vault.account_id, Permissions(can_read=True))
    assert set(gateway(stores).whoami_accounts(bob.user_id)) == {
        bob.user_id.as_default_account_id(),
        desk.account_id,
    }


def test_system_accounts_have_no_grants(stores: Stores) -> None:
    assert all(stores.grants.grants_for_account(a) == [] for a in SYSTEM_ACCOUNTS)
