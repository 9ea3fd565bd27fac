"""Contract of the unit of work and of the request-side stores it spans (orders, audit,
grants, keys, idempotency records, operators, fills, flag history), plus the durable
projection stores that live outside it. Subclassed per adapter (memory, SQLite, PostgreSQL).
"""

from __future__ import annotations

import pytest

from axapp.stores import Stores
from axdomain import (
    AccountId,
    Action,
    AuditRecord,
    Conflict,
    ContractId,
    Decision,
    DenyReason,
    Grant,
    Order,
    OrderStatus,
    Permissions,
    Side,
    TimeInForce,
    UserId,
    UserSession,
)
from axdomain.idempotency import IdempotencyRecord
from axdomain.ledger.invariants import AccountFlagChange
from axdomain.ledger.projection import PendingFill, ProjectionCursor, catch_up
from axdomain.operators import Operator
from axdomain.orders import Fill
from tests.ledger_support import World

ALICE = UserId(0x0190_0000_0000_0001)
DESK = AccountId(0x0190_0000_0000_0001)


class Boom(RuntimeError):
    """Injected failure before commit."""


def order(n: int, client: str = "c") -> Order:
    return Order(
        order_id=n,
        account_id=DESK,
        user_id=ALICE,
        client_order_id=client,
        contract=ContractId(1001),
        side=Side.BUY,
        qty_lots=3,
        limit_price_micro_usd=10,
        time_in_force=TimeInForce.GTC,
        created_at_ns=n,
    )


def audit(n: int) -> AuditRecord:
    decision = Decision(True, DenyReason.ALLOWED, Grant(ALICE, DESK, Permissions.TRADER))
    return AuditRecord.of(
        request_id=f"r{n}",
        at_ns=n,
        principal=UserSession(ALICE),
        account_id=DESK,
        action=Action.TRADE,
        decision=decision,
    )


def idempotency(key: str) -> IdempotencyRecord:
    return IdempotencyRecord(DESK, key, "0" * 64, "withdraw", "{}", 1)


class UnitOfWorkContract:
    def make_stores(self) -> Stores:
        """Stores whose users/accounts tables already hold ALICE and DESK."""
        raise NotImplementedError

    def write_everything(self, stores: Stores, n: int) -> None:
        stores.orders.add_order(order(n, f"c{n}"))
        stores.audit.append(audit(n))
        stores.idempotency.put(idempotency(f"k{n}"))
        stores.flag_history.append(AccountFlagChange(DESK, n, True, False))
        stores.fills.add_fill(Fill(n, n << 8, DESK, ContractId(1001), Side.BUY, 1, 10, 0, True, n))

    def test_a_failure_before_commit_leaves_nothing(self) -> None:
        stores = self.make_stores()
        with pytest.raises(Boom), stores.uow.transaction():
            self.write_everything(stores, 7)
            stores.orders.set_status(7, OrderStatus.CANCELLED)
            raise Boom
        assert stores.orders.get_order(7) is None
        assert list(stores.audit.all_records()) == []
        assert stores.idempotency.get(DESK, "k7") is None
        assert list(stores.flag_history.all_changes()) == []
        assert stores.fills.fills_for_order(DESK, 7) == []

    def test_a_clean_exit_commits_everything_once(self) -> None:
        stores = self.make_stores()
        with stores.uow.transaction():
            self.write_everything(stores, 8)
        assert stores.orders.get_order(8) is not None
        assert len(stores.audit.all_records()) == 1
        assert stores.idempotency.get(DESK, "k8") is not None
        assert len(stores.fills.fills_for_order(DESK, 8)) == 1

    def test_a_conflict_inside_the_unit_can_be_caught_and_the_rest_commits(self) -> None:
        stores = self.make_stores()
        with stores.uow.transaction():
            stores.idempotency.put(idempotency("dup"))
            with pytest.raises(Conflict):
                stores.idempotency.put(idempotency("dup"))
            stores.audit.append(audit(1))
        assert stores.idempotency.get(DESK, "dup") is not None
        assert len(stores.audit.all_records()) == 1

    def test_nested_units_join_the_outer_one(self) -> None:
        stores = self.make_stores()
        with pytest.raises(Boom), stores.uow.transaction():
            with stores.uow.transaction():
                stores.audit.append(audit(1))
            raise Boom
        assert list(stores.audit.all_records()) == []

    def test_hooks_run_after_the_unit(self) -> None:
        stores = self.make_stores()
        seen: list[str] = []
        with stores.uow.transaction():
            stores.uow.on_commit(lambda: seen.append("commit"))
            stores.uow.after(lambda: seen.append("after"))
            assert seen == []
        assert seen == ["after", "commit"]
        with pytest.raises(Boom), stores.uow.transaction():
            stores.uow.on_commit(lambda: seen.append("never"))
            stores.uow.after(lambda: seen.append("after-rollback"))
            raise Boom
        assert seen[-1] == "after-rollback" and "never" not in seen
        stores.uow.on_commit(lambda: seen.append("now"))
        assert seen[-1] == "now"

    def test_idempotency_records_are_unique_per_account_and_key(self) -> None:
        stores = self.make_stores()
        stores.idempotency.put(idempotency("a"))
        with pytest.raises(Conflict):
            stores.idempotency.put(idempotency("a"))
        assert stores.idempotency.get(AccountId(0x0190_0000_0000_0002), "a") is None

    def test_fills_are_added_once_and_paged_per_account(self) -> None:
        stores = self.make_stores()
        for n in range(1, 6):
            fill = Fill(n, n << 8, DESK, ContractId(1001), Side.BUY, 1, 10, 0, False, n)
            stores.fills.add_fill(fill)
            stores.fills.add_fill(fill)
        page = stores.fills.fills_for_account(DESK, after=0, limit=3)
        assert [f.order_id for f in page.items] == [1, 2, 3] and page.next_cursor
        rest = stores.fills.fills_for_account(DESK, after=int(page.next_cursor), limit=3)
        assert [f.order_id for f in rest.items] == [4, 5] and rest.next_cursor is None

    def test_operators_are_unique_by_name_and_revocation_keeps_the_first_time(self) -> None:
        stores = self.make_stores()
        stores.operators.add_operator(Operator(5, "night", b"h" * 32, 1))
        with pytest.raises(Conflict):
            stores.operators.add_operator(Operator(6, "night", b"h" * 32, 1))
        assert stores.operators.revoke_operator("night", 10) is True
        assert stores.operators.revoke_operator("night", 20) is True
        found = stores.operators.find_operator("night")
        assert found is not None and found.revoked_at_ns == 10
        assert stores.operators.revoke_operator("nobody", 1) is False

    def test_projections_are_idempotent_and_carry_their_cursor(self) -> None:
        stores = self.make_stores()
        world = World.build(2)
        assert world.deposit(0, 500) == [] and world.deposit(1, 700) == []
        assert world.fill(0, 1, 3, 1_000) == []
        transfers = world.ledger.scan_transfers()
        _, chains = catch_up(transfers, ProjectionCursor())
        cursor = ProjectionCursor(len(transfers), transfers[-1].id)
        stores.projections.project(chains, cursor)
        stores.projections.project(chains, cursor)  # a replay changes nothing
        assert stores.projections.cursor() == cursor
        stamps = stores.projections.stamps()
        assert len(stamps) == len({(s.account_id, s.sequence_number) for s in stamps})
        buyer = world.customers[0].account_id
        assert [s.sequence_number for s in stamps if s.account_id == buyer] == [1, 2]
        positions = stores.projections.position_records(buyer)
        assert [(p.sequence_number, p.qty_lots) for p in positions] == [(2, 3)]
        numbers = [t.sequence_number for t in stores.projections.transaction_records(buyer)]
        assert numbers[0] == 1 and set(numbers) <= {1, 2}  # the deposit, then maybe the fee
        assert stores.projections.balances()[buyer] == world.state.usd(buyer)
        stores.projections.reset()
        assert stores.projections.cursor() == ProjectionCursor()
        assert list(stores.projections.stamps()) == []

    def test_pending_fills_are_kept_once_until_deleted(self) -> None:
        stores = self.make_stores()
        pending = PendingFill(1, 0, 2, 3, 10, 99)
        stores.pending_fills.put(pending)
        stores.pending_fills.put(pending)
        assert list(stores.pending_fills.all_pending()) == [pending]
        stores.pending_fills.delete(1, 0)
        assert list(stores.pending_fills.all_pending()) == []
