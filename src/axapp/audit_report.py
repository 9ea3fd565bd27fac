"""``ax audit``: the twelve invariants over the configured stores, and ``who-could``.

``who-could`` answers from the audit trail alone: every decision record carries the flags of
the grant that decided it (as they were then), so for each user the last decision on the
account at or before the instant tells what that user could do, through which grant. A user
who never acted on the account before the instant does not appear: the trail records
decisions, not the grant table's history.
"""

from __future__ import annotations

from datetime import datetime
from typing import TextIO

from axapp.bootstrap import application
from axapp.config import Config, ascii_decimal
from axapp.runtime import open_runtime
from axdomain.audit import AuditRecord
from axdomain.errors import InvalidValue
from axdomain.ids import AccountId, UserId
from axdomain.ledger.invariants import INVARIANT_CODES

U63_MAX = (1 << 63) - 1
SHOWN_VIOLATIONS = 50
NS_PER_S = 10**9


def run_audit(config: Config, out: TextIO) -> int:
    with open_runtime(config) as runtime:
        app = application(runtime)
        violations = app.exchange.check_invariants()
        resumed = app.exchange.resume_matches_live()
        book = app.exchange.book_matches_log()
    counts = dict.fromkeys(INVARIANT_CODES, 0)
    for violation in violations:
        counts[violation.code] += 1
    out.write("  ".join(f"{code}={n}" for code, n in counts.items()) + "\n")
    for violation in violations[:SHOWN_VIOLATIONS]:
        out.write(f"VIOLATION {violation.code} {violation.subject}: {violation.detail}\n")
    if len(violations) > SHOWN_VIOLATIONS:
        out.write(f"... and {len(violations) - SHOWN_VIOLATIONS} more\n")
    out.write(f"resume(scan) == live state: {resumed}\n")
    out.write(f"order log == book: {book}\n")
    out.write(f"total violations: {len(violations)}\n")
    return 0 if not violations and resumed and book else 1


def parse_instant_ns(text: str) -> int:
    """Integer nanoseconds since the epoch, or an ISO 8601 time with a UTC offset."""
    if text.isascii() and text.isdigit():
        return ascii_decimal("at", text, U63_MAX)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidValue("at", text, "integer ns or ISO 8601 with an offset") from None
    if moment.tzinfo is None:
        raise InvalidValue("at", text, "an ISO 8601 time needs an offset (Z or +hh:mm)")
    whole = int(moment.timestamp())
    return whole * NS_PER_S + moment.microsecond * 1_000


def who_could(records: list[AuditRecord], at_ns: int) -> dict[UserId, AuditRecord]:
    """Each user's last decision on the account at or before ``at_ns``."""
    last: dict[UserId, AuditRecord] = {}
    for record in sorted(records, key=lambda r: r.at_ns):
        if record.at_ns > at_ns:
            break
        if record.actor_user_id is not None:
            last[record.actor_user_id] = record
    return last


def run_who_could(config: Config, out: TextIO, *, account: str, at: str) -> int:
    account_id = AccountId.from_hex(account)
    at_ns = parse_instant_ns(at)
    with open_runtime(config) as runtime:
        records = list(runtime.stores.audit.records_for_account(account_id))
    out.write(f"account {account_id} at {at_ns} ns (from {len(records)} audit records)\n")
    found = who_could(records, at_ns)
    if not found:
        out.write("no user decision on this account at or before that time\n")
    for user, record in sorted(found.items(), key=lambda item: item[0].value):
        if record.grant_permissions is None:
            out.write(f"user {user}: nothing (no grant; last decision {record.request_id})\n")
            continue
        flags = ",".join(record.grant_permissions.wire_names()) or "none"
        via = f"grant ({user}, {account_id}) [{flags}]"
        if record.key_id is not None and record.key_scope is not None:
            scope = ",".join(record.key_scope.wire_names()) or "none"
            via += f" through key {record.key_id:016x} scoped [{scope}]"
        out.write(
            f"user {user}: {flags} via {via}; last decision {record.action.name} "
            f"{'allowed' if record.allowed else 'denied ' + record.reason.value} "
            f"at {record.at_ns} ({record.request_id})\n"
        )
    return 0
