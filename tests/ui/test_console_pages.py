"""The console's pages without a browser: cookie flags, CSRF refusals, strict forms, and
that a page shows the one account it names and nothing of another."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from axdomain import Permissions
from axdomain.orders import Side
from tests.app_support import MICRO, PERP, World
from tests.ui.support import Console, csrf_of, session_cookie

PRICE = 1_000 * MICRO


@pytest.fixture
def console() -> Console:
    return Console(World.build())


def order_form(account: str, csrf: str | None, **over: str) -> dict[str, str]:
    form = {
        "account_id": account,
        "symbol": PERP,
        "side": "buy",
        "qty_lots": "1",
        "limit_price_micro_usd": str(PRICE),
        "time_in_force": "gtc",
        "client_order_id": "c-1",
        "idempotency_key": "c-1",
    }
    if csrf is not None:
        form["csrf"] = csrf
    form.update(over)
    return form


def order_refused(client: TestClient, account: str, page_html: str, code: str) -> None:
    answer = client.post("/ui/trader/orders", data=order_form(account, csrf_of(page_html)))
    assert answer.status_code == 403
    assert code in answer.text


def test_login_cookie_is_httponly_strict_and_scoped_to_the_console(console: Console) -> None:
    user, _, _ = console.world.user("alice")
    client = console.client()
    answer = console.login(client, console.session(user.user_id))
    assert answer.status_code == 303
    assert answer.headers["location"] == "/ui/trader"
    cookie = session_cookie(answer)
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Path=/ui" in cookie
    assert "Secure" not in cookie  # plain http on localhost: see docs/console.md
    page = client.get("/ui/trader", follow_redirects=True)
    assert "no-store" in page.headers["cache-control"]
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


def test_over_https_the_cookie_is_secure() -> None:
    console = Console(World.build(), base_url="https://console.example")
    user, _, _ = console.world.user("alice")
    answer = console.login(console.client(), console.session(user.user_id))
    assert "Secure" in session_cookie(answer)


def test_login_without_the_double_submit_pair_is_refused(console: Console) -> None:
    user, _, _ = console.world.user("alice")
    client = console.client()
    client.get("/ui/login")
    answer = client.post(
        "/ui/login", data={"csrf": "0" * 32, "token": console.session(user.user_id)}
    )
    assert answer.status_code == 403
    assert "ax_console=" not in answer.headers.get("set-cookie", "")
    bad = client.post("/ui/login", data={"csrf": csrf_of(answer.text), "token": "axs_nope"})
    assert bad.status_code == 401
    assert "unauthenticated" in bad.text


def test_a_post_without_its_csrf_token_changes_nothing(console: Console) -> None:
    world = console.world
    user, account, _ = world.user("alice", 10_000 * MICRO)
    client = console.logged_in(console.session(user.user_id))
    account_id = str(account.account_id)
    before = len(world.app.stores.orders.all_orders())
    for csrf in (None, "f" * 64):
        answer = client.post("/ui/trader/orders", data=order_form(account_id, csrf))
        assert answer.status_code == 403
        assert "csrf" in answer.text
    # A token drawn for another credential does not fit this one either.
    other, _, _ = world.user("bob")
    stolen = csrf_of(console.logged_in(console.session(other.user_id)).get("/ui/login").text)
    assert client.post("/ui/trader/orders", data=order_form(account_id, stolen)).status_code == 403
    assert len(world.app.stores.orders.all_orders()) == before
    page = client.get(f"/ui/trader?account_id={account_id}")
    placed = client.post("/ui/trader/orders", data=order_form(account_id, csrf_of(page.text)))
    assert placed.status_code == 200, placed.text
    assert 'id="placed"' in placed.text
    assert len(world.app.stores.orders.all_orders()) == before + 1


def test_a_form_with_an_unknown_field_is_refused_by_name(console: Console) -> None:
    user, account, _ = console.world.user("alice", 10_000 * MICRO)
    client = console.logged_in(console.session(user.user_id))
    page = client.get(f"/ui/trader?account_id={account.account_id}")
    form = order_form(str(account.account_id), csrf_of(page.text), acount_id="x")
    answer = client.post("/ui/trader/orders", data=form)
    assert answer.status_code == 422
    assert "acount_id" in answer.text
    assert console.world.app.stores.orders.all_orders() == []


def test_a_page_shows_only_the_account_it_names(console: Console) -> None:
    world = console.world
    alice, alice_account, alice_s = world.user("alice", 10_000 * MICRO)
    _, bob_account, bob_s = world.user("bob", 20_000 * MICRO)
    world.place(alice_s, Side.BUY, 3, PRICE)
    world.place(bob_s, Side.SELL, 3, PRICE)
    client = console.logged_in(console.session(alice.user_id))
    mine = client.get(f"/ui/trader?account_id={alice_account.account_id}")
    assert mine.status_code == 200
    assert str(bob_account.account_id) not in mine.text
    assert "bob" not in mine.text
    assert 'id="account-name"' in mine.text  # one account: no selector
    assert 'id="account-select"' not in mine.text
    for path in ("/ui/trader", "/ui/trader/panel"):
        theirs = client.get(f"{path}?account_id={bob_account.account_id}")
        assert theirs.status_code == 404
        assert "account_not_found" in theirs.text
        assert "20,000" not in theirs.text
        assert "-3" not in theirs.text
    nowhere = client.get("/ui/trader?account_id=00000000deadbeef")
    assert nowhere.status_code == 404
    assert nowhere.text.replace("00000000deadbeef", str(bob_account.account_id)) == theirs.text


def test_selector_lists_whoami_accounts_and_read_only_has_no_order_form(
    console: Console,
) -> None:
    world = console.world
    _, alice_account, alice_s = world.user("alice", 10_000 * MICRO)
    carol, _, _ = world.user("carol")
    world.app.membership.grant(
        alice_s, alice_account.account_id, carol.user_id, Permissions.READ_ONLY
    )
    client = console.logged_in(console.session(carol.user_id))
    page = client.get(f"/ui/trader?account_id={alice_account.account_id}")
    assert page.status_code == 200
    assert 'id="account-select"' in page.text
    assert page.text.count("<option value=") == 2
    assert 'id="order-form"' not in page.text
    assert 'id="no-trade"' in page.text
    assert "Cancel" not in page.text
    order_refused(client, str(alice_account.account_id), page.text, "not_permitted")


def test_customer_on_operator_pages_and_anonymous_visitors(console: Console) -> None:
    user, _, _ = console.world.user("alice")
    anonymous = console.client()
    for path in ("/ui/", "/ui/trader", "/ui/admin", "/ui/health"):
        answer = anonymous.get(path, follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"] == "/ui/login"
    client = console.logged_in(console.session(user.user_id))
    for path in ("/ui/admin", "/ui/health", "/ui/admin/user?user_id=" + str(user.user_id)):
        answer = client.get(path)
        assert answer.status_code == 403
        assert "not_permitted" in answer.text


def test_admin_pages_find_freeze_and_show_the_trail(console: Console) -> None:
    world = console.world
    alice, alice_account, alice_s = world.user("alice", 10_000 * MICRO)
    bob, _, _ = world.user("bob")
    world.app.membership.grant(alice_s, alice_account.account_id, bob.user_id, Permissions.TRADER)
    _, token = world.mint(alice_s, alice_account.account_id, Permissions.READ_ONLY)
    ops = console.logged_in(console.ops_token)
    found = ops.get("/ui/admin?q=ALI")
    assert f"/ui/admin/user?user_id={alice.user_id}" in found.text
    assert "bob" not in found.text
    bobs = ops.get(f"/ui/admin/user?user_id={bob.user_id}")
    assert 'id="granted-accounts"' in bobs.text
    assert str(alice_account.account_id) in bobs.text
    path = f"/ui/admin/account?account_id={alice_account.account_id}"
    page = ops.get(path)
    assert page.status_code == 200
    assert token.split("_", 2)[-1][-12:] not in page.text  # never the secret
    assert "list, read" in page.text  # the key's scope
    assert "alice" in page.text.split('id="grants"')[1].split("</table>")[0]
    frozen = ops.post(
        "/ui/admin/account/flags",
        data={
            "csrf": csrf_of(page.text),
            "account_id": str(alice_account.account_id),
            "change": "freeze",
        },
    )
    assert frozen.status_code == 200, frozen.text
    assert world.app.stores.accounts.get_account(alice_account.account_id).is_frozen
    trail = frozen.text.split('id="audit"')[1]
    assert "set_flags" in trail
    assert "operator #" in trail
    assert str(alice_account.account_id) in trail
    assert 'id="who-could"' in frozen.text


def test_health_page_lists_the_twelve_codes_and_draws_two_charts(console: Console) -> None:
    world = console.world
    _, _, alice_s = world.user("alice", 10_000 * MICRO)
    _, _, bob_s = world.user("bob", 10_000 * MICRO)
    world.place(alice_s, Side.BUY, 1, PRICE)
    world.place(bob_s, Side.SELL, 1, PRICE)
    page = console.logged_in(console.ops_token).get("/ui/health")
    assert page.status_code == 200
    table = page.text.split('id="invariants"')[1].split("</table>")[0]
    assert table.count('<th scope="row">') == 12
    assert "All twelve invariants hold." in page.text
    assert page.text.count('role="img"') == 2
    assert f"{PERP}: 2" in page.text


def test_an_api_key_lands_on_its_own_account_with_its_scope(console: Console) -> None:
    world = console.world
    alice, _, alice_s = world.user("alice", 10_000 * MICRO)
    desk = world.app.identity.create_account(alice_s, "alice-desk")
    world.deposit(desk.account_id, 1_000 * MICRO)
    _, token = world.mint(alice_s, desk.account_id, Permissions.READ_ONLY)
    client = console.logged_in(token)
    first = client.get("/ui/trader", follow_redirects=False)
    assert first.headers["location"] == f"/ui/trader?account_id={desk.account_id}"
    page = client.get(first.headers["location"])
    assert page.status_code == 200
    assert 'id="account-select"' not in page.text  # a key sees its one account
    assert 'id="order-form"' not in page.text
    assert "1,000.000000" in page.text
    other = client.get(f"/ui/trader?account_id={alice.user_id.as_default_account_id()}")
    assert other.status_code == 404


def test_cancel_from_the_page_and_the_close_only_banner(console: Console) -> None:
    world = console.world
    user, account, session = world.user("alice", 10_000 * MICRO)
    world.place(session, Side.BUY, 1, PRICE, client_order_id="resting")
    client = console.logged_in(console.session(user.user_id))
    page = client.get(f"/ui/trader?account_id={account.account_id}")
    order_id = page.text.split('name="order_id" value="')[1].split('"')[0]
    form = {"csrf": csrf_of(page.text), "account_id": str(account.account_id), "order_id": order_id}
    cancelled = client.post("/ui/trader/cancel", data=form)
    assert cancelled.status_code == 200
    assert 'id="cancelled"' in cancelled.text
    assert 'id="open-orders"' not in cancelled.text
    again = client.post("/ui/trader/cancel", data=form)
    assert again.status_code == 409
    world.app.operator.set_flags(world.ops, account.account_id, is_frozen=False, is_close_only=True)
    panel = client.get(f"/ui/trader/panel?account_id={account.account_id}")
    assert 'id="banner-close-only"' in panel.text
    assert 'id="banner-frozen"' not in panel.text
    order_refused(client, str(account.account_id), page.text, "close_only")


def test_the_page_stream_refuses_another_account(console: Console) -> None:
    world = console.world
    user, _, _ = world.user("alice")
    _, bob_account, _ = world.user("bob")
    client = console.logged_in(console.session(user.user_id))
    answer = client.get(f"/ui/trader/stream?account_id={bob_account.account_id}")
    assert answer.status_code == 404
    assert answer.text == "account_not_found"
    assert (
        console.client().get(f"/ui/trader/stream?account_id={bob_account.account_id}").status_code
        == 401
    )
