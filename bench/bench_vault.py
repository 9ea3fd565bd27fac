"""Cost of the credentials vault and of one lane step, each next to its floor.

* seal + open of one credential (JSON payload, associated data, key lookup) against the floor
  of raw AES-GCM encrypt + decrypt of the same bytes with the same key;
* ``get_credential`` on the SQLite vault against the floor of a bare primary-key SELECT of
  the same row on the same engine;
* rotation throughput (rows/s, batches of 100) against the floor of re-writing the same rows
  with one plain executemany UPDATE per batch (no decryption, no compare-and-set);
* one lane step on memory stores and the in-process venue against the floor of the venue
  calls it makes (fills, positions, quote, submit) done directly.

Figures only, no assertions.

    .venv/bin/python bench/bench_vault.py
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import bindparam, select, update

from axadapters.lane_state import MemoryLaneStateStore
from axadapters.sql import schema
from axadapters.sql._support import hex64
from axadapters.sql.stores import open_sql_stores
from axadapters.vault import CredentialKeyring, MemoryCredentialVault
from axadapters.vault.sql import SqlCredentialVault
from axapp.lanes import FakeVenue, LaneEventLog, build_supervisor
from axapp.lanes.fake_venue import FAKE_VENUE
from axapp.lanes.manual_clock import ManualClock
from axapp.lanes.venue_client import VenueOrderRequest
from axapp.venue_config import AccountEntry, AccountMode, AccountRegistry
from axdomain import AccountId, Side
from axdomain.venues import (
    CredentialKey,
    CredentialPurpose,
    CredentialRef,
    SecretText,
    VenueCredential,
)

ROUNDS = 5
CALLS = 2_000
ROTATION_ROWS = 2_000
ROTATION_BATCH = 100
KEY_ONE = ("k1", bytes(range(32)))
KEY_TWO = ("k2", bytes(range(32, 64)))


def best_ns(operation: Callable[[], object], calls: int = CALLS) -> float:
    best_s = float("inf")
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(calls):
            operation()
        best_s = min(best_s, time.perf_counter() - start)
    return best_s / calls * 1e9


def credential(number: int) -> VenueCredential:
    account = AccountId(0x0190_0000_0001_0000 + number)
    return VenueCredential(
        CredentialRef(CredentialKey(account, FAKE_VENUE), f"fx-{number}"),
        api_key=SecretText(f"pk-{number:08d}-{'x' * 24}"),
        api_secret=SecretText(f"sk-{number:08d}-{'y' * 56}"),
        extras={"passphrase": SecretText("p" * 16)},
    )


def bench_seal_open() -> None:
    keyring = CredentialKeyring([KEY_ONE])
    item = credential(1)
    payload = item.payload()
    aes, nonce = AESGCM(KEY_ONE[1]), os.urandom(12)

    def vault_path() -> object:
        sealed = keyring.seal(item.key, item.payload())
        return VenueCredential.from_payload(item.ref, keyring.open(item.key, sealed))

    def floor() -> object:
        return aes.decrypt(nonce, aes.encrypt(nonce, payload, None), None)

    print(
        f"seal + open one credential   {best_ns(vault_path):>10.0f} ns   "
        f"floor raw AES-GCM {best_ns(floor):>8.0f} ns"
    )


def bench_sql(folder: Path) -> None:
    stores = open_sql_stores(f"sqlite:///{folder / 'bench.db'}")
    engine = stores.engine
    vault = SqlCredentialVault(engine, CredentialKeyring([KEY_ONE]))
    items = [credential(n) for n in range(ROTATION_ROWS)]
    for item in items:
        vault.put_credential(item)
    key = items[7].key
    table = schema.venue_credentials
    query = select(table).where(
        table.c.account_id == hex64(key.account_id.value),
        table.c.venue == key.venue.name,
        table.c.subaccount_index == 0,
    )

    def floor_select() -> object:
        with engine.connect() as connection:
            return connection.execute(query).mappings().first()

    print(
        f"SQLite get_credential        {best_ns(lambda: vault.get_credential(key), 500):>10.0f} ns"
        f"   floor PK SELECT   {best_ns(floor_select, 500):>8.0f} ns"
    )

    rotating = vault.with_keyring(CredentialKeyring([KEY_TWO, KEY_ONE]))
    start = time.perf_counter()
    while rotating.rotate_batch(ROTATION_BATCH) > 0:
        pass
    rotate_s = time.perf_counter() - start
    blobs = [os.urandom(130) for _ in range(ROTATION_BATCH)]
    plain = (
        update(table)
        .where(table.c.account_id == bindparam("b_account_id"))
        .values(key_id="k3", sealed=bindparam("b_sealed"))
    )
    start = time.perf_counter()
    for offset in range(0, ROTATION_ROWS, ROTATION_BATCH):
        batch = items[offset : offset + ROTATION_BATCH]
        with engine.begin() as connection:
            connection.execute(
                plain,
                [
                    {"b_account_id": hex64(item.key.account_id.value), "b_sealed": blobs[index]}
                    for index, item in enumerate(batch)
                ],
            )
    floor_s = time.perf_counter() - start
    print(
        f"SQLite rotation              {ROTATION_ROWS / rotate_s:>10.0f} rows/s"
        f"  floor plain UPDATEs {ROTATION_ROWS / floor_s:>6.0f} rows/s "
        f"({ROTATION_ROWS} rows, batches of {ROTATION_BATCH})"
    )
    stores.close()


def bench_lane_step() -> None:
    entry = AccountEntry("alpha", AccountId(0x0190_0000_0000_0A01), AccountMode.PAPER, FAKE_VENUE)
    vault = MemoryCredentialVault(CredentialKeyring([KEY_ONE]))
    venue = FakeVenue()
    item = VenueCredential(
        CredentialRef(CredentialKey(entry.account_id, FAKE_VENUE), "fx-alpha"),
        api_key=SecretText("pk"),
        api_secret=SecretText("sk"),
    )
    vault.put_credential(item)
    venue.provision("fx-alpha", item)
    supervisor = build_supervisor(
        AccountRegistry((entry,), "bench"),
        vault=vault,
        state=MemoryLaneStateStore(),
        connector=venue,
        clock=ManualClock(1),
        events=LaneEventLog(),
    )
    lane = supervisor.lanes[0]

    def step() -> None:
        lane.step()
        venue.advance()

    session = venue.connect(FAKE_VENUE, item, frozenset(CredentialPurpose))
    counter = iter(range(10**9))

    def floor() -> None:
        session.fills_since(10**9, 1)
        session.positions()
        quote = session.quote("BTC-PERP")
        session.submit(
            VenueOrderRequest(
                f"floor-{next(counter)}", "BTC-PERP", Side.BUY, 1, quote.ask_micro_usd
            )
        )

    print(
        f"lane step (memory stores)    {best_ns(step, 500):>10.0f} ns   "
        f"floor venue calls {best_ns(floor, 500):>8.0f} ns"
    )


def main() -> None:
    bench_seal_open()
    with tempfile.TemporaryDirectory() as folder:
        bench_sql(Path(folder))
    bench_lane_step()


if __name__ == "__main__":
    main()
