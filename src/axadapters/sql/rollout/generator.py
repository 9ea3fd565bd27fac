"""Fill the 1:1-era schema with N users of realistic data (deterministic for a seed).

Each user has exactly one account, its default (the user's bit pattern), as in the 1:1
era; the six system accounts exist without users. The mix mirrors what the seed reports
of the live system: about 5 % of accounts have no ``account_permissions`` row at all
(seeded before grants existed: A-3623), a few users hold read-only grants on another
user's account, a user carries 0-2 API keys, some users are frozen or close-only (on the
user row; the account copies were never written), 10 % of users were never provisioned
at the venue, balances include 128-bit values, and the leaderboard holds past periods.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import attrs
from sqlalchemy import Engine, Table

from axadapters.sql.rollout import legacy
from axadapters.sql.rollout.ddl import NS_PER_MS
from axdomain.errors import InvalidValue
from axdomain.ids import SYSTEM_ACCOUNTS, AccountId
from axdomain.participant import generate_participant
from axdomain.permissions import Permissions

FIRST_MS = 1_672_531_200_000  # 2023-01-01: user ids are ULID-shaped (time << 16 | random)
MAX_USERS = 10_000_000
INSERT_CHUNK_ROWS = 5_000
CHAINS = (("bitcoin", "BTC"), ("ethereum", "ETH"), ("ethereum", "USDC"), ("solana", "SOL"))
METRICS = ("pnl", "volume")
CADENCES = ("daily", "monthly")
PERIODS = 3
LEADERBOARD_SHARE = 0.25
DAY_NS = 86_400 * 1_000_000_000
TRADER = ("can_list", "can_read", "can_reduce_or_close", "can_trade")
READ_ONLY = ("can_list", "can_read")


@attrs.frozen
class Generated:
    users: int
    rows: dict[str, int]


def user_ids(users: int, seed: int) -> list[int]:
    draw = random.Random(seed)
    return [((FIRST_MS + n * 1_000) << 16) | draw.randrange(1 << 16) for n in range(users)]


def _flags(names: tuple[str, ...]) -> dict[str, bool]:
    return {name: name in names for name in Permissions.ORIGINAL_FLAG_NAMES}


def _rows(users: int, seed: int) -> Iterator[tuple[Table, dict[str, Any]]]:
    draw = random.Random(seed + 1)
    ids = user_ids(users, seed)
    for name, account in SYSTEM_ACCOUNTS.by_name().items():
        yield legacy.trading_accounts, _account(account.value, name, "system", (0, 0), 0)
    for n, uid in enumerate(ids):
        hex_id = f"{uid:016x}"
        created_ns = (uid >> 16) * NS_PER_MS
        maker, taker = draw.choice((0, 2, 5)), draw.choice((5, 10, 20))
        provisioned = draw.random() >= 0.10
        yield (
            legacy.users,
            {
                "user_id": hex_id,
                "username": f"user{n:07d}",
                "created_at_ns": created_ns,
                "is_frozen": draw.random() < 0.01,
                "is_close_only": draw.random() < 0.02,
                "maker_fee": maker,
                "taker_fee": taker,
                "ep3_username": generate_participant(AccountId(uid)) if provisioned else None,
                "ep3_account": f"{hex_id}-account" if provisioned else None,
            },
        )
        yield (
            legacy.trading_accounts,
            _account(uid, f"acct{n:07d}", "customer", (maker, taker), created_ns),
        )
    for n, uid in enumerate(ids):
        hex_id = f"{uid:016x}"
        roll = draw.random()
        if roll >= 0.05:  # 5 %: no grant at all (seeded before account_permissions)
            names = Permissions.ORIGINAL_FLAG_NAMES if roll < 0.90 else TRADER
            yield (
                legacy.account_permissions,
                {"user_id": hex_id, "account_id": hex_id, **_flags(names)},
            )
        if draw.random() < 0.02 and users > 1:
            other = ids[(n + 1 + draw.randrange(users - 1)) % users]
            yield (
                legacy.account_permissions,
                {"user_id": hex_id, "account_id": f"{other:016x}", **_flags(READ_ONLY)},
            )
        for k in range(draw.choice((0, 1, 1, 2))):
            yield (
                legacy.api_keys,
                {
                    "key_id": f"{(uid ^ (0x9E37_79B9_7F4A_7C15 * (k + 1))) & ((1 << 64) - 1):016x}",
                    "user_id": hex_id,
                    "secret_hash": f"{draw.getrandbits(256):064x}",
                    "created_at_ns": (uid >> 16) * NS_PER_MS + k,
                    "revoked_at_ns": (uid >> 16) * NS_PER_MS + 10 if draw.random() < 0.1 else None,
                },
            )
        yield from _money_rows(draw, uid)
    for metric in METRICS:
        for cadence in CADENCES:
            for period in range(PERIODS):
                start_ns = FIRST_MS * NS_PER_MS + period * DAY_NS
                for uid in ids:
                    if draw.random() < LEADERBOARD_SHARE:
                        yield (
                            legacy.leaderboard,
                            {
                                "metric": metric,
                                "cadence": cadence,
                                "period_start_ns": start_ns,
                                "user_id": f"{uid:016x}",
                                "score": draw.randrange(-(10**9), 10**9, 1000),
                            },
                        )


def _money_rows(draw: random.Random, uid: int) -> Iterator[tuple[Table, dict[str, Any]]]:
    hex_id = f"{uid:016x}"
    at_ns = (uid >> 16) * NS_PER_MS
    if draw.random() < 0.95:
        big = draw.random() < 0.001
        yield (
            legacy.current_balances,
            {
                "user_id": hex_id,
                "account_id": hex_id,
                "updated_at_ns": at_ns,
                "balance_micro_usd": (1 << 70) + uid if big else draw.randrange(10**12),
            },
        )
    if draw.random() < 0.5:
        yield (
            legacy.monthly_loss_limits,
            {
                "user_id": hex_id,
                "updated_at_ns": at_ns,
                "limit_micro_usd": draw.randrange(10**6, 10**11),
            },
        )
    if draw.random() < 0.3:
        call = draw.randrange(5_000, 8_000)
        yield (
            legacy.loan_to_value_monitors,
            {
                "user_id": hex_id,
                "margin_call_ltv_bps": call,
                "liquidation_ltv_bps": call + 1_000,
                "updated_at_ns": at_ns,
            },
        )
    for chain, asset in draw.sample(CHAINS, draw.choice((0, 1, 1, 2))):
        yield (
            legacy.blockchain_deposit_addresses,
            {
                "user_id": hex_id,
                "blockchain": chain,
                "asset": asset,
                "address": f"{chain[:3]}-{asset.lower()}-{hex_id}",
                "created_at_ns": at_ns,
            },
        )


def _account(
    account: int, name: str, kind: str, fees: tuple[int, int], created_ns: int
) -> dict[str, Any]:
    return {
        "account_id": f"{account:016x}",
        "name": name,
        "kind": kind,
        "is_frozen": False,
        "is_close_only": False,
        "maker_fee_bps": fees[0],
        "taker_fee_bps": fees[1],
        "max_open_positions": 100,
        "max_notional_micro_usd": 10**13,
        "monthly_loss_limit_micro_usd": 10**11,
        "created_at_ns": created_ns,
    }


def generate_legacy(engine: Engine, users: int, seed: int = 0) -> Generated:
    """Create the legacy schema in an empty database and fill it with ``users`` users."""
    if not 1 <= users <= MAX_USERS:
        raise InvalidValue("users", users, f"must be 1..{MAX_USERS}")
    legacy.create_legacy_schema(engine)
    order = [table.name for table in legacy.legacy_metadata.sorted_tables]
    pending: dict[str, list[dict[str, Any]]] = {name: [] for name in order}
    counts = dict.fromkeys(order, 0)
    tables = legacy.legacy_metadata.tables
    with engine.begin() as connection:

        def flush(upto: int) -> None:
            for name in order[: upto + 1]:
                if pending[name]:
                    connection.execute(tables[name].insert(), pending[name])
                    counts[name] += len(pending[name])
                    pending[name] = []

        for table, row in _rows(users, seed):
            pending[table.name].append(row)
            if len(pending[table.name]) >= INSERT_CHUNK_ROWS:
                flush(order.index(table.name))
        flush(len(order) - 1)
    return Generated(users=users, rows=counts)
