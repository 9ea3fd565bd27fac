"""Memory operator credentials."""

from __future__ import annotations

import attrs

from axdomain.errors import Conflict
from axdomain.operators import Operator


class MemoryOperators:
    def __init__(self) -> None:
        self._operators: dict[int, Operator] = {}
        self._by_name: dict[str, int] = {}

    def add_operator(self, operator: Operator) -> None:
        if operator.operator_id in self._operators:
            raise Conflict("operator_id", operator.operator_id, "already exists")
        if operator.name in self._by_name:
            raise Conflict("name", operator.name, "already exists")
        self._operators[operator.operator_id] = operator
        self._by_name[operator.name] = operator.operator_id

    def get_operator(self, operator_id: int) -> Operator | None:
        return self._operators.get(operator_id)

    def find_operator(self, name: str) -> Operator | None:
        operator_id = self._by_name.get(name)
        return None if operator_id is None else self._operators[operator_id]

    def revoke_operator(self, name: str, at_ns: int) -> bool:
        operator = self.find_operator(name)
        if operator is None:
            return False
        if not operator.is_revoked:
            self._operators[operator.operator_id] = attrs.evolve(operator, revoked_at_ns=at_ns)
        return True
