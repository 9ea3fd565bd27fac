"""``ax demo``: the end-to-end scenario on the configured (by default embedded) stores,
driven only through the use cases, each with its caller and its audit record.

With no ``AX_DATABASE_URL`` the demo works in its own folder ``<data dir>/demo`` (a SQLite
file and the ledger twin's journal), wiped at the start of every run so it can be repeated.
User names carry a run tag so the demo can also run against a shared PostgreSQL.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from typing import Any, TextIO

import attrs

from axapp.analytics import project_and_show
from axapp.bootstrap import application, create_operator
from axapp.config import Config
from axapp.gateway import AccessDenied
from axapp.runtime import open_runtime
from axapp.use_cases import Application
from axdomain.errors import DomainError
from axdomain.ids import AccountId
from axdomain.membership import Principal
from axdomain.orders import Side, TimeInForce
from axdomain.permissions import Permissions

MICRO = 1_000_000
PERP = "COMPUTEDESK-H100-PERP"
DATED_SYMBOL = "COMPUTEDESK-H100-JAN-2026"
DATED_DATE = 20260130


def usd(amount_micro_usd: int) -> str:
    """Exact decimal text of a micro-USD integer (no float on the way)."""
    sign = "-" if amount_micro_usd < 0 else ""
    whole, micros = divmod(abs(amount_micro_usd), MICRO)
    return f"{sign}{whole:,}.{micros:06d}"


def demo_config(config: Config) -> Config:
    if config.database_url is not None:
        return config
    folder = config.data_dir / "demo"
    shutil.rmtree(folder, ignore_errors=True)
    return attrs.evolve(config, data_dir=folder)


def run_demo(out: TextIO, config: Config | None = None) -> int:
    config = demo_config(config or Config.from_env(os.environ))
    with open_runtime(config) as runtime:
        app = application(runtime)
        demo = Demo(app, out)
        status = demo.run()
        if demo.desk is not None:
            out.write("== analytics (ClickHouse, embedded chDB by default)\n")
            project_and_show(out, config, runtime.ledger, demo.desk)
        return status


@attrs.frozen
class Cast:
    ops: Principal
    alice: Principal
    bob: Principal
    alice_key: Principal
    desk: AccountId
    bob_default: AccountId


class Demo:
    def __init__(self, app: Application, out: TextIO) -> None:
        self.app = app
        self.out = out
        self.count = 0
        self.desk: AccountId | None = None
        self.tag = f"{app.stores.ids.new_id() & 0xFFFFFF:06x}"

    def say(self, text: str) -> None:
        self.out.write(text + "\n")

    def key(self, label: str) -> str:
        return f"demo-{self.tag}-{label}"

    def attempt(self, who: str, what: str, call: Callable[[], Any]) -> Any:
        """Run one request and print the gateway's verdict (every one is audited)."""
        try:
            result = call()
        except AccessDenied as denied:
            self.say(f"  DENY  {who:<16} {what:<40} reason={denied.reason.name}")
            return None
        except DomainError as error:
            self.say(f"  REFUSED {who:<14} {what:<40} {type(error).__name__}: {error.problem}")
            return None
        self.say(f"  ALLOW {who:<16} {what:<40} reason=ALLOWED")
        return result

    def run(self) -> int:
        app, tag = self.app, self.tag
        self.say("== operator, users, accounts, grants, keys")
        operator_token = create_operator(app.stores, f"ops-{tag}", app.gateway_pepper)
        ops = app.gateway.authenticate(operator_token)
        alice_user, alice_default = app.operator.onboard_user(ops, f"alice-{tag}")
        bob_user, bob_default = app.operator.onboard_user(ops, f"bob-{tag}")
        alice = app.gateway.authenticate(app.operator.issue_session(ops, alice_user.user_id))
        bob = app.gateway.authenticate(app.operator.issue_session(ops, bob_user.user_id))
        self.say(f"  user alice {alice_user.user_id}  default account {alice_default.account_id}")
        self.say(f"  user bob   {bob_user.user_id}  default account {bob_default.account_id}")
        desk = app.identity.create_account(alice, f"alice-desk-{tag}")
        self.desk = desk.account_id
        self.say(f"  alice opened alice-desk {desk.account_id}: she is its UBO, FULL_ACCESS")
        app.membership.grant(alice, desk.account_id, bob_user.user_id, Permissions.READ_ONLY)
        self.say("  alice (MANAGE) granted bob READ_ONLY on alice-desk")
        key, token = app.membership.mint_key(
            alice, account_id=desk.account_id, scope=Permissions.TRADER
        )
        alice_key = app.gateway.authenticate(token)
        self.say(f"  API key {key.key_id:016x} for alice on alice-desk, scope TRADER (shown once)")
        whoami = app.identity.whoami(bob).as_dict()
        self.say(f"  WhoAmI bob -> {[a['name'] for a in whoami['accounts']]}")
        self.decisions(alice, bob, alice_key, desk.account_id, alice_default.account_id)
        self.money(Cast(ops, alice, bob, alice_key, desk.account_id, bob_default.account_id))
        self.disarm(alice, bob_user.user_id, desk.account_id)
        return self.report(ops)

    def decisions(
        self,
        alice: Principal,
        bob: Principal,
        alice_key: Principal,
        desk: AccountId,
        alice_default: AccountId,
    ) -> None:
        reads, limits = self.app.reads, self.app.limits
        self.say("== decisions (every one audited)")
        self.attempt(
            "bob session", "read balances of alice-desk", lambda: reads.balances(bob, desk)
        )
        self.attempt(
            "bob session",
            "set limits on alice-desk",
            lambda: limits.set_limits(
                bob,
                account_id=desk,
                max_open_positions=5,
                max_notional_micro_usd=10**12,
                monthly_loss_limit_micro_usd=10**11,
            ),
        )
        self.attempt(
            "bob session",
            "read alice's default account",
            lambda: reads.balances(bob, alice_default),
        )
        self.attempt("alice key", "read balances of alice-desk", lambda: reads.balances(alice_key))
        self.attempt(
            "alice key",
            "set limits on alice-desk",
            lambda: limits.set_limits(
                alice_key,
                max_open_positions=5,
                max_notional_micro_usd=10**12,
                monthly_loss_limit_micro_usd=10**11,
            ),
        )
        self.attempt(
            "alice key",
            "read alice's default account",
            lambda: reads.balances(alice_key, alice_default),
        )

    def order(
        self,
        who: str,
        principal: Principal,
        symbol: str,
        *,
        side: Side,
        qty: int,
        price: int,
        tif: TimeInForce = TimeInForce.GTC,
    ) -> None:
        self.count += 1
        what = f"{side.value} {qty} {symbol} @ {usd(price)}"
        placed = self.attempt(
            who,
            what,
            lambda: self.app.orders.place(
                principal,
                symbol=symbol,
                side=side,
                qty_lots=qty,
                limit_price_micro_usd=price,
                client_order_id=f"o-{self.count}",
                time_in_force=tif,
                idempotency_key=self.key(f"order-{self.count}"),
            ),
        )
        if placed is not None:
            order = placed.order.order
            self.say(
                f"        -> {order.status.value}, filled {order.filled_lots}/{order.qty_lots},"
                f" {len(placed.fills)} fill(s)"
            )

    def positions(self, principal: Principal, account: AccountId | None, label: str) -> None:
        held = self.app.reads.positions(principal, account)
        for p in held["positions"]:
            self.say(
                f"    {label:<12} {p['symbol']:<26} qty={p['qty_lots']:>4}"
                f" basis={usd(p['basis_micro_usd'])}"
            )

    def money(self, cast: Cast) -> None:
        app = self.app
        ops, bob, alice_key = cast.ops, cast.bob, cast.alice_key
        desk, bob_default = cast.desk, cast.bob_default
        self.say("== listing: a dated contract and a new product")
        h100 = app.stores.products.get_instrument(PERP)
        if h100 is None:
            raise DomainError("symbol", PERP, "missing from the seed table")
        if app.stores.products.get_instrument(DATED_SYMBOL) is None:
            app.operator.list_instrument(
                ops,
                symbol=DATED_SYMBOL,
                product_id=h100.product.value,
                contract_date=DATED_DATE,
            )
        product = app.stores.products.find_product("COMPUTEDESK-RTX6000")
        if product is None:
            product = app.operator.list_product(ops, "COMPUTEDESK-RTX6000")
        self.say(f"  new product COMPUTEDESK-RTX6000 got id {product.product_id.value}")
        self.say("== deposits from custody (operator, idempotent)")
        first = app.money.deposit(ops, desk, 50_000 * MICRO, self.key("dep-desk"))
        again = app.money.deposit(ops, desk, 50_000 * MICRO, self.key("dep-desk"))
        self.say(f"  retry with the same key returns the first transfer: {first == again}")
        app.money.deposit(ops, bob_default, 80_000 * MICRO, self.key("dep-bob"))
        self.say("== perpetual: bob rests an offer; alice's desk key lifts it")
        self.order("bob session", bob, PERP, side=Side.SELL, qty=10, price=2_500 * MICRO)
        self.order("alice key", alice_key, PERP, side=Side.BUY, qty=6, price=2_510 * MICRO)
        self.positions(alice_key, None, "alice-desk")
        self.say("== an order on an unlisted symbol is refused before anything is recorded")
        self.order("alice key", alice_key, "NO-SUCH-SYMBOL", side=Side.BUY, qty=1, price=1 * MICRO)
        self.say("== funding on the perpetual: mark 2,550, rate 100,000 ppb")
        funded = app.operator.funding(
            ops,
            PERP,
            mark_price_micro_usd=2_550 * MICRO,
            rate_ppb=100_000,
            idempotency_key=self.key("funding-1"),
        )
        self.say(f"  {len(funded.transfer_ids)} funding transfers against AX_FUNDING")
        self.say("== dated contract: alice's desk buys 5 from bob")
        self.order("bob session", bob, DATED_SYMBOL, side=Side.SELL, qty=5, price=2_400 * MICRO)
        self.order("alice key", alice_key, DATED_SYMBOL, side=Side.BUY, qty=5, price=2_400 * MICRO)
        self.say("== close-only: alice-desk may reduce but not add")
        app.operator.set_flags(ops, desk, is_frozen=False, is_close_only=True)
        self.order("alice key", alice_key, PERP, side=Side.BUY, qty=1, price=2_600 * MICRO)
        self.order("alice key", alice_key, PERP, side=Side.SELL, qty=2, price=2_400 * MICRO)
        app.operator.set_flags(ops, desk, is_frozen=False, is_close_only=False)
        self.say("== the delist fence and expiry settlement of the dated contract at 2,450")
        fence = app.operator.delist_fence(ops, DATED_SYMBOL)
        self.say(f"  delist allowed: {fence.allowed}; blockers: {len(fence.blockers)}")
        settled = app.operator.settlement(
            ops, DATED_SYMBOL, price_micro_usd=2_450 * MICRO, idempotency_key=self.key("settle")
        )
        self.say(f"  {len(settled.transfer_ids)} linked settlement transfers")
        fence = app.operator.delist_fence(ops, DATED_SYMBOL)
        self.say(f"  delist allowed after settlement: {fence.allowed}")
        app.operator.delist(ops, DATED_SYMBOL)
        self.order("bob session", bob, DATED_SYMBOL, side=Side.BUY, qty=1, price=2_400 * MICRO)
        self.withdrawals(cast)

    def withdrawals(self, cast: Cast) -> None:
        app = self.app
        alice, bob, alice_key, desk = cast.alice, cast.bob, cast.alice_key, cast.desk
        self.say("== withdrawals and transfers (TRANSFER)")
        free = app.reads.balances(bob)["free_micro_usd"]
        self.attempt(
            "bob session",
            f"withdraw {usd(free + 1)} (more than free)",
            lambda: app.money.withdraw(
                bob, amount_micro_usd=free + 1, idempotency_key=self.key("wd-over")
            ),
        )
        held = self.attempt(
            "bob session",
            "withdraw 1,000.000000 (held until paid)",
            lambda: app.money.withdraw(
                bob, amount_micro_usd=1_000 * MICRO, idempotency_key=self.key("wd-1")
            ),
        )
        cancelled = self.attempt(
            "bob session",
            "withdraw 500.000000 (held until paid)",
            lambda: app.money.withdraw(
                bob, amount_micro_usd=500 * MICRO, idempotency_key=self.key("wd-2")
            ),
        )
        self.balance_line("bob (2 held)", bob)
        if held is not None and cancelled is not None:
            [paid_id], [failed_id] = held.transfer_ids, cancelled.transfer_ids
            self.attempt(
                "operator",
                "post the 1,000.000000 withdrawal (paid out)",
                lambda: app.money.post_withdrawal(
                    cast.ops, cast.bob_default, paid_id, self.key("wd-post")
                ),
            )
            self.attempt(
                "operator",
                "void the 500.000000 withdrawal (payment failed)",
                lambda: app.money.void_withdrawal(
                    cast.ops, cast.bob_default, failed_id, self.key("wd-void")
                ),
            )
        self.attempt(
            "alice key",
            "withdraw from alice-desk (key lacks TRANSFER)",
            lambda: app.money.withdraw(
                alice_key, amount_micro_usd=MICRO, idempotency_key=self.key("wd-key")
            ),
        )
        self.attempt(
            "alice session",
            "transfer 5,000.000000 desk -> default",
            lambda: app.money.transfer(
                alice,
                from_account_id=desk,
                to_account_id=alice.user_id.as_default_account_id(),  # type: ignore[union-attr]
                amount_micro_usd=5_000 * MICRO,
                idempotency_key=self.key("tr-1"),
            ),
        )
        for label, principal in (("alice-desk", alice_key), ("bob", bob)):
            self.balance_line(label, principal)

    def balance_line(self, label: str, principal: Principal) -> None:
        b = self.app.reads.balances(principal)
        self.say(
            f"    USD {label:<12} {usd(b['usd_micro_usd']):>22}"
            f"  free {usd(b['free_micro_usd']):>22}"
            f"  held {usd(b['withdrawals_pending_micro_usd']):>18}"
        )

    def disarm(self, alice: Principal, bob_user: object, desk: AccountId) -> None:
        app = self.app
        self.say("== a grant revoked disarms its user's keys at once")
        app.membership.grant(alice, desk, bob_user, Permissions.TRADER)
        bob_session = app.gateway.authenticate(
            app.operator.issue_session(
                app.gateway.authenticate(
                    create_operator(app.stores, f"ops2-{self.tag}", app.gateway_pepper)
                ),
                bob_user,
            )
        )
        _, bob_token = app.membership.mint_key(
            bob_session, account_id=desk, scope=Permissions.READ_ONLY
        )
        bob_key = app.gateway.authenticate(bob_token)
        self.attempt("bob key", "read alice-desk", lambda: app.reads.balances(bob_key))
        app.membership.revoke(alice, desk, bob_user)
        self.say("  alice revoked bob's grant on alice-desk; the key is disarmed at once")
        self.attempt("bob key", "read alice-desk", lambda: app.reads.balances(bob_key))

    def report(self, ops: Principal) -> int:
        report = self.app.operator.invariants(ops)
        self.say("== invariant report")
        counts = report["counts"]
        self.say("  " + "  ".join(f"{code}={n}" for code, n in counts.items()))
        for violation in report["violations"][:20]:
            self.say(
                f"  VIOLATION {violation['code']} {violation['subject']}: {violation['detail']}"
            )
        exchange = self.app.exchange
        resumed = exchange.resume_matches_live()
        book = exchange.book_matches_log()
        audited = len(self.app.stores.audit.all_records())
        self.say(f"  audit trail: {audited} records")
        self.say(f"  resume(scan) == live state: {resumed}")
        self.say(f"  order log == book: {book}")
        total = len(report["violations"])
        self.say(f"  total violations: {total}")
        return 0 if total == 0 and resumed and book else 1
