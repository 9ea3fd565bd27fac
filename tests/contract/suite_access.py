"""Contract of the authorization read (``AccessReader``) and of the read-only unit of work,
subclassed per adapter (memory, SQLite, PostgreSQL)."""

from __future__ import annotations

import pytest

from axapp.stores import Stores
from axdomain import (
    Account,
    AccountId,
    AccountKind,
    Action,
    AuditRecord,
    Decision,
    DenyReason,
    Grant,
    Permissions,
    User,
    UserId,
    UserSession,
)
from axdomain.api_keys import ApiKey

ALICE = UserId(0x0190_0000_0000_0001)
BOB = UserId(0x0190_0000_0000_0002)
MAIN = ALICE.as_default_account_id()
DESK = AccountId(0x0190_0000_0000_00A0)
NOWHERE = AccountId(0x0190_0000_0000_0FFF)
KEY_ID = 0x0190_0000_0000_0777


class Boom(RuntimeError):
    """Injected failure inside a unit."""


def audit(n: int) -> AuditRecord:
    return AuditRecord.of(
        request_id=f"r{n}",
        at_ns=n,
        principal=UserSession(ALICE),
        account_id=MAIN,
        action=Action.READ,
        decision=Decision(True, DenyReason.ALLOWED, Grant(ALICE, MAIN, Permissions.TRADER)),
    )


class AccessContract:
    def make_stores(self) -> Stores:
        """Empty stores (no users, accounts, grants or keys)."""
        raise NotImplementedError

    def seeded(self) -> Stores:
        stores = self.make_stores()
        stores.users.add_user(User(ALICE, "alice", 1))
        stores.users.add_user(User(BOB, "bob", 1))
        for account_id, name in ((MAIN, "alice-main"), (DESK, "desk")):
            stores.accounts.add_account(Account(account_id, name, AccountKind.CUSTOMER, ALICE, 1))
        stores.grants.put_grant(Grant(ALICE, MAIN, Permissions.TRADER))
        stores.grants.put_grant(Grant(BOB, DESK, Permissions.READ_ONLY))
        key = ApiKey(KEY_ID, ALICE, DESK, Permissions.READ_ONLY, bytes(range(32)), 10)
        stores.keys.add_key(key)
        return stores

    # ------------------------------------------------------------------ AccessReader

    def test_the_account_alone_for_no_user(self) -> None:
        stores = self.seeded()
        facts = stores.access.access_facts(MAIN, None, None)
        assert facts.account == stores.accounts.get_account(MAIN)
        assert (facts.grant, facts.key) == (None, None)

    def test_the_account_and_exactly_the_users_grant_on_it(self) -> None:
        stores = self.seeded()
        facts = stores.access.access_facts(DESK, BOB, None)
        assert facts.account == stores.accounts.get_account(DESK)
        assert facts.grant == Grant(BOB, DESK, Permissions.READ_ONLY)
        assert stores.access.access_facts(DESK, ALICE, None).grant is None  # other user's grant
        assert stores.access.access_facts(MAIN, BOB, None).grant is None

    def test_the_key_as_stored_whatever_account_is_asked(self) -> None:
        stores = self.seeded()
        for account_id in (DESK, MAIN, NOWHERE):
            facts = stores.access.access_facts(account_id, ALICE, KEY_ID)
            assert facts.key == stores.keys.get_key(KEY_ID)
        stores.keys.revoke_key(KEY_ID, 99)
        revoked = stores.access.access_facts(DESK, ALICE, KEY_ID).key
        assert revoked is not None and revoked.revoked_at_ns == 99

    def test_missing_rows_read_as_none(self) -> None:
        stores = self.seeded()
        facts = stores.access.access_facts(NOWHERE, ALICE, KEY_ID + 1)
        assert (facts.account, facts.grant, facts.key) == (None, None, None)

    def test_a_write_inside_a_transaction_is_seen_by_its_read(self) -> None:
        stores = self.seeded()
        with stores.uow.transaction():
            stores.grants.put_grant(Grant(BOB, MAIN, Permissions.READ_ONLY))
            assert stores.access.access_facts(MAIN, BOB, None).grant is not None
        with pytest.raises(Boom), stores.uow.transaction():
            stores.grants.revoke_grant(BOB, MAIN)
            assert stores.access.access_facts(MAIN, BOB, None).grant is None
            raise Boom
        assert stores.access.access_facts(MAIN, BOB, None).grant is not None

    # ------------------------------------------------------------------ read-only unit

    def test_a_read_only_unit_reads_and_its_audit_records_are_durable_on_exit(self) -> None:
        stores = self.seeded()
        with stores.uow.read_only():
            assert stores.uow.active
            assert stores.access.access_facts(MAIN, ALICE, None).grant is not None
            stores.audit.append(audit(1))
            stores.audit.append(audit(2))
        assert not stores.uow.active
        assert [r.request_id for r in stores.audit.records_for_account(MAIN)] == ["r1", "r2"]

    def test_a_read_only_units_audit_records_survive_a_failure_in_it(self) -> None:
        stores = self.seeded()
        with pytest.raises(Boom), stores.uow.read_only():
            stores.audit.append(audit(3))
            raise Boom
        assert [r.request_id for r in stores.audit.all_records()] == ["r3"]

    def test_a_read_only_unit_inside_a_transaction_joins_it(self) -> None:
        stores = self.seeded()
        with pytest.raises(Boom), stores.uow.transaction():
            with stores.uow.read_only():
                stores.audit.append(audit(4))
            raise Boom
        assert list(stores.audit.all_records()) == []

    def test_read_only_hooks_run_after_the_unit(self) -> None:
        stores = self.seeded()
        seen: list[str] = []
        with stores.uow.read_only():
            stores.uow.on_commit(lambda: seen.append("commit"))
            stores.uow.after(lambda: seen.append("after"))
            assert seen == []
        assert seen == ["after", "commit"]
        with pytest.raises(Boom), stores.uow.read_only():
            stores.uow.on_commit(lambda: seen.append("commit2"))
            stores.uow.after(lambda: seen.append("after2"))
            raise Boom
        assert seen == ["after", "commit", "after2"]
