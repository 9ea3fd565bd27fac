"""No secret string appears in any log line, repr, output or exception text.

Every path that handles a credential is driven with marker secrets — including a venue
library that puts the secret into its own exception message — and everything the run
produced (log records, captured output, reprs and strs of the objects, full formatted
tracebacks of every error) is searched for the markers.
"""

from __future__ import annotations

import base64
import json
import logging
import traceback

import pytest

from axadapters.lane_state import MemoryLaneStateStore
from axadapters.vault import CredentialKeyring, MemoryCredentialVault, SealedSecret
from axapp.lanes import FakeVenue, LaneEventLog, LanePolicy, build_supervisor
from axapp.lanes.fake_venue import FAKE_VENUE, FakeVenueSession
from axapp.lanes.manual_clock import ManualClock
from axapp.lanes.status import render_status
from axapp.venue_config import AccountEntry, AccountMode, AccountRegistry, parse_registry_json
from axdomain import AccountId
from axdomain.venues import (
    CredentialKey,
    CredentialPurpose,
    CredentialRef,
    SecretText,
    VenueCredential,
    VenueId,
)

API_KEY = "LEAKCHECK-apikey-5b8e"
API_SECRET = "LEAKCHECK-apisecret-c41d"
PASSPHRASE = "LEAKCHECK-passphrase-77aa"
KEY_MATERIAL = bytes(range(7, 39))
KEY_TEXT = base64.b64encode(KEY_MATERIAL).decode()
MARKERS = (API_KEY, API_SECRET, PASSPHRASE, KEY_TEXT, "LEAKCHECK")
ALPHA = AccountEntry("alpha", AccountId(0x0190_0000_0000_0A01), AccountMode.PAPER, FAKE_VENUE)
BETA = AccountEntry("beta", AccountId(0x0190_0000_0000_0B02), AccountMode.PAPER, FAKE_VENUE)


class LeakyVenue(FakeVenue):
    """A venue library that echoes the API secret in its errors (the worst case)."""

    def connect(
        self,
        venue: VenueId,
        credential: VenueCredential,
        purposes: frozenset[CredentialPurpose],
    ) -> FakeVenueSession:
        if credential.ref.exchange_account_id == "fx-beta":
            secret = credential.api_secret.reveal()
            raise ConnectionError(f"handshake failed for key={secret}")
        return super().connect(venue, credential, purposes)


def _credential(label: str, account: AccountId) -> VenueCredential:
    return VenueCredential(
        CredentialRef(CredentialKey(account, FAKE_VENUE), f"fx-{label}"),
        api_key=SecretText(API_KEY),
        api_secret=SecretText(API_SECRET),
        extras={"passphrase": SecretText(PASSPHRASE)},
    )


def _texts(error: BaseException) -> list[str]:
    return [str(error), repr(error), "".join(traceback.format_exception(error))]


def test_no_secret_escapes(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    produced: list[str] = []
    keyring = CredentialKeyring([("k1", KEY_MATERIAL)])
    vault = MemoryCredentialVault(keyring)
    venue = LeakyVenue()
    for entry in (ALPHA, BETA):
        credential = _credential(entry.label, entry.account_id)
        vault.put_credential(credential)
        venue.provision(f"fx-{entry.label}", credential)
        loaded = vault.get_credential(credential.key)
        produced += [repr(credential), str(credential), repr(loaded), f"{loaded}"]
        produced += [repr(credential.api_secret), repr(dict(credential.extras))]
        produced.append(repr(vault.raw_sealed(credential.key)))

    # Lanes: beta's venue library leaks the secret into its exception text.
    state, events = MemoryLaneStateStore(), LaneEventLog()
    supervisor = build_supervisor(
        AccountRegistry((ALPHA, BETA), "leak test"),
        vault=vault,
        state=state,
        connector=venue,
        clock=ManualClock(1),
        events=events,
        policy=LanePolicy(base_backoff_ms=1, max_backoff_ms=1),
    )
    for _ in range(3):
        supervisor.run_round()
        venue.advance()
    beta = supervisor.health("beta")
    assert beta.last_error is not None and "handshake failed for key=***" in beta.last_error
    produced += [repr(h) for h in supervisor.all_health()]
    produced += [json.dumps(e.as_dict()) + repr(e) for e in events.events()]
    produced += [repr(lane) + repr(vars(lane)) for lane in supervisor.lanes]
    produced += [repr(vault), repr(keyring), repr(venue)]
    render_status(AccountRegistry((ALPHA, BETA), "leak test"), state, _Sink(produced))

    # Errors on every credential path.
    errors: list[BaseException] = []
    stored = vault.raw_sealed(CredentialKey(ALPHA.account_id, FAKE_VENUE))
    attempts = [
        lambda: vault.raw_store(
            CredentialRef(CredentialKey(AccountId(0x0190_0000_0000_0C03), FAKE_VENUE)), stored
        ),
        lambda: vault.get_credential(CredentialKey(AccountId(0x0190_0000_0000_0C03), FAKE_VENUE)),
        lambda: vault.raw_store(
            CredentialRef(CredentialKey(ALPHA.account_id, FAKE_VENUE)),
            SealedSecret("k1", stored.blob[:-1] + bytes([stored.blob[-1] ^ 1])),
        ),
        lambda: vault.get_credential(CredentialKey(ALPHA.account_id, FAKE_VENUE)),
        lambda: vault.with_keyring(CredentialKeyring([("k9", bytes(32))])).get_credential(
            CredentialKey(BETA.account_id, FAKE_VENUE)
        ),
        lambda: CredentialKeyring.parse(f"k1:{KEY_TEXT[:-4]}"),
        lambda: CredentialKeyring.parse(f"bad id:{KEY_TEXT}"),
        lambda: CredentialKeyring.parse(f"k1:{KEY_TEXT},k1:{KEY_TEXT}"),
        lambda: SecretText(API_SECRET * 1000),
        lambda: parse_registry_json(
            json.dumps([{"label": "a", "secret_key": API_SECRET}]), "AX_ACCOUNTS"
        ),
        lambda: venue.connect(FAKE_VENUE, _wrong_secret(), frozenset(CredentialPurpose)),
    ]
    for attempt in attempts:
        try:
            attempt()
        except Exception as error:
            errors.append(error)
    assert len(errors) >= 8
    for error in errors:
        produced += _texts(error)

    captured = capsys.readouterr()
    produced += [captured.out, captured.err]
    produced += [record.getMessage() for record in caplog.records]
    produced += [caplog.text]
    assert any("handshake failed" in record.getMessage() for record in caplog.records)
    everything = "\n".join(produced)
    for marker in MARKERS:
        assert marker not in everything, marker


def _wrong_secret() -> VenueCredential:
    return VenueCredential(
        CredentialRef(CredentialKey(ALPHA.account_id, FAKE_VENUE), "fx-alpha"),
        api_key=SecretText(API_KEY),
        api_secret=SecretText(API_SECRET + "-wrong"),
    )


class _Sink:
    def __init__(self, into: list[str]) -> None:
        self._into = into

    def write(self, text: str) -> int:
        self._into.append(text)
        return len(text)
