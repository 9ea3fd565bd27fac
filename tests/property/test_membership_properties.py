"""No sequence of grants, revokes, key mints, key revocations and requests lets a principal
act beyond ``key scope ∩ live grant``; revoking disarms at once.

A model (plain dicts of flags) runs beside the application; after every step each principal
asks every customer action on every account, and the application's verdict must equal the
model's."""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from axapp.gateway import AccessDenied, AuthenticationError
from axdomain import AccountId, Permissions, Principal, UserId
from axdomain.membership_rules import MembershipRefused
from axdomain.permissions import Action
from tests.app_support import MICRO, World

FLAGS = Permissions.FLAG_NAMES
CHECKED = (Action.READ, Action.SET_LIMITS, Action.TRANSFER)
permissions = st.frozensets(st.sampled_from(FLAGS)).map(Permissions.from_flags)


class MembershipMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.w = World.build()
        self.users: list[tuple[UserId, Principal]] = []
        self.accounts: list[AccountId] = []
        for name in ("u0", "u1", "u2"):
            user, account, session = self.w.user(name, 1_000 * MICRO)
            self.users.append((user.user_id, session))
            self.accounts.append(account.account_id)
        self.model: dict[tuple[UserId, AccountId], Permissions] = {
            (u, a): Permissions.FULL_ACCESS
            for (u, _), a in zip(self.users, self.accounts, strict=True)
        }
        self.ubo = {a: u for (u, _), a in zip(self.users, self.accounts, strict=True)}
        # key principal -> (user, account, scope, revoked)
        self.keys: list[tuple[Principal, int, UserId, AccountId, Permissions]] = []
        self.revoked: set[int] = set()

    @rule(g=st.integers(0, 2), a=st.integers(0, 2), t=st.integers(0, 2), p=permissions)
    def grant(self, g: int, a: int, t: int, p: Permissions) -> None:
        granter, session = self.users[g]
        account, target = self.accounts[a], self.users[t][0]
        held = self.model.get((granter, account), Permissions.NONE)
        allowed = (
            held.can_manage
            and target != self.ubo[account]
            and p != Permissions.NONE
            and p.is_subset_of(held)
        )
        try:
            self.w.app.membership.grant(session, account, target, p)
        except (AccessDenied, MembershipRefused):
            assert not allowed
            return
        assert allowed
        self.model[(target, account)] = p

    @rule(g=st.integers(0, 2), a=st.integers(0, 2), t=st.integers(0, 2))
    def revoke(self, g: int, a: int, t: int) -> None:
        granter, session = self.users[g]
        account, target = self.accounts[a], self.users[t][0]
        held = self.model.get((granter, account), Permissions.NONE)
        allowed = held.can_manage and target != self.ubo[account]
        try:
            self.w.app.membership.revoke(session, account, target)
        except (AccessDenied, MembershipRefused):
            assert not allowed
            return
        assert allowed
        self.model.pop((target, account), None)

    @rule(u=st.integers(0, 2), a=st.integers(0, 2), scope=permissions)
    def mint(self, u: int, a: int, scope: Permissions) -> None:
        user, session = self.users[u]
        account = self.accounts[a]
        held = self.model.get((user, account), Permissions.NONE)
        allowed = held.can_list and scope != Permissions.NONE and scope.is_subset_of(held)
        try:
            key_id, token = self.w.mint(session, account, scope)
        except (AccessDenied, MembershipRefused):
            assert not allowed
            return
        assert allowed
        principal = self.w.app.gateway.authenticate(token)
        self.keys.append((principal, key_id, user, account, scope))

    @rule(data=st.data())
    def revoke_key(self, data: st.DataObject) -> None:
        if not self.keys:
            return
        _, key_id, user, _, _ = data.draw(st.sampled_from(self.keys))
        session = next(s for u, s in self.users if u == user)
        self.w.app.membership.revoke_key(session, key_id)
        self.revoked.add(key_id)

    @invariant()
    def every_decision_is_scope_and_live_grant(self) -> None:
        reads = self.w.app.reads
        for user, session in self.users:
            for account in self.accounts:
                held = self.model.get((user, account), Permissions.NONE)
                assert self._can_read(session, account) == held.can_read
        for principal, key_id, user, account, scope in self.keys:
            held = self.model.get((user, account), Permissions.NONE)
            expected = key_id not in self.revoked and (scope & held).can_read
            if key_id in self.revoked:
                try:
                    reads.balances(principal)
                except AuthenticationError:
                    continue
                raise AssertionError("a revoked key still acts")
            assert self._can_read(principal, account) == expected

    def _can_read(self, principal: Principal, account: AccountId) -> bool:
        try:
            self.w.app.reads.balances(principal, account)
        except AccessDenied:
            return False
        return True


MembershipMachine.TestCase.settings = settings(
    max_examples=25,
    stateful_step_count=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestMembership = MembershipMachine.TestCase
