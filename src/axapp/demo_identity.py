"""``ax demo``: the end-to-end scenario on embedded defaults, printed step by step."""

from __future__ import annotations

from typing import TextIO

import attrs

from axapp.gateway import Gateway, Request
from axapp.keys import KeyService
from axapp.onboarding import ensure_system_accounts, onboard_user, open_account, share_account
from axapp.stores import Stores
from axdomain.ids import AccountId, UserId
from axdomain.membership import ApiKeyPrincipal, Grant, Principal, UserSession
from axdomain.permissions import Action, Permissions

DEMO_PEPPER_BYTES = 32


class DemoIdentity:
    """Users, accounts, grants and a key, with the decisions the gateway makes for them."""

    def __init__(self, stores: Stores, out: TextIO) -> None:
        self.stores = stores
        self.out = out
        pepper = stores.secrets.token_bytes(DEMO_PEPPER_BYTES)
        self.gateway = Gateway.over(stores, pepper)
        self.keys = KeyService.over(stores, pepper)
        self.request_count = 0

    def say(self, text: str) -> None:
        self.out.write(text + "\n")

    def ask(
        self, who: str, principal: Principal, action: Action, account: AccountId | None
    ) -> bool:
        self.request_count += 1
        result = self.gateway.decide(
            Request(f"demo-{self.request_count}", principal, action, account)
        )
        target = "(default)" if account is None else str(account)
        verdict = "ALLOW" if result.decision.allowed else "DENY "
        self.say(
            f"  {verdict} {who:<22} {action.value:<16} on {target:<16} -> "
            f"{result.account_id} reason={result.decision.reason.name}"
        )
        return result.decision.allowed

    def run(self, tag: str) -> DemoCast:
        stores = self.stores
        ensure_system_accounts(stores)
        self.say("== identity, ownership, membership")
        alice = onboard_user(stores, f"alice-{tag}")
        bob = onboard_user(stores, f"bob-{tag}")
        alice_default = alice.user_id.as_default_account_id()
        self.say(f"  user alice {alice.user_id}  default account {alice_default}")
        self.say(
            f"  user bob   {bob.user_id}  default account {bob.user_id.as_default_account_id()}"
        )
        desk = open_account(stores, alice.user_id, f"alice-desk-{tag}")
        share_account(stores, bob.user_id, desk.account_id, Permissions.READ_ONLY)
        self.say(f"  account alice-desk {desk.account_id} (UBO alice), shared with bob READ_ONLY")
        key, token = self.keys.mint(alice.user_id, desk.account_id, Permissions.TRADER)
        self.say(f"  API key {key.key_id:016x} for alice on alice-desk, scope TRADER")
        self.say(f"  (token shown once, stored as HMAC-SHA-256 only: {token[:24]}...)")
        principal = self.gateway.authenticate_key(token)
        self.say("== decisions (every one audited)")
        self.ask("alice session", UserSession(alice.user_id), Action.TRADE, None)
        self.ask("alice session", UserSession(alice.user_id), Action.SET_LIMITS, desk.account_id)
        self.ask("bob session", UserSession(bob.user_id), Action.READ, desk.account_id)
        self.ask("bob session", UserSession(bob.user_id), Action.TRADE, desk.account_id)
        self.ask("bob session", UserSession(bob.user_id), Action.READ, alice_default)
        self.ask("alice key", principal, Action.TRADE, None)
        self.ask("alice key", principal, Action.SET_LIMITS, desk.account_id)
        self.ask("alice key", principal, Action.READ, alice_default)
        self.say(f"  WhoAmI bob -> {[str(a) for a in self.gateway.whoami_accounts(bob.user_id)]}")
        self.say("== alice's grant on alice-desk is revoked; the key is disarmed at once")
        stores.grants.revoke_grant(alice.user_id, desk.account_id)
        self.ask("alice key", principal, Action.TRADE, desk.account_id)
        audited = len(stores.audit.all_records())
        self.say(f"  audit trail: {audited} records for {self.request_count} requests")
        stores.grants.put_grant(Grant(alice.user_id, desk.account_id, Permissions.FULL_ACCESS))
        self.say("  (grant restored: alice FULL_ACCESS on alice-desk)")
        return DemoCast(alice.user_id, bob.user_id, desk.account_id, principal)


@attrs.frozen
class DemoCast:
    alice: UserId
    bob: UserId
    desk: AccountId
    alice_key: ApiKeyPrincipal
