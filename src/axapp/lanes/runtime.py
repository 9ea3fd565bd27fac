"""Opens the lanes on the configured database: the composition a long-running job uses.

The SQL vault (keys from ``AX_CREDENTIAL_KEYS``) and the SQL lane state share the
application's database (``AX_DATABASE_URL``, else the SQLite file in ``AX_DATA_DIR``), so
``ax lanes status`` and ``ax lanes kill`` in another process see and steer the running lanes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping

import attrs

from axadapters.lane_state.sql import SqlLaneStateStore
from axadapters.sql.stores import open_sql_stores
from axadapters.vault.keyring import ENV_VAR, CredentialKeyring
from axadapters.vault.sql import SqlCredentialVault
from axapp.config import Config
from axapp.lanes.build import build_supervisor
from axapp.lanes.events import LaneEventLog
from axapp.lanes.lane import Strategy
from axapp.lanes.supervisor import LanePolicy, LaneSupervisor
from axapp.lanes.venue_client import VenueConnector
from axapp.venue_config import AccountRegistry, load_registry
from axdomain.errors import InvalidValue
from axdomain.ports import Clock


@attrs.frozen
class LaneRuntime:
    registry: AccountRegistry
    vault: SqlCredentialVault
    state: SqlLaneStateStore
    events: LaneEventLog
    supervisor: LaneSupervisor


@contextlib.contextmanager
def open_lane_runtime(
    config: Config,
    env: Mapping[str, str],
    *,
    connector: VenueConnector,
    clock: Clock,
    strategy: Strategy | None = None,
    policy: LanePolicy | None = None,
) -> Iterator[LaneRuntime]:
    keys = env.get(ENV_VAR, "").strip()
    if not keys:
        raise InvalidValue(ENV_VAR, "(unset)", "lanes need the credential keys to open the vault")
    keyring = CredentialKeyring.parse(keys)
    registry = load_registry(env)
    if config.database_url is None:
        config.data_dir.mkdir(parents=True, exist_ok=True)
    stores = open_sql_stores(config.effective_database_url)
    try:
        vault = SqlCredentialVault(stores.engine, keyring)
        state = SqlLaneStateStore(stores.engine)
        events = LaneEventLog()
        supervisor = build_supervisor(
            registry,
            vault=vault,
            state=state,
            connector=connector,
            clock=clock,
            events=events,
            strategy=strategy,
            policy=policy,
        )
        yield LaneRuntime(registry, vault, state, events, supervisor)
    finally:
        stores.close()
