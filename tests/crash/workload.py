"""A random workload for the crash test, run as a subprocess and SIGKILLed at random points.

``python -m tests.crash.workload DATA_DIR SEED`` (``AX_DATABASE_URL`` selects PostgreSQL).
Every request carries an idempotency key unique to ``(seed, n)``. Before a request it
appends ``SENT`` with the request to ``DATA_DIR/requests.log``; after the answer, ``ACK``
with the answer (both fsynced). The parent re-sends every request after the kill and checks
that acknowledged answers come back unchanged and nothing posts twice.
"""

from __future__ import annotations

import json
import os
import random
import sys
from pathlib import Path
from typing import Any

from axapp.bootstrap import application, create_operator
from axapp.config import Config
from axapp.runtime import open_runtime
from axapp.use_cases import Application
from axdomain import DomainError, Permissions, Principal, UserId
from axdomain.idempotency import derived_transfer_ids
from axdomain.orders import Side, TimeInForce

MICRO = 1_000_000
PERP = "COMPUTEDESK-H100-PERP"
USERS = ("ann", "ben", "cat")
MAX_REQUESTS = 100_000


def setup(app: Application, folder: Path) -> dict[str, Any]:
    """Operator and users once (written to cast.json after they exist)."""
    cast_file = folder / "cast.json"
    if cast_file.exists():
        return dict(json.loads(cast_file.read_text()))
    token = create_operator(app.stores, f"ops-{os.getpid()}", app.gateway_pepper)
    users: dict[str, UserId] = {}
    ops = app.gateway.authenticate(token)
    for name in USERS:
        user, _ = app.operator.onboard_user(ops, f"{name}-{folder.name}")
        users[name] = user.user_id
    for owner, owner_id in users.items():
        session = app.gateway.authenticate(app.operator.issue_session(ops, owner_id))
        for other, other_id in users.items():
            if other != owner:  # READ on each other's default account: transfers may land
                app.membership.grant(
                    session, owner_id.as_default_account_id(), other_id, Permissions.READ_ONLY
                )
    cast = {"operator": token, "users": {name: str(uid) for name, uid in users.items()}}
    tmp = cast_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(cast))
    os.replace(tmp, cast_file)
    return cast


def principals(app: Application, cast: dict[str, Any]) -> tuple[Principal, dict[str, Principal]]:
    ops = app.gateway.authenticate(cast["operator"])
    sessions = {}
    for name, hex_id in cast["users"].items():
        token = app.operator.issue_session(ops, UserId.from_hex(hex_id))
        sessions[name] = app.gateway.authenticate(token)
    return ops, sessions


def request_for(rng: random.Random, seed: int, n: int) -> dict[str, Any]:
    """One request of the stream, as plain data (so the parent can re-send it)."""
    key = f"s{seed}-{n}"
    user = rng.choice(USERS)
    kind = rng.choices(
        ["deposit", "order", "cancel", "withdraw", "resolve", "transfer", "funding"],
        [3, 8, 2, 2, 2, 2, 1],
    )[0]
    request: dict[str, Any] = {"n": n, "key": key, "kind": kind, "user": user}
    if kind == "deposit":
        request["amount"] = rng.randint(1, 50_000) * MICRO
    elif kind == "order":
        request.update(
            side=rng.choice(["buy", "sell"]),
            qty=rng.randint(1, 5),
            price=rng.randint(95, 105) * MICRO,
            tif=rng.choice(["gtc", "gtc", "ioc"]),
        )
    elif kind == "cancel":
        request["client_order_id"] = f"s{seed}-{rng.randint(0, max(n - 1, 0))}"
    elif kind == "resolve":  # an earlier request's withdrawal, named by its key
        request["withdrawal_key"] = f"s{seed}-{rng.randint(0, max(n - 1, 0))}"
        request["post"] = rng.random() < 0.5
    elif kind in ("withdraw", "transfer"):
        request["amount"] = rng.randint(1, 2_000) * MICRO
        request["to"] = rng.choice([u for u in USERS if u != user])
    elif kind == "funding":
        request["rate"] = rng.randint(-50_000, 50_000)
    return request


def perform(
    app: Application,
    ops: Principal,
    sessions: dict[str, Principal],
    cast: dict[str, Any],
    request: dict[str, Any],
) -> dict[str, Any]:
    """Run one request; the answer as JSON-ready data (refusals included)."""
    who = sessions[request["user"]]
    key, kind = request["key"], request["kind"]
    account = UserId.from_hex(cast["users"][request["user"]]).as_default_account_id()
    try:
        if kind == "deposit":
            return app.money.deposit(ops, account, request["amount"], key).as_dict()
        if kind == "order":
            return app.orders.place(
                who,
                symbol=PERP,
                side=Side(request["side"]),
                qty_lots=request["qty"],
                limit_price_micro_usd=request["price"],
                client_order_id=key,
                time_in_force=TimeInForce(request["tif"]),
                idempotency_key=key,
            ).as_dict()
        if kind == "cancel":
            return app.orders.cancel(who, client_order_id=request["client_order_id"]).as_dict()
        if kind == "withdraw":
            return app.money.withdraw(
                who, amount_micro_usd=request["amount"], idempotency_key=key
            ).as_dict()
        if kind == "resolve":
            withdrawal_id = next(derived_transfer_ids(account, request["withdrawal_key"]))
            resolve = app.money.post_withdrawal if request["post"] else app.money.void_withdrawal
            return resolve(ops, account, withdrawal_id, key).as_dict()
        if kind == "transfer":
            to = UserId.from_hex(cast["users"][request["to"]]).as_default_account_id()
            return app.money.transfer(
                who,
                from_account_id=account,
                to_account_id=to,
                amount_micro_usd=request["amount"],
                idempotency_key=key,
            ).as_dict()
        return app.operator.funding(
            ops,
            PERP,
            mark_price_micro_usd=100 * MICRO,
            rate_ppb=request["rate"],
            idempotency_key=key,
        ).as_dict()
    except DomainError as error:
        return {"refused": type(error).__name__}


def append(log: Any, line: dict[str, Any]) -> None:
    log.write(json.dumps(line) + "\n")
    log.flush()
    os.fsync(log.fileno())


def main(argv: list[str]) -> int:
    folder, seed = Path(argv[0]), int(argv[1])
    config = Config.from_env({**os.environ, "AX_DATA_DIR": str(folder)})
    rng = random.Random(seed)
    with open_runtime(config) as runtime:
        app = application(runtime)
        cast = setup(app, folder)
        ops, sessions = principals(app, cast)
        with open(folder / "requests.log", "a", encoding="utf-8") as log:
            append(log, {"ready": seed})
            for n in range(MAX_REQUESTS):
                request = request_for(rng, seed, n)
                append(log, {"sent": request})
                answer = perform(app, ops, sessions, cast, request)
                append(log, {"ack": request["n"], "seed": seed, "answer": answer})
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
