"""The console in a real browser: Debian's Chromium driven by Playwright against a real
``ax serve`` on a free port and a temporary data folder. Never a downloaded browser; under
CI=true a missing ``chromium`` fails the run (``.ci/run`` installs it from Debian).

Screenshots of each view go to ``$UI_ARTIFACTS_DIR`` when set, else to a folder under
pytest's temporary directory (its path is printed with ``-s``)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from playwright.sync_api import sync_playwright

from tests.conftest import in_ci

AX = str(Path(sys.executable).with_name("ax"))
WAIT_S = 60
MICRO = 1_000_000
H100 = "COMPUTEDESK-H100-PERP"
A100 = "COMPUTEDESK-A100-PERP"
PRICE = 1_000 * MICRO
CHROMIUM_ARGS = [
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@attrs.define
class Server:
    """A running ``ax serve`` and its operator token; seeds the world through the API."""

    base: str
    ops: str
    keys: int = 0

    def call(self, token: str, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.base + path,
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=WAIT_S) as answer:
            return json.loads(answer.read())

    def key(self) -> str:
        self.keys += 1
        return f"b-{self.keys}"

    def user(self, name: str, deposit_micro_usd: int = 0) -> tuple[str, str, str]:
        made = self.call(self.ops, "POST", "/v1/admin/users", {"username": name})
        user, account = made["user_id"], made["default_account_id"]
        session = self.call(self.ops, "POST", f"/v1/admin/users/{user}/sessions")["token"]
        if deposit_micro_usd:
            self.deposit(account, deposit_micro_usd)
        return user, account, session

    def deposit(self, account: str, amount_micro_usd: int) -> None:
        body = {"amount_micro_usd": amount_micro_usd, "idempotency_key": self.key()}
        self.call(self.ops, "POST", f"/v1/admin/accounts/{account}/deposits", body)

    def account(self, session: str, name: str, deposit_micro_usd: int) -> str:
        account: str = self.call(session, "POST", "/v1/accounts", {"name": name})["account_id"]
        self.deposit(account, deposit_micro_usd)
        return account

    def order(self, token: str, account: str, symbol: str, side: str, qty_lots: int) -> Any:
        key = self.key()
        body = {
            "account_id": account,
            "symbol": symbol,
            "side": side,
            "qty_lots": qty_lots,
            "limit_price_micro_usd": PRICE,
            "client_order_id": key,
            "time_in_force": "gtc",
            "idempotency_key": key,
        }
        return self.call(token, "POST", "/v1/orders", body)

    def grant(self, session: str, account: str, user: str, permissions: list[str]) -> None:
        body = {"account_id": account, "user_id": user, "permissions": permissions}
        self.call(session, "POST", "/v1/grants", body)


@pytest.fixture(scope="module")
def server(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data = tmp_path_factory.mktemp("console-data")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AX_")}
    env["AX_DATA_DIR"] = str(data)
    ops = subprocess.run(
        [AX, "operator", "create", "console-ops"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    process = subprocess.Popen(
        [AX, "serve", "--host", "127.0.0.1", "--port", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line.startswith("ax serve: listening on http://127.0.0.1:"), line
        yield Server(line.rsplit(" ", 1)[1], ops)
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(WAIT_S)
    assert code == 0
    assert process.stderr is not None and "Traceback" not in process.stderr.read()


@pytest.fixture(scope="module")
def chromium() -> str:
    """Debian's browser, checked before a server starts for nothing."""
    executable = shutil.which("chromium")
    if executable is None:
        message = "Debian's chromium is not installed (apt-get install -y chromium)"
        if in_ci():
            pytest.fail(f"{message}; CI=true makes the browser tests mandatory")
        pytest.skip(f"SKIPPING BROWSER TESTS: {message}")
    return executable


@pytest.fixture(scope="module")
def browser(chromium: str, server: Server) -> Iterator[Any]:
    """Depends on the server so that it closes first: no page keeps a stream open while
    the server stops."""
    args = [*CHROMIUM_ARGS, *(["--no-sandbox"] if os.geteuid() == 0 else [])]
    with sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=chromium, args=args)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    configured = os.environ.get("UI_ARTIFACTS_DIR")
    folder = Path(configured) if configured else tmp_path_factory.mktemp("ui-screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    print(f"console screenshots: {folder}")
    return folder


@attrs.define
class Browsing:
    """Logged-in pages of one test; their contexts (and so their account streams, which
    share the server's one worker) close when the test ends."""

    browser: Any
    server: Server
    contexts: list[Any] = attrs.Factory(list)

    def login(
        self, token: str, viewport: dict[str, int] = DESKTOP, shot: Path | None = None
    ) -> Any:
        context = self.browser.new_context(viewport=viewport, base_url=self.server.base)
        self.contexts.append(context)
        page = context.new_page()
        page.goto("/ui/login")
        if shot is not None:
            page.screenshot(path=str(shot))
        page.get_by_label("Credential").fill(token)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_load_state()
        return page


@pytest.fixture
def browsing(browser: Any, server: Server) -> Iterator[Browsing]:
    done = Browsing(browser, server)
    yield done
    for context in done.contexts:
        context.close()


def position_symbols(page: Any) -> list[str]:
    if page.locator("#positions").count() == 0:
        return []
    return [s.strip() for s in page.locator("#positions tbody tr td:first-child").all_inner_texts()]


def test_switching_accounts_shows_only_that_accounts_positions(
    browsing: Browsing, server: Server, shots: Path
) -> None:
    _, alice_default, alice = server.user("alice", 50_000 * MICRO)
    alice_desk = server.account(alice, "alice-desk", 50_000 * MICRO)
    _, bob_account, bob = server.user("bob", 100_000 * MICRO)
    server.order(bob, bob_account, H100, "sell", 2)
    server.order(alice, alice_default, H100, "buy", 2)
    server.order(bob, bob_account, A100, "sell", 5)
    server.order(alice, alice_desk, A100, "buy", 5)
    page = browsing.login(alice)
    assert page.url.endswith(f"/ui/trader?account_id={alice_default}")
    selector = page.get_by_role("combobox", name="Account")
    assert selector.is_visible()
    assert position_symbols(page) == [H100]
    page.screenshot(path=str(shots / "trader-default-account.png"), full_page=True)
    selector.select_option(alice_desk)  # the page script submits the selector on change
    page.wait_for_url(f"**/ui/trader?account_id={alice_desk}")
    assert position_symbols(page) == [A100]
    assert page.locator("#positions tbody td.num").first.inner_text() == "5"
    assert alice_default not in page.locator("main").inner_text()
    page.screenshot(path=str(shots / "trader-second-account.png"), full_page=True)
    # Labels and roles: every visible form control is named, the landmarks are there.
    for label in ("Symbol", "Quantity (lots)", "Limit price (micro-USD)", "Time in force"):
        assert page.get_by_label(label).is_visible()
    assert page.get_by_role("radio", name="Buy").is_checked()
    assert page.get_by_role("main").count() == 1
    unnamed = page.evaluate(
        """() => [...document.querySelectorAll('input:not([type=hidden]), select')]
            .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
            .map(e => e.id || e.name)"""
    )
    assert unnamed == []
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    # The account stream refreshes the panel: a counter-order fills alice's resting bid.
    page.get_by_label("Quantity (lots)").fill("1")
    page.get_by_label("Limit price (micro-USD)").fill(str(PRICE))
    page.get_by_role("button", name="Place order").click()
    page.wait_for_selector("#placed")
    assert page.locator("#open-orders tbody tr").count() == 1
    server.order(bob, bob_account, A100, "sell", 1)
    page.wait_for_selector("#open-orders", state="detached", timeout=10_000)
    assert "Updated" in page.locator("#live-status").inner_text()
    phone = browsing.login(alice, PHONE)
    phone.goto(f"/ui/trader?account_id={alice_desk}")
    assert phone.get_by_role("button", name="Place order").is_visible()
    phone.screenshot(path=str(shots / "trader-phone.png"), full_page=True)
    wide = phone.evaluate(
        """(w) => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > w && !e.closest('.scroll'))
            .map(e => e.tagName + '#' + e.id + '.' + e.className)""",
        PHONE["width"],
    )
    assert wide == []


def test_read_only_grant_shows_no_order_form(
    browsing: Browsing, server: Server, shots: Path
) -> None:
    _, owner_account, owner = server.user("olga", 10_000 * MICRO)
    carol_id, _, carol = server.user("carol")
    server.grant(owner, owner_account, carol_id, ["list", "read"])
    page = browsing.login(carol)
    page.get_by_role("combobox", name="Account").select_option(owner_account)
    page.wait_for_url(f"**/ui/trader?account_id={owner_account}")
    assert page.locator("#order-form").count() == 0
    assert page.get_by_role("button", name="Place order").count() == 0
    assert page.locator("#no-trade").is_visible()
    page.screenshot(path=str(shots / "trader-read-only.png"), full_page=True)


def test_user_with_only_the_default_account_sees_no_selector(
    browsing: Browsing, server: Server, shots: Path
) -> None:
    _, account, dave = server.user("dave", 1_000 * MICRO)
    page = browsing.login(dave, shot=shots / "login.png")
    assert page.url.endswith(f"?account_id={account}")
    assert page.get_by_role("combobox", name="Account").count() == 0
    assert page.locator("#account-name").inner_text() == "Account: dave-default"
    page.screenshot(path=str(shots / "trader-single-account.png"), full_page=True)


def test_operator_freezes_an_account_and_the_trader_is_refused(
    browsing: Browsing, server: Server, shots: Path
) -> None:
    _, _, erin = server.user("erin", 10_000 * MICRO)
    erin_desk = server.account(erin, "erin-desk", 10_000 * MICRO)
    ops = browsing.login(server.ops)
    assert ops.url.endswith("/ui/admin")
    ops.get_by_label("Find a user (part of the username, or the 16-hex user id)").fill("erin")
    ops.get_by_role("button", name="Find").click()
    ops.get_by_role("link", name="erin").click()
    ops.get_by_role("link", name="erin-desk").click()
    ops.get_by_role("button", name="Freeze erin-desk").click()
    ops.wait_for_selector("#flags-changed")
    assert "frozen" in ops.locator("#account-state").inner_text()
    trail = ops.locator("#audit tbody tr", has_text="set_flags")
    assert trail.count() == 1
    assert "operator #" in trail.inner_text()
    assert erin_desk in trail.inner_text()
    ops.screenshot(path=str(shots / "admin-account.png"), full_page=True)
    ops.get_by_role("link", name="Health").click()
    assert ops.locator("#invariants tbody tr").count() == 12
    assert ops.locator("#inv-summary").inner_text() == "All twelve invariants hold."
    assert ops.get_by_role(
        "img", name="Ledger events per minute (last 30 minutes, UTC)"
    ).is_visible()
    ops.screenshot(path=str(shots / "health.png"), full_page=True)

    page = browsing.login(erin)
    page.goto(f"/ui/trader?account_id={erin_desk}")
    banner = page.get_by_role("alert")
    assert "frozen" in banner.inner_text()
    page.get_by_label("Quantity (lots)").fill("1")
    page.get_by_label("Limit price (micro-USD)").fill(str(PRICE))
    page.get_by_role("button", name="Place order").click()
    page.wait_for_selector("#refusal")
    assert "account_frozen" in page.locator("#refusal").inner_text()
    assert page.locator("#open-orders").count() == 0
    page.screenshot(path=str(shots / "trader-frozen-refused.png"), full_page=True)
