"""Participant paths: the exact problem of each refusal (the value is always the full path)."""

from __future__ import annotations

import pytest

from axdomain import AccountId, InvalidValue, generate_participant, parse_participant

DESK = AccountId(0x0190_0000_0000_00D0)
NAME = generate_participant(DESK)
ULID_TEXT = NAME.removeprefix("ax.")


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        (7, "must be a str"),
        ("firms/-bad/users/" + NAME, "the firm segment is malformed"),
        (f"firms/f/users/{NAME}.x", "must be 26 Crockford base32 chars"),
        (f"firms/f/users/ax.{ULID_TEXT[:-1]}1", "ULID low 64 bits must be zero"),
        ("firms/f/users/" + NAME.replace("ax.", "bx."), "the user must be ax.{ulid}"),
    ],
    ids=["not_text", "firm", "dot_in_ulid", "low_bits", "prefix"],
)
def test_parse_refusals_carry_the_exact_problem(path: object, problem: str) -> None:
    with pytest.raises(InvalidValue) as raised:
        parse_participant(path)  # type: ignore[arg-type]
    assert (raised.value.field, raised.value.value, raised.value.problem) == (
        "participant",
        path,
        problem,
    )
    assert parse_participant(f"firms/f/users/{NAME}") == DESK
