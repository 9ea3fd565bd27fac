"""What a step's verification found: named checks, each a count of offending rows."""

from __future__ import annotations

import attrs


@attrs.frozen
class Check:
    """``offending`` rows break the rule; an ``informational`` check never fails a step."""

    rule: str
    offending: int
    informational: bool = False

    @property
    def ok(self) -> bool:
        return self.informational or self.offending == 0

    def line(self) -> str:
        mark = "info" if self.informational else ("ok" if self.offending == 0 else "FAIL")
        return f"[{mark}] {self.rule}: {self.offending}"


@attrs.frozen
class Verification:
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    def lines(self) -> list[str]:
        return [check.line() for check in self.checks]


def not_applied(what: str) -> Verification:
    return Verification((Check(f"not applied yet: {what}", 1),))
