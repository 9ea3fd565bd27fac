"""Contract suites for the identity, ownership and membership ports.

Each class is one port's behaviour; an adapter's test module subclasses it and provides
``make_*``. Every adapter (memory, SQLite, PostgreSQL) must pass the same tests.
"""

from __future__ import annotations

import attrs
import pytest

from axdomain import (
    SYSTEM_ACCOUNTS,
    Account,
    AccountId,
    AccountKind,
    Action,
    ApiKey,
    AuditRecord,
    Conflict,
    Decision,
    DenyReason,
    Grant,
    NotFound,
    Permissions,
    User,
    UserId,
)
from axdomain.accounts import AccountLimits, FeeSchedule
from axdomain.membership import ApiKeyPrincipal, OperatorPrincipal, Principal, UserSession
from axdomain.ports import (
    AccountRepository,
    ApiKeyRepository,
    AuditLog,
    GrantRepository,
    UserRepository,
)

ALICE = UserId(0x0190_0000_0000_0001)
BOB = UserId(0x0190_0000_0000_0002)
SECOND = AccountId(0x0190_0000_0000_00A0)


def customer(account_id: AccountId, name: str, ubo: UserId = ALICE) -> Account:
    return Account(
        account_id=account_id,
        name=name,
        kind=AccountKind.CUSTOMER,
        ubo_user_id=ubo,
        created_at_ns=1_700_000_000_000_000_000,
        fees=FeeSchedule(maker_fee_bps=-1, taker_fee_bps=5),
        limits=AccountLimits(3, 10**12, 10**9),
    )


class UsersContract:
    def make_users(self) -> UserRepository:
        raise NotImplementedError

    def test_add_then_get_round_trips(self) -> None:
        users = self.make_users()
        alice = User(ALICE, "alice", 123)
        users.add_user(alice)
        assert users.get_user(ALICE) == alice
        assert users.get_user(BOB) is None

    def test_duplicate_id_or_username_is_a_conflict(self) -> None:
        users = self.make_users()
        users.add_user(User(ALICE, "alice", 1))
        with pytest.raises(Conflict):
            users.add_user(User(ALICE, "other", 1))
        with pytest.raises(Conflict):
            users.add_user(User(BOB, "alice", 1))
        assert users.get_user(BOB) is None


class AccountsContract:
    def make_accounts(self) -> AccountRepository:
        raise NotImplementedError

    def test_customer_and_system_accounts_round_trip(self) -> None:
        accounts = self.make_accounts()
        default = customer(ALICE.as_default_account_id(), "alice-main")
        pnl = Account(SYSTEM_ACCOUNTS.AX_PNL, "AX_PNL", AccountKind.SYSTEM, None, 5)
        accounts.add_account(default)
        accounts.add_account(pnl)
        assert accounts.get_account(default.account_id) == default
        assert accounts.get_account(SYSTEM_ACCOUNTS.AX_PNL) == pnl
        assert accounts.get_account(SECOND) is None
        assert list(accounts.list_accounts()) == [pnl, default]

    def test_duplicate_id_or_name_is_a_conflict_and_changes_nothing(self) -> None:
        accounts = self.make_accounts()
        first = customer(SECOND, "desk")
        accounts.add_account(first)
        with pytest.raises(Conflict):
            accounts.add_account(customer(SECOND, "other"))
        with pytest.raises(Conflict):
            accounts.add_account(customer(ALICE.as_default_account_id(), "desk"))
        assert list(accounts.list_accounts()) == [first]

    def test_update_changes_flags_fees_and_limits(self) -> None:
        accounts = self.make_accounts()
        accounts.add_account(customer(SECOND, "desk"))
        changed = attrs.evolve(
            customer(SECOND, "desk"),
            is_frozen=True,
            is_close_only=True,
            fees=FeeSchedule(2, 7),
            limits=AccountLimits(1, 2, 3),
        )
        accounts.update_account(changed)
        assert accounts.get_account(SECOND) == changed

    def test_update_of_unknown_account_is_not_found(self) -> None:
        accounts = self.make_accounts()
        with pytest.raises(NotFound):
            accounts.update_account(customer(SECOND, "desk"))
        assert accounts.get_account(SECOND) is None

    def test_update_cannot_change_the_owner(self) -> None:
        accounts = self.make_accounts()
        accounts.add_account(customer(SECOND, "desk"))
        with pytest.raises(Conflict):
            accounts.update_account(customer(SECOND, "desk", ubo=BOB))
        stored = accounts.get_account(SECOND)
        assert stored is not None
        assert stored.ubo_user_id == ALICE


class GrantsContract:
    def make_grants(self) -> GrantRepository:
        raise NotImplementedError

    def test_put_get_replace_and_revoke(self) -> None:
        grants = self.make_grants()
        assert grants.get_grant(ALICE, SECOND) is None
        grants.put_grant(Grant(ALICE, SECOND, Permissions.READ_ONLY))
        assert grants.get_grant(ALICE, SECOND) == Grant(ALICE, SECOND, Permissions.READ_ONLY)
        grants.put_grant(Grant(ALICE, SECOND, Permissions.TRADER))
        assert grants.get_grant(ALICE, SECOND) == Grant(ALICE, SECOND, Permissions.TRADER)
        assert grants.revoke_grant(ALICE, SECOND) is True
        assert grants.get_grant(ALICE, SECOND) is None
        assert grants.revoke_grant(ALICE, SECOND) is False

    def test_grants_are_keyed_by_user_and_account(self) -> None:
        grants = self.make_grants()
        default = ALICE.as_default_account_id()
        grants.put_grant(Grant(ALICE, default, Permissions.FULL_ACCESS))
        grants.put_grant(Grant(ALICE, SECOND, Permissions.READ_ONLY))
        grants.put_grant(Grant(BOB, SECOND, Permissions.TRADER))
        assert grants.get_grant(BOB, default) is None
        assert list(grants.grants_for_user(ALICE)) == [
            Grant(ALICE, default, Permissions.FULL_ACCESS),
            Grant(ALICE, SECOND, Permissions.READ_ONLY),
        ]
        assert list(grants.grants_for_account(SECOND)) == [
            Grant(ALICE, SECOND, Permissions.READ_ONLY),
            Grant(BOB, SECOND, Permissions.TRADER),
        ]

    def test_every_single_flag_round_trips(self) -> None:
        grants = self.make_grants()
        for flag in Permissions.FLAG_NAMES:
            permissions = Permissions.from_flags({flag})
            grants.put_grant(Grant(ALICE, SECOND, permissions))
            assert grants.get_grant(ALICE, SECOND) == Grant(ALICE, SECOND, permissions)


class ApiKeysContract:
    def make_api_keys(self) -> ApiKeyRepository:
        raise NotImplementedError

    def key(self, key_id: int, account: AccountId | None = SECOND) -> ApiKey:
        return ApiKey(key_id, ALICE, account, Permissions.READ_ONLY, bytes(range(32)), 10)

    def test_add_get_and_list(self) -> None:
        keys = self.make_api_keys()
        keys.add_key(self.key(7))
        keys.add_key(self.key(9, account=None))
        assert keys.get_key(7) == self.key(7)
        assert keys.get_key(9) == self.key(9, account=None)
        assert keys.get_key(8) is None
        assert [k.key_id for k in keys.keys_for_user(ALICE)] == [7, 9]
        assert list(keys.keys_for_user(BOB)) == []

    def test_duplicate_key_id_is_a_conflict(self) -> None:
        keys = self.make_api_keys()
        keys.add_key(self.key(7))
        with pytest.raises(Conflict):
            keys.add_key(self.key(7, account=ALICE.as_default_account_id()))
        assert keys.get_key(7) == self.key(7)

    def test_revoke_keeps_the_first_revocation_time(self) -> None:
        keys = self.make_api_keys()
        keys.add_key(self.key(7))
        assert keys.revoke_key(7, at_ns=100) is True
        assert keys.revoke_key(7, at_ns=200) is True
        stored = keys.get_key(7)
        assert stored is not None
        assert stored.revoked_at_ns == 100
        assert keys.revoke_key(8, at_ns=100) is False


class AuditContract:
    def make_audit(self) -> AuditLog:
        raise NotImplementedError

    def record(self, n: int, account: AccountId, decision: Decision) -> AuditRecord:
        principal: Principal = (
            UserSession(ALICE) if n % 2 else ApiKeyPrincipal(n, ALICE, account, Permissions.TRADER)
        )
        return AuditRecord.of(
            request_id=f"req-{n}",
            at_ns=1000 + n,
            principal=principal,
            account_id=account,
            action=Action.TRADE,
            decision=decision,
        )

    def test_operator_records_and_exchange_wide_records_round_trip(self) -> None:
        audit = self.make_audit()
        operator = OperatorPrincipal(77, "ops")
        allowed = Decision(True, DenyReason.ALLOWED)
        records = [
            AuditRecord.of(
                request_id="op-1",
                at_ns=5,
                principal=operator,
                account_id=SECOND,
                action=Action.SET_FLAGS,
                decision=allowed,
            ),
            AuditRecord.of(
                request_id="op-2",
                at_ns=6,
                principal=operator,
                account_id=None,
                action=Action.LIST_PRODUCT,
                decision=allowed,
            ),
        ]
        for record in records:
            audit.append(record)
        assert list(audit.all_records()) == records
        assert records[0].actor_operator_id == 77 and records[0].actor_user_id is None
        assert list(audit.records_for_account(SECOND)) == [records[0]]

    def test_records_come_back_in_append_order_per_account(self) -> None:
        audit = self.make_audit()
        grant = Grant(ALICE, SECOND, Permissions.TRADER)
        allowed = Decision(True, DenyReason.ALLOWED, grant, Permissions.READ_ONLY)
        denied = Decision(False, DenyReason.NO_GRANT)
        default = ALICE.as_default_account_id()
        records = [
            self.record(1, SECOND, allowed),
            self.record(2, default, denied),
            self.record(3, SECOND, denied),
        ]
        for record in records:
            audit.append(record)
        assert list(audit.records_for_account(SECOND)) == [records[0], records[2]]
        assert list(audit.records_for_account(default)) == [records[1]]
        assert list(audit.all_records()) == records
