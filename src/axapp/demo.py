"""``ax demo``: the end-to-end scenario on the configured (by default embedded) stores.

With no ``AX_DATABASE_URL`` the demo works in its own folder ``<data dir>/demo`` (a SQLite
file and the ledger twin's journal), wiped at the start of every run so it can be repeated.
User names carry a run tag so the demo can also run against a shared PostgreSQL.
"""

from __future__ import annotations

import os
import shutil
from typing import TextIO

import attrs

from axapp.config import Config
from axapp.demo_identity import DemoIdentity
from axapp.demo_ledger import DemoLedger
from axapp.exchange import Exchange
from axapp.onboarding import ensure_system_accounts
from axapp.runtime import open_runtime


def demo_config(config: Config) -> Config:
    if config.database_url is not None:
        return config
    folder = config.data_dir / "demo"
    shutil.rmtree(folder, ignore_errors=True)
    return attrs.evolve(config, data_dir=folder)


def run_demo(out: TextIO, config: Config | None = None) -> int:
    config = demo_config(config or Config.from_env(os.environ))
    with open_runtime(config) as runtime:
        stores = runtime.stores
        ensure_system_accounts(stores)
        tag = f"{stores.ids.new_id() & 0xFFFFFF:06x}"
        identity = DemoIdentity(stores, out)
        cast = identity.run(tag)
        exchange = Exchange(
            stores=stores,
            products=runtime.sql.products,
            sequences=runtime.sql.sequences,
            ledger=runtime.ledger,
            gateway=identity.gateway,
        )
        return DemoLedger(exchange, cast, out).run()
