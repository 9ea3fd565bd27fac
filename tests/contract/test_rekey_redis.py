"""The risk-key rekey on real Redis: live keys with TTLs, dry run, re-run, crash and resume.

Input shapes: user-keyed legacy values at untagged ``risk:<user_id>`` keys, account-keyed
values at today's untagged ``risk:<account_id>`` keys, and legacy values already at a tagged
key; every one ends at ``risk:{<account_id>}``.
"""

from __future__ import annotations

import json

import attrs
import pytest
import redis

import axadapters.redis.rekey as rekey_module
from axadapters.redis import RedisRiskSnapshotCache, rekey_risk_keys
from axadapters.redis.keys import RedisKeys
from axdomain import AccountId, UserId
from axdomain.cache import RiskSnapshot, decode_risk_snapshot, encode_risk_snapshot
from tests.contract.redis_support import RedisNamespaces

pytestmark = pytest.mark.redis

USER = UserId(0x0190_0000_0000_0001)
SECOND_ACCOUNT = AccountId(0x0190_0000_0000_00A0)  # USER's non-default account
OTHER_USER = UserId(0x0190_0000_0000_0002)
THIRD_USER = UserId(0x0190_0000_0000_0003)
FRESH_ACCOUNT = AccountId(0x0190_0000_0000_00C0)
UNTAGGED_ACCOUNT = AccountId(0x0190_0000_0000_00E0)
TTL_MS = 600_000
# Time between writing a key and the tool reading its PTTL, plus the tool's own work.
TTL_TOLERANCE_MS = 5_000


def snap(account: AccountId, symbol: str | None = None, as_of_ns: int = 1_000) -> RiskSnapshot:
    return RiskSnapshot(
        account_id=account,
        symbol=symbol,
        equity_micro_usd=5_000_000,
        initial_margin_micro_usd=1_000_000,
        maintenance_margin_micro_usd=500_000,
        unrealized_pnl_micro_usd=-7,
        as_of_ns=as_of_ns,
    )


def legacy_bytes(snapshot: RiskSnapshot, user: UserId) -> bytes:
    """The pre-cutover value: the canonical fields plus the user it was keyed by."""
    obj = json.loads(encode_risk_snapshot(snapshot))
    obj["user_id"] = str(user)
    return json.dumps(obj).encode()


@attrs.frozen
class Fixture:
    moved_key: str
    moved_target: str
    moved_symbol_key: str
    moved_symbol_target: str
    normalized_key: str
    untagged_key: str
    untagged_target: str
    correct_key: str
    superseded_key: str
    superseded_target: str


class TestRekeyRedis(RedisNamespaces):
    def seed(self, client: redis.Redis, keys: RedisKeys) -> Fixture:
        ns = keys.namespace
        # USER's second account was filed under the user's key: must move to its account.
        moved_key = f"{ns}risk:{USER}"
        client.set(moved_key, legacy_bytes(snap(SECOND_ACCOUNT), USER), px=TTL_MS)
        moved_symbol_key = f"{ns}risk:{USER}:BTC-PERP"
        client.set(moved_symbol_key, legacy_bytes(snap(SECOND_ACCOUNT, "BTC-PERP"), USER))
        # OTHER_USER's default account has the user's bit pattern, and its legacy value is
        # already at the tagged key: only the user_id goes.
        default = OTHER_USER.as_default_account_id()
        normalized_key = keys.risk_account(default)
        client.set(normalized_key, legacy_bytes(snap(default), OTHER_USER), px=TTL_MS)
        # Today's account-keyed value at its untagged key: moves to the tagged key.
        untagged_key = f"{ns}risk:{UNTAGGED_ACCOUNT}"
        client.set(untagged_key, encode_risk_snapshot(snap(UNTAGGED_ACCOUNT)), px=TTL_MS)
        correct_key = keys.risk_account(FRESH_ACCOUNT)
        client.set(correct_key, encode_risk_snapshot(snap(FRESH_ACCOUNT)), px=TTL_MS)
        # THIRD_USER's legacy key names an account the new producer already wrote newer risk for.
        superseded_key = f"{ns}risk:{THIRD_USER}"
        superseded_target = keys.risk_account(AccountId(0x0190_0000_0000_00D0))
        client.set(superseded_key, legacy_bytes(snap(AccountId(0x0190_0000_0000_00D0)), THIRD_USER))
        client.set(
            superseded_target,
            encode_risk_snapshot(snap(AccountId(0x0190_0000_0000_00D0), as_of_ns=2_000)),
        )
        # Things the tool must report and leave alone.
        client.set(f"{ns}risk:12345", b"{}")  # a decimal id: not a form this product wrote
        client.set(f"{ns}risk:{'e' * 16}", b"not json")
        client.set(f"{ns}risk:{'f' * 16}:ETH-PERP", legacy_bytes(snap(FRESH_ACCOUNT, "X"), USER))
        client.hset(f"{ns}risk:{'d' * 16}", "a", "b")  # WRONGTYPE for GET
        client.set(f"{ns}session:token:{'0' * 64}", b"untouched")  # not a risk key at all
        return Fixture(
            moved_key=moved_key,
            moved_target=keys.risk_account(SECOND_ACCOUNT),
            moved_symbol_key=moved_symbol_key,
            moved_symbol_target=keys.risk_symbol(SECOND_ACCOUNT, "BTC-PERP"),
            normalized_key=normalized_key,
            untagged_key=untagged_key,
            untagged_target=keys.risk_account(UNTAGGED_ACCOUNT),
            correct_key=correct_key,
            superseded_key=superseded_key,
            superseded_target=superseded_target,
        )

    def dump(self, client: redis.Redis, namespace: str) -> dict[str, object]:
        """Every key's value (and whether it has a TTL): what "changed nothing" compares."""
        state: dict[str, object] = {}
        for raw_key in client.scan_iter(match=f"{namespace}*", count=100):
            key = raw_key.decode()
            kind = client.type(key)
            value = client.get(key) if kind == b"string" else client.hgetall(key)
            state[key] = (value, int(client.pttl(key)) > 0)
        return state

    def test_rekey_moves_keeps_ttls_and_reruns_as_a_no_op(self) -> None:
        client = self.redis_client()
        keys = RedisKeys(self.namespace())
        fx = self.seed(client, keys)
        before = self.dump(client, keys.namespace)

        dry = rekey_risk_keys(client, namespace=keys.namespace, dry_run=True, scan_count=3)
        assert self.dump(client, keys.namespace) == before
        assert (dry.rekeyed, dry.superseded, dry.normalized) == (3, 1, 1)
        assert (dry.already_correct, dry.skipped_invalid, dry.complete) == (2, 4, True)

        report = rekey_risk_keys(client, namespace=keys.namespace, scan_count=3)
        assert report.complete
        assert report.rekeyed == 3
        assert report.superseded == 1
        assert report.normalized == 1
        assert report.skipped_invalid == 4
        assert report.already_correct == 2  # FRESH_ACCOUNT, and the superseding target
        assert report.scanned == report.outcomes == 11
        assert sorted(report.invalid_keys) == sorted(
            f"{keys.namespace}risk:{suffix}"
            for suffix in ("12345", "e" * 16, "f" * 16 + ":ETH-PERP", "d" * 16)
        )

        # Moved: value from the snapshot's own account_id, user_id dropped, TTL carried.
        assert client.get(fx.moved_key) is None
        assert client.get(fx.moved_target) == encode_risk_snapshot(snap(SECOND_ACCOUNT))
        assert TTL_MS - TTL_TOLERANCE_MS <= int(client.pttl(fx.moved_target)) <= TTL_MS
        assert client.get(fx.moved_symbol_key) is None
        assert client.get(fx.moved_symbol_target) == encode_risk_snapshot(
            snap(SECOND_ACCOUNT, "BTC-PERP")
        )
        assert client.pttl(fx.moved_symbol_target) == -1  # had no TTL, still has none
        # Moved from the untagged to the tagged key, TTL carried.
        assert client.get(fx.untagged_key) is None
        assert client.get(fx.untagged_target) == encode_risk_snapshot(snap(UNTAGGED_ACCOUNT))
        assert TTL_MS - TTL_TOLERANCE_MS <= int(client.pttl(fx.untagged_target)) <= TTL_MS
        # Normalized in place, TTL kept.
        default = OTHER_USER.as_default_account_id()
        assert client.get(fx.normalized_key) == encode_risk_snapshot(snap(default))
        assert TTL_MS - TTL_TOLERANCE_MS <= int(client.pttl(fx.normalized_key)) <= TTL_MS
        # The newer account-keyed value won; the older legacy copy is gone.
        assert client.get(fx.superseded_key) is None
        target_value = client.get(fx.superseded_target)
        assert decode_risk_snapshot(target_value).as_of_ns == 2_000
        # Readers now find every account's risk at its account key.
        cache = RedisRiskSnapshotCache(client, keys.namespace)
        assert cache.get_account(SECOND_ACCOUNT) == snap(SECOND_ACCOUNT)
        assert cache.get_symbol(SECOND_ACCOUNT, "BTC-PERP") == snap(SECOND_ACCOUNT, "BTC-PERP")
        assert cache.get_account(default) == snap(default)
        assert client.get(f"{keys.namespace}session:token:{'0' * 64}") == b"untouched"

        after_first = self.dump(client, keys.namespace)
        again = rekey_risk_keys(client, namespace=keys.namespace, scan_count=3)
        assert self.dump(client, keys.namespace) == after_first
        assert (again.rekeyed, again.normalized, again.superseded) == (0, 0, 0)
        assert (again.already_correct, again.skipped_invalid) == (6, 4)
        assert again.complete

    def test_crash_between_write_and_delete_is_completed_by_rerun(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        client = self.redis_client()
        keys = RedisKeys(self.namespace())
        old_key = f"{keys.namespace}risk:{USER}"
        new_key = keys.risk_account(SECOND_ACCOUNT)
        client.set(old_key, legacy_bytes(snap(SECOND_ACCOUNT), USER), px=TTL_MS)

        def crash(*_: object) -> None:
            raise RuntimeError("simulated crash before deleting the old key")

        monkeypatch.setattr(rekey_module, "_delete_if_unchanged", crash)
        with pytest.raises(RuntimeError):
            rekey_risk_keys(client, namespace=keys.namespace)
        assert client.get(old_key) is not None  # never deleted before the new key exists
        assert client.get(new_key) == encode_risk_snapshot(snap(SECOND_ACCOUNT))
        assert TTL_MS - TTL_TOLERANCE_MS <= int(client.pttl(new_key)) <= TTL_MS

        monkeypatch.undo()
        resumed = rekey_risk_keys(client, namespace=keys.namespace)
        assert client.get(old_key) is None
        assert client.get(new_key) == encode_risk_snapshot(snap(SECOND_ACCOUNT))
        assert TTL_MS - TTL_TOLERANCE_MS <= int(client.pttl(new_key)) <= TTL_MS
        assert resumed.rekeyed == 1
        assert resumed.complete

    def test_old_key_rewritten_meanwhile_is_not_deleted(self) -> None:
        client = self.redis_client()
        keys = RedisKeys(self.namespace())
        old_key = f"{keys.namespace}risk:{USER}"
        client.set(old_key, legacy_bytes(snap(SECOND_ACCOUNT), USER))
        # The new producer writes the default account's risk to the same text key.
        fresh = encode_risk_snapshot(snap(USER.as_default_account_id(), as_of_ns=5_000))
        legacy = rekey_module._read_legacy(client, keys, old_key)
        assert legacy is not None
        rekey_module._write_target(
            client, legacy, keys.risk_account(SECOND_ACCOUNT), encode_risk_snapshot(legacy.snapshot)
        )
        client.set(old_key, fresh)
        rekey_module._delete_if_unchanged(client, legacy)
        assert client.get(old_key) == fresh

    def test_max_keys_bounds_a_run_and_reruns_finish(self) -> None:
        client = self.redis_client()
        keys = RedisKeys(self.namespace())
        users = [UserId(0x0190_0000_0001_0000 + n) for n in range(5)]
        for n, user in enumerate(users):
            account = AccountId(0x0190_0000_0002_0000 + n)
            client.set(f"{keys.namespace}risk:{user}", legacy_bytes(snap(account), user))
        reports = [rekey_risk_keys(client, namespace=keys.namespace, max_keys=1, scan_count=1)]
        while not reports[-1].complete:
            assert reports[-1].next_cursor != 0
            assert len(reports) < 100_000
            reports.append(
                rekey_risk_keys(
                    client,
                    namespace=keys.namespace,
                    max_keys=1,
                    scan_count=1,
                    cursor=reports[-1].next_cursor,
                )
            )
        assert len(reports) > 1  # the bound did split the work
        assert sum(r.rekeyed for r in reports) == 5
        assert all(r.scanned <= 1 + 10 for r in reports)  # one batch past the bound, at most
        remaining = sorted(k.decode() for k in client.scan_iter(match=f"{keys.namespace}*"))
        assert remaining == sorted(
            keys.risk_account(AccountId(0x0190_0000_0002_0000 + n)) for n in range(5)
        )

    @pytest.mark.parametrize(("field", "value"), [("scan_count", 0), ("max_keys", 0)])
    def test_bounds_are_validated(self, field: str, value: int) -> None:
        client = self.redis_client()
        with pytest.raises(ValueError) as caught:
            rekey_risk_keys(client, namespace=self.namespace(), **{field: value})  # type: ignore[arg-type]
        assert getattr(caught.value, "field", None) == field
