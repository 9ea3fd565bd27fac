"""The ledger half of ``ax demo``: products, a perpetual and a dated contract, deposits,
fills across accounts, funding, expiry settlement, the delist fence, the invariant report."""

from __future__ import annotations

from typing import TextIO

from axapp.demo_identity import DemoCast
from axapp.exchange import Committed, Exchange, LedgerRejected, OrderRejected
from axdomain.contracts import ContractDate, ContractId
from axdomain.ids import AccountId
from axdomain.ledger.invariants import INVARIANT_CODES
from axdomain.membership import Principal, UserSession
from axdomain.orders import Side
from axdomain.registry import load_symbol_registry, seed_rows

MICRO = 1_000_000
DATED_SYMBOL = "COMPUTEDESK-H100-JAN-2026"
DATED_DATE = 20260130


def usd(amount_micro_usd: int) -> str:
    """Exact decimal text of a micro-USD integer (no float on the way)."""
    sign = "-" if amount_micro_usd < 0 else ""
    whole, micros = divmod(abs(amount_micro_usd), MICRO)
    return f"{sign}{whole:,}.{micros:06d}"


class DemoLedger:
    def __init__(self, exchange: Exchange, cast: DemoCast, out: TextIO) -> None:
        self.x = exchange
        self.cast = cast
        self.out = out
        self.order_count = 0

    def say(self, text: str) -> None:
        self.out.write(text + "\n")

    def names(self) -> dict[AccountId, str]:
        return {
            self.cast.alice.as_default_account_id(): "alice-default",
            self.cast.desk: "alice-desk",
            self.cast.bob.as_default_account_id(): "bob-default",
        }

    def order(
        self,
        who: str,
        principal: Principal,
        contract: ContractId,
        *,
        side: Side,
        qty_lots: int,
        price_micro_usd: int,
    ) -> list[Committed]:
        self.order_count += 1
        try:
            _, fills = self.x.place_order(
                principal,
                account_id=None,
                contract=contract,
                side=side,
                qty_lots=qty_lots,
                limit_price_micro_usd=price_micro_usd,
                client_order_id=f"demo-{self.order_count}",
            )
        except OrderRejected as error:
            price = usd(price_micro_usd)
            self.say(f"  REJECT {who:<14} {side.value} {qty_lots} @ {price}: {error.problem}")
            return []
        self.say(
            f"  order  {who:<14} {side.value:<4} {qty_lots:>3} @ {usd(price_micro_usd)}"
            f" -> {len(fills)} fill(s){'' if fills else ' (resting)'}"
        )
        return fills

    def positions(self, contract: ContractId, label: str) -> None:
        names = self.names()
        for account, position in sorted(self.x.risk.holders(contract).items()):
            if account in names:
                self.say(
                    f"    {label:<26} {names[account]:<14} qty={position.qty_lots:>4}"
                    f" basis={usd(position.basis_micro_usd)}"
                )

    def balances(self) -> None:
        for account, name in self.names().items():
            self.say(
                f"    USD {name:<14} {usd(self.x.risk.usd(account)):>22}"
                f"  (last seq {self.x.risk.last_sequence.get(account, 0)})"
            )

    def run(self) -> int:
        x = self.x
        self.say("== products and contracts")
        if not x.products.list_products():
            products, instruments = seed_rows(x.stores.clock.now_ns())
            for product in products:
                x.products.seed_product(product)
            for instrument in instruments:
                x.products.add_instrument(instrument)
        registry = load_symbol_registry(x.products)
        self.say(f"  registry loaded, {len(registry)} symbols, consistent with the seed table")
        perp = registry.contract_for("COMPUTEDESK-H100-PERP")
        h100 = perp.product
        dated = registry.find_contract(DATED_SYMBOL)
        if dated is None:
            dated = x.list_contract(DATED_SYMBOL, h100, ContractDate(DATED_DATE), None).contract
        new_product = x.products.find_product("COMPUTEDESK-RTX6000")
        if new_product is None:
            new_product = x.list_product("COMPUTEDESK-RTX6000")
        self.say(f"  perpetual COMPUTEDESK-H100-PERP  id {perp.value:#018x} = product {h100.value}")
        self.say(f"  dated     {DATED_SYMBOL} id {dated.value:#018x} (date {DATED_DATE})")
        new_id = new_product.product_id.value
        self.say(f"  new product COMPUTEDESK-RTX6000 got id {new_id} from the sequence")
        x.bootstrap()
        for account_id in self.names():
            account = x.stores.accounts.get_account(account_id)
            assert account is not None, account_id
            x.open_ledger_account(account)
        self.deposits()
        self.perpetual(perp)
        self.dated(perp, dated)
        self.withdrawals()
        return self.report()

    def deposits(self) -> None:
        x, cast = self.x, self.cast
        alice_default = cast.alice.as_default_account_id()
        bob_default = cast.bob.as_default_account_id()
        self.say("== deposits (AX_CUSTODY -> account USD)")
        x.deposit(alice_default, 50_000 * MICRO)
        x.deposit(cast.desk, 20_000 * MICRO)
        x.deposit(bob_default, 80_000 * MICRO)
        self.balances()

    def perpetual(self, perp: ContractId) -> None:
        x, cast = self.x, self.cast
        alice, bob = UserSession(cast.alice), UserSession(cast.bob)
        self.say("== perpetual: bob rests an offer, alice's desk key and alice's session lift it")
        self.order("bob", bob, perp, side=Side.SELL, qty_lots=10, price_micro_usd=2_500 * MICRO)
        self.order(
            "alice-desk key",
            cast.alice_key,
            perp,
            side=Side.BUY,
            qty_lots=4,
            price_micro_usd=2_510 * MICRO,
        )
        self.order("alice", alice, perp, side=Side.BUY, qty_lots=6, price_micro_usd=2_505 * MICRO)
        self.positions(perp, "COMPUTEDESK-H100-PERP")
        self.say("== alice's desk sells 6 at 2,600 to bob: closes 4, flips to short 2")
        self.order("bob", bob, perp, side=Side.BUY, qty_lots=6, price_micro_usd=2_600 * MICRO)
        self.order(
            "alice-desk key",
            cast.alice_key,
            perp,
            side=Side.SELL,
            qty_lots=6,
            price_micro_usd=2_600 * MICRO,
        )
        self.positions(perp, "COMPUTEDESK-H100-PERP")
        self.say("== funding on the perpetual: mark 2,550, rate 0.01 % (100,000 ppb)")
        funded = x.fund(perp, 2_550 * MICRO, 100_000)
        self.say(f"  {len(funded.transfers)} funding transfers against AX_FUNDING")

    def dated(self, perp: ContractId, dated: ContractId) -> None:
        x, cast = self.x, self.cast
        alice, bob = UserSession(cast.alice), UserSession(cast.bob)
        self.say("== dated contract: alice buys 5 from bob")
        self.order("bob", bob, dated, side=Side.SELL, qty_lots=5, price_micro_usd=2_400 * MICRO)
        self.order("alice", alice, dated, side=Side.BUY, qty_lots=5, price_micro_usd=2_400 * MICRO)
        self.positions(dated, DATED_SYMBOL)
        self.say("== close-only: alice-desk may reduce but not add")
        x.set_flags(cast.desk, frozen=False, close_only=True)
        self.order(
            "alice-desk key",
            cast.alice_key,
            perp,
            side=Side.SELL,
            qty_lots=1,
            price_micro_usd=2_600 * MICRO,
        )
        self.order("bob", bob, perp, side=Side.SELL, qty_lots=1, price_micro_usd=2_590 * MICRO)
        self.order(
            "alice-desk key",
            cast.alice_key,
            perp,
            side=Side.BUY,
            qty_lots=1,
            price_micro_usd=2_590 * MICRO,
        )
        x.set_flags(cast.desk, frozen=False, close_only=False)
        self.say("== the delist fence before expiry")
        fence = x.delist_fence(dated)
        self.say(f"  delist allowed: {fence.allowed}; blockers: {len(fence.blockers)}")
        for blocker in fence.blockers[:4]:
            self.say(f"    - {blocker}")
        self.say("== expiry settlement of the dated contract at 2,450")
        settled = x.settle_expiry(dated, 2_450 * MICRO)
        codes = "SETTLEMENT_QTY, REALIZED_PNL, BASIS_RESET"
        self.say(f"  {len(settled.transfers)} linked transfers ({codes})")
        self.positions(dated, DATED_SYMBOL)
        fence = x.delist_fence(dated)
        self.say(f"  delist allowed after settlement: {fence.allowed}")
        x.delist(dated)

    def withdrawals(self) -> None:
        x = self.x
        bob_default = self.cast.bob.as_default_account_id()
        self.say("== an overdrawing withdrawal is refused by the ledger, nothing moves")
        before = x.risk.usd(bob_default)
        try:
            x.withdraw(bob_default, before + 1)
        except LedgerRejected as error:
            self.say(f"  withdrawal of {usd(before + 1)} refused: {error.problem}")
        assert x.risk.usd(bob_default) == before
        x.withdraw(bob_default, 1_000 * MICRO)
        self.say("== balances")
        self.balances()

    def report(self) -> int:
        violations = self.x.check_invariants()
        self.say("== invariant report")
        counts = dict.fromkeys(INVARIANT_CODES, 0)
        for violation in violations:
            counts[violation.code] += 1
        self.say("  " + "  ".join(f"{code}={n}" for code, n in counts.items()))
        for violation in violations[:20]:
            self.say(f"  VIOLATION {violation.code} {violation.subject}: {violation.detail}")
        resumed = self.x.resume_matches_live()
        inputs = self.x.invariant_inputs()
        self.say(
            f"  {len(inputs.transfers)} transfers, {len(inputs.ledger_accounts)} ledger accounts,"
            f" {len(inputs.orders)} orders, {len(inputs.audit)} audit records"
        )
        self.say(f"  resume(scan) == live state: {resumed}")
        self.say(f"  total violations: {len(violations)}")
        return 0 if not violations and resumed else 1
