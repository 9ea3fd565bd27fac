"""Shared test configuration: hypothesis profiles and the real-server policy."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=100, deadline=None)
settings.register_profile(
    "ci",
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
# scripts/mutation.sh: every surviving mutant reruns the properties, so fewer examples, and
# derandomized so a mutant's verdict does not depend on the draw.
settings.register_profile(
    "mutation",
    max_examples=20,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def unavailable_service(name: str, reason: str) -> None:
    """In CI a missing real server is a failure; elsewhere a loud skip."""
    message = f"{name} is not reachable: {reason}"
    if in_ci():
        pytest.fail(f"{message} (CI=true makes every real-server leg mandatory)")
    pytest.skip(f"SKIPPING REAL-SERVER LEG: {message}")
