"""The two rekey playbooks of seed 000 §2c.2, from the legacy user-keyed layout to the
account-keyed one, and the legacy fixture they start from.

Both playbooks are state machines whose state is the catalog itself (which of ``T``,
``T_new``, ``T_old`` exist and what each is sorted by) plus one small state table for the
cutover instant and the rollup backfill. Each run looks at that state, does the remaining
steps in order, and every step is either atomic (EXCHANGE, RENAME, CREATE/DROP) or
idempotent (a partition copy drops the partition in ``T_new`` first; a rollup backfill only
feeds duplicate-insensitive aggregates). So a run killed at any point is finished by running
it again, and a run on a finished table does nothing.

*rebuild* (``positions``, ``transactions``, ``risk_snapshots_1d``): ``T_new`` on the new key,
``INSERT SELECT`` one partition at a time, per-partition check, ``EXCHANGE TABLES T AND
T_new`` (atomic), ``RENAME T_new TO T_old`` (kept until ``drop_old``).

*drain* (``risk_snapshots``, ``risk_snapshots_1h``, the TTL'd ones): ``T_new`` on the new key,
EXCHANGE so writers land on the new key at once, ``T_old`` left to its TTL while readers
union both, materialized views re-pointed.

Writers are by table name, so the EXCHANGE is the writer cutover. Materialized views follow
names too: a rollup's view is dropped before its target is exchanged and recreated (with the
account-only body) after, and the rows written in between are backfilled from the source.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import attrs

from axadapters.clickhouse.client import Session
from axadapters.clickhouse.schema import (
    POSITIONS,
    RISK_SNAPSHOTS,
    RISK_SNAPSHOTS_1D,
    RISK_SNAPSHOTS_1H,
    ROLLUPS,
    TRANSACTIONS,
    TableSpec,
    create_mv_sql,
    identifier,
    legacy_schema_sql,
    mv_name,
    rollup_select,
)
from axdomain.analytics import NS_PER_DAY
from axdomain.errors import Conflict, InvalidValue, NotFound

NEW_SUFFIX = "_new"
OLD_SUFFIX = "_old"
STATE_TABLE = "ax_rekey_state"
STEP_CUTOVER = "cutover_ns"
STEP_BACKFILLED = "backfilled"


@attrs.frozen
class RekeyTarget:
    spec: TableSpec
    mode: str  # "rebuild" or "drain"
    natural_key: tuple[str, ...]
    # Rebuilt source tables keep their legacy user_id column through the 1:1 era (seed §2c.2);
    # the risk-snapshot family drops it in the same step.
    keep_user_id: bool
    time_column: str
    ttl_days: int | None = None

    @property
    def is_rollup(self) -> bool:
        return self.spec.name in ROLLUPS


TARGETS = {
    target.spec.name: target
    for target in (
        RekeyTarget(POSITIONS, "rebuild", ("account_id", "sequence_number", "symbol"), True, ""),
        RekeyTarget(TRANSACTIONS, "rebuild", ("account_id", "sequence_number"), True, ""),
        RekeyTarget(
            RISK_SNAPSHOTS_1D,
            "rebuild",
            ("account_id", "bucket_timestamp_ns"),
            False,
            "bucket_timestamp_ns",
        ),
        RekeyTarget(
            RISK_SNAPSHOTS, "drain", ("account_id", "timestamp_ns"), False, "timestamp_ns", 7
        ),
        RekeyTarget(
            RISK_SNAPSHOTS_1H,
            "drain",
            ("account_id", "bucket_timestamp_ns"),
            False,
            "bucket_timestamp_ns",
            90,
        ),
    )
}


@attrs.define
class PartitionCheck:
    partition_id: str
    old_rows: int
    new_rows: int
    old_keys: int
    new_keys: int
    copied: bool

    @property
    def complete(self) -> bool:
        """Every natural key of the old partition is in the new one, and the copy added no
        row beyond the old ones (a merge may have collapsed duplicates, never created any)."""
        return self.old_keys == self.new_keys and self.new_rows <= self.old_rows


@attrs.define
class RekeyReport:
    table: str
    mode: str
    actions: list[str] = attrs.Factory(list)
    partitions: list[PartitionCheck] = attrs.Factory(list)

    @property
    def changed(self) -> bool:
        return bool(self.actions)

    def lines(self) -> list[str]:
        if not self.actions:
            return [f"{self.table}: nothing to do ({self.mode} already complete)"]
        return [f"{self.table}: {action}" for action in self.actions]


# A hook the crash tests use to die at chosen points: called with a step name.
StepHook = Callable[[str], None]


def _no_hook(_: str) -> None:
    return None


class Playbooks:
    """The rekey playbooks on one database."""

    def __init__(self, session: Session, database: str, *, hook: StepHook = _no_hook) -> None:
        self.session = session
        self.database = identifier("database", database)
        self.hook = hook

    # ------------------------------------------------------------------ catalog

    def _t(self, table: str) -> str:
        return f"`{self.database}`.`{table}`"

    def sorting_key(self, table: str) -> str | None:
        rows = self.session.rows(
            "SELECT sorting_key FROM system.tables "
            "WHERE database = {d:String} AND name = {t:String}",
            {"d": self.database, "t": table},
        )
        return str(rows[0][0]) if rows else None

    def exists(self, table: str) -> bool:
        return self.session.table_exists(self.database, table)

    def _state_table(self) -> None:
        self.session.command(
            f"CREATE TABLE IF NOT EXISTS {self._t(STATE_TABLE)} "
            "(table_name String, step String, value Int64) "
            "ENGINE = ReplacingMergeTree ORDER BY (table_name, step)"
        )

    def _state(self, table: str, step: str) -> int | None:
        self._state_table()
        rows = self.session.rows(
            f"SELECT min(value), count() FROM {self._t(STATE_TABLE)} "
            "WHERE table_name = {t:String} AND step = {s:String}",
            {"t": table, "s": step},
        )
        return int(rows[0][0]) if rows and int(rows[0][1]) else None

    def _set_state(self, table: str, step: str, value: int) -> None:
        self._state_table()
        self.session.insert(
            self.database, STATE_TABLE, ("table_name", "step", "value"), [(table, step, value)]
        )

    # ------------------------------------------------------------------ shared steps

    def _target(self, table: str, mode: str) -> RekeyTarget:
        target = TARGETS.get(table)
        if target is None or target.mode != mode:
            names = sorted(name for name, t in TARGETS.items() if t.mode == mode)
            raise InvalidValue("table", table, f"{mode} applies to {', '.join(names)}")
        return target

    def _keys(self, target: RekeyTarget) -> tuple[str, str]:
        spec = target.spec
        return ", ".join(spec.order_by), ", ".join(spec.legacy_order_by)

    def _create_new(self, target: RekeyTarget, report: RekeyReport) -> None:
        new = target.spec.name + NEW_SUFFIX
        if self.exists(new):
            return
        self.session.command(
            target.spec.create_sql(
                self.database,
                table=new,
                legacy=target.keep_user_id,
                order_by=target.spec.order_by if target.keep_user_id else None,
            )
        )
        report.actions.append(f"created {new} ORDER BY ({', '.join(target.spec.order_by)})")
        self.hook("created")

    def _columns(self, target: RekeyTarget) -> list[str]:
        names = list(target.spec.column_names)
        return ["user_id", *names] if target.keep_user_id else names

    def _swap(self, target: RekeyTarget, report: RekeyReport) -> None:
        table = target.spec.name
        new = table + NEW_SUFFIX
        self.session.command(f"EXCHANGE TABLES {self._t(table)} AND {self._t(new)}")
        report.actions.append(f"exchanged {table} and {new} (writers now on the account key)")
        self.hook("exchanged")
        self._rename_old(table, report)

    def _rename_old(self, table: str, report: RekeyReport) -> None:
        new, old = table + NEW_SUFFIX, table + OLD_SUFFIX
        self.session.command(f"RENAME TABLE {self._t(new)} TO {self._t(old)}")
        report.actions.append(f"renamed {new} to {old}")
        self.hook("renamed")

    def _record_cutover(self, table: str, now_ns: int, report: RekeyReport) -> None:
        if self._state(table, STEP_CUTOVER) is None:
            self._set_state(table, STEP_CUTOVER, now_ns)
            report.actions.append(f"recorded cutover at {now_ns} ns")

    def _drop_legacy_view(self, target: RekeyTarget, report: RekeyReport) -> None:
        view = mv_name(target.spec.name)
        if self.exists(view):
            self.session.command(f"DROP VIEW IF EXISTS {self._t(view)} SYNC")
            report.actions.append(f"dropped the user-keyed view {view}")
            self.hook("view_dropped")

    def _finish_rollup(self, target: RekeyTarget, report: RekeyReport) -> None:
        """Account-only view into the rekeyed table, then backfill what arrived while there
        was none. The backfill overlaps rows already aggregated; every rollup aggregate is
        duplicate-insensitive, so overlapping is harmless and re-running it is too."""
        table = target.spec.name
        view = mv_name(table)
        if not self.exists(view):
            self.session.command(create_mv_sql(self.database, table))
            report.actions.append(f"created {view} on the account key (account_id only)")
            self.hook("view_created")
        cutover = self._state(table, STEP_CUTOVER)
        if cutover is None or self._state(table, STEP_BACKFILLED) is not None:
            return  # never rekeyed by a playbook (native layout), or already backfilled
        bucket_ns = ROLLUPS[table]
        since = cutover - cutover % bucket_ns
        sources = [RISK_SNAPSHOTS.name]
        if self.exists(RISK_SNAPSHOTS.name + OLD_SUFFIX):
            sources.append(RISK_SNAPSHOTS.name + OLD_SUFFIX)
        columns = "account_id, timestamp_ns, equity_micro_usd, maintenance_margin_micro_usd"
        union = " UNION ALL ".join(
            f"SELECT {columns} FROM {self._t(source)} WHERE timestamp_ns >= {since}"
            for source in sources
        )
        body = rollup_select(f"({union})", bucket_ns)
        cols = ", ".join(target.spec.column_names)
        self.session.command(f"INSERT INTO {self._t(table)} ({cols}) {body}")
        self._set_state(table, STEP_BACKFILLED, 1)
        report.actions.append(f"backfilled {table} from risk_snapshots since {since} ns")
        self.hook("backfilled")

    # ------------------------------------------------------------------ rebuild

    def partitions(self, table: str) -> list[str]:
        rows = self.session.rows(
            "SELECT DISTINCT partition_id FROM system.parts WHERE database = {d:String} "
            "AND table = {t:String} AND active ORDER BY partition_id",
            {"d": self.database, "t": table},
        )
        return [str(row[0]) for row in rows]

    def check_partition(self, target: RekeyTarget, partition_id: str) -> PartitionCheck:
        table = target.spec.name
        key = f"({', '.join(target.natural_key)})"
        counts = []
        for name in (table, table + NEW_SUFFIX):
            rows, keys = self.session.rows(
                f"SELECT count(), uniqExact({key}) FROM {self._t(name)} "
                "WHERE _partition_id = {p:String}",
                {"p": partition_id},
            )[0]
            counts.append((int(rows), int(keys)))
        (old_rows, old_keys), (new_rows, new_keys) = counts
        return PartitionCheck(partition_id, old_rows, new_rows, old_keys, new_keys, False)

    def _copy_partitions(self, target: RekeyTarget, report: RekeyReport, *, final: bool) -> None:
        """One pass over the old table's partitions. Rows written to ``T`` during the first
        pass only leave that partition for the final pass; in the final pass (writers
        paused) any mismatch stops the run."""
        table = target.spec.name
        new = table + NEW_SUFFIX
        columns = ", ".join(self._columns(target))
        for partition_id in self.partitions(table):
            check = self.check_partition(target, partition_id)
            if check.complete:
                continue
            # A partial copy (a killed INSERT) is discarded whole, so no row lands twice.
            literal = identifier_partition(partition_id)
            self.session.command(f"ALTER TABLE {self._t(new)} DROP PARTITION ID '{literal}'")
            self.hook(f"cleared:{partition_id}")
            self.session.command(
                f"INSERT INTO {self._t(new)} ({columns}) SELECT {columns} FROM {self._t(table)} "
                f"WHERE _partition_id = '{literal}'"
            )
            self.hook(f"copied:{partition_id}")
            check = self.check_partition(target, partition_id)
            check.copied = True
            if not check.complete and not final:
                report.actions.append(
                    f"partition {partition_id}: {table} changed during the copy "
                    "(re-copied in the final pass)"
                )
                continue
            if not check.complete:
                raise Conflict(
                    "partition",
                    partition_id,
                    f"{table}: {check.old_keys} keys / {check.old_rows} rows, copy has "
                    f"{check.new_keys} keys / {check.new_rows} rows",
                )
            report.partitions.append(check)
            report.actions.append(
                f"partition {partition_id}: copied {check.new_rows} rows, "
                f"{check.new_keys} keys = {check.old_keys} in {table}"
            )

    def rebuild(self, table: str, *, now_ns: int) -> RekeyReport:
        target = self._target(table, "rebuild")
        report = RekeyReport(table, "rebuild")
        new, old = table + NEW_SUFFIX, table + OLD_SUFFIX
        account_key, user_key = self._keys(target)
        current = self.sorting_key(table)
        if current is None:
            raise NotFound("table", table, f"no such table in {self.database}")
        if current == account_key:
            new_key = self.sorting_key(new)
            if new_key == user_key:
                self._rename_old(table, report)
            elif new_key is not None:
                raise Conflict("table", new, f"unexpected ORDER BY ({new_key})")
            if target.is_rollup:
                self._finish_rollup(target, report)
            return report
        if current != user_key:
            raise Conflict("table", table, f"ORDER BY ({current}) is neither legacy nor target")
        if self.exists(old):
            raise Conflict("table", old, "exists from an earlier rekey: run drop-old first")
        new_key = self.sorting_key(new)
        if new_key is not None and new_key != account_key:
            raise Conflict("table", new, f"unexpected ORDER BY ({new_key})")
        if target.is_rollup:
            self._record_cutover(table, now_ns, report)
        self._create_new(target, report)
        self._copy_partitions(target, report, final=False)
        if target.is_rollup:
            # From here the rollup gets no rows until the view is recreated after the swap;
            # the backfill covers that window from the 7-day source.
            self._drop_legacy_view(target, report)
        # Final pass with writers paused (or the view gone): anything written during the
        # copy is re-copied, then the swap is one atomic EXCHANGE.
        self._copy_partitions(target, report, final=True)
        self._swap(target, report)
        if target.is_rollup:
            self._finish_rollup(target, report)
        return report

    # ------------------------------------------------------------------ drain

    def _require_views_rekeyed(self) -> None:
        """The risk_snapshots views must no longer read user_id before the source loses it."""
        for rollup in ROLLUPS:
            key = self.sorting_key(rollup)
            if key is not None and not key.startswith("account_id"):
                mode = TARGETS[rollup].mode
                raise Conflict(
                    "table",
                    RISK_SNAPSHOTS.name,
                    f"its view into {rollup} still groups by user_id: "
                    f"run `rekey {mode} {rollup}` first",
                )

    def drain(self, table: str, *, now_ns: int) -> RekeyReport:
        target = self._target(table, "drain")
        report = RekeyReport(table, "drain")
        new = table + NEW_SUFFIX
        account_key, user_key = self._keys(target)
        current = self.sorting_key(table)
        if current is None:
            raise NotFound("table", table, f"no such table in {self.database}")
        if current == account_key:
            new_key = self.sorting_key(new)
            if new_key == user_key:
                self._rename_old(table, report)
            elif new_key is not None:
                raise Conflict("table", new, f"unexpected ORDER BY ({new_key})")
            if target.is_rollup:
                self._finish_rollup(target, report)
            return report
        if current != user_key:
            raise Conflict("table", table, f"ORDER BY ({current}) is neither legacy nor target")
        if self.exists(table + OLD_SUFFIX):
            raise Conflict("table", table + OLD_SUFFIX, "still draining: run drop-old first")
        if not target.is_rollup:
            self._require_views_rekeyed()
        self._record_cutover(table, now_ns, report)
        self._create_new(target, report)
        if target.is_rollup:
            self._drop_legacy_view(target, report)
        self._swap(target, report)
        if target.is_rollup:
            self._finish_rollup(target, report)
        return report

    # ------------------------------------------------------------------ drop-old

    def drop_old(self, *, now_ns: int, force: bool = False) -> list[str]:
        """Drop every ``*_old``: rebuilt ones at once (the soak is over when the operator
        says so), drained ones only once their TTL has emptied them (or with ``force``)."""
        lines = []
        for name, target in TARGETS.items():
            old = name + OLD_SUFFIX
            if not self.exists(old):
                continue
            if target.mode == "drain" and not force:
                live = self._unexpired_rows(old, target, now_ns)
                if live:
                    lines.append(
                        f"{old}: kept, {live} rows not yet past the {target.ttl_days}-day TTL"
                    )
                    continue
            self.session.command(f"DROP TABLE IF EXISTS {self._t(old)} SYNC")
            lines.append(f"{old}: dropped")
        return lines or ["no *_old table to drop"]

    def _unexpired_rows(self, table: str, target: RekeyTarget, now_ns: int) -> int:
        ttl_ns = (target.ttl_days or 0) * NS_PER_DAY
        return int(
            self.session.scalar(
                f"SELECT count() FROM {self._t(table)} WHERE {target.time_column} > {{c:Int64}}",
                {"c": now_ns - ttl_ns},
            )
        )

    # ------------------------------------------------------------------ status

    def status(self) -> list[str]:
        lines = []
        for name, target in TARGETS.items():
            account_key, user_key = self._keys(target)
            current = self.sorting_key(name)
            state = (
                "missing"
                if current is None
                else "account key"
                if current == account_key
                else "user key (legacy)"
                if current == user_key
                else f"ORDER BY ({current})"
            )
            extras = [s for s in (NEW_SUFFIX, OLD_SUFFIX) if self.exists(name + s)]
            lines.append(f"{name}: {state}" + "".join(f", {name}{s} present" for s in extras))
        return lines


def identifier_partition(partition_id: str) -> str:
    """Partition ids here are digits (toYYYYMM / toYYYYMMDD); anything else is refused before
    it reaches SQL."""
    if not partition_id.isdigit():
        raise InvalidValue("partition_id", partition_id, "expected a numeric partition id")
    return partition_id


# ---------------------------------------------------------------------- legacy fixture


def create_legacy_schema(session: Session, database: str) -> None:
    """The user-keyed layout of docs/clickhouse.md: every table with a leading ``user_id``
    column and a user-leading key, rollup views grouping by ``(user_id, account_id)``."""
    database = identifier("database", database)
    session.command(f"CREATE DATABASE IF NOT EXISTS `{database}`")
    for statement in legacy_schema_sql(database):
        session.command(statement)


def load_legacy_rows(
    session: Session,
    database: str,
    *,
    accounts: Sequence[int],
    positions_per_account: int,
    start_ns: int,
    step_ns: int,
    snapshots_start_ns: int,
) -> int:
    """Deterministic rows in the legacy layout (``user_id`` = ``account_id``, the 1:1 era);
    returns how many position rows were written. Position/transaction times run from
    ``start_ns`` in ``step_ns`` steps (pick them to span several months = partitions);
    snapshots sit after ``snapshots_start_ns`` so the 7-day TTL keeps them."""
    from axdomain.contracts import ContractId, ProductId

    contracts = [ContractId.perp(ProductId(1001)), ContractId.perp(ProductId(1003))]
    positions, transactions, snapshots = [], [], []
    for account in accounts:
        for seq in range(1, positions_per_account + 1):
            at_ns = start_ns + seq * step_ns + account % 1_000
            contract = contracts[seq % 2]
            positions.append(
                (account, account, seq, at_ns, str(contract), contract.value, seq, -seq * 10)
            )
            transactions.append(
                (account, account, seq, at_ns, [4], [-seq], [(account << 64) | seq])
            )
        for minute in range(3):
            at_ns = snapshots_start_ns + minute * 60_000_000_000 + account % 1_000
            equity = 1_000_000 + account % 997 + minute
            snapshots.append((account, account, at_ns, equity, equity // 4, equity // 8, 0))
    for spec, rows in (
        (POSITIONS, positions),
        (TRANSACTIONS, transactions),
        (RISK_SNAPSHOTS, snapshots),
    ):
        session.insert(database, spec.name, ("user_id", *spec.column_names), rows)
    return len(positions)
