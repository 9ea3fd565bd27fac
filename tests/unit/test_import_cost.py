"""Import cost, structurally (no timing): ``import axdomain`` loads no submodule until a
name is used, every public name still resolves to its home's object, and the SQL adapters
import Alembic only when they migrate."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import axdomain


def _modules_after(statement: str) -> set[str]:
    """Modules loaded by a fresh interpreter that runs ``statement``."""
    script = f"{statement}\nimport sys\nprint('\\n'.join(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    return set(result.stdout.split())


def test_importing_the_package_loads_no_submodule_and_not_attrs() -> None:
    loaded = _modules_after("import axdomain")
    assert "axdomain" in loaded
    assert {m for m in loaded if m.startswith("axdomain.")} == set()
    assert "attrs" not in loaded
    assert "typing" not in loaded


def test_a_name_loads_only_what_it_needs() -> None:
    loaded = _modules_after("from axdomain import AccountId")
    assert "axdomain.ids" in loaded
    assert "axdomain.ledger.invariants" not in loaded
    assert "axdomain.api_keys" not in loaded


def test_every_public_name_has_a_home_and_resolves_to_its_object() -> None:
    homes = {name: module for module, names in axdomain._HOMES.items() for name in names}
    assert sorted(homes) == sorted(axdomain.__all__)
    assert len(set(axdomain.__all__)) == len(axdomain.__all__)
    for name, module in homes.items():
        assert getattr(axdomain, name) is getattr(importlib.import_module(module), name)
    assert set(axdomain.__all__) <= set(dir(axdomain))


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = axdomain.no_such_name  # type: ignore[attr-defined]


def test_sql_adapters_import_alembic_only_to_migrate() -> None:
    assert not any(m.startswith("alembic") for m in _modules_after("import axadapters.sql"))
    migrating = _modules_after("import axadapters.sql.migrate as m\nm.alembic_config()")
    assert "alembic.config" in migrating
