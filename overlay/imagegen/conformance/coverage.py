"""What a run covered: per operation, the fields and enum values its valid requests held, and the
rules its negative requests tested, so a reader sees what the run did not cover.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..contract import Contract, ModelRules, OperationInfo

NOT_TAKEN = "not taken by the model"
NOT_DOCUMENTED = "not documented by the profile"


@dataclass
class FieldCoverage:
    """One request field: how many valid requests held it, and which of its values."""

    values: tuple[str, ...] | None
    """The values a valid request may hold, when they are a list (the model's or the contract's)."""
    sent: int = 0
    seen: Counter[str] = field(default_factory=Counter)
    status: str | None = None
    """Why the run never sends it (NOT_TAKEN, NOT_DOCUMENTED), or None."""

    @property
    def never_sent(self) -> list[str]:
        return [value for value in self.values or () if value not in self.seen]


@dataclass
class OperationCoverage:
    valid_requests: int = 0
    fields: dict[str, FieldCoverage] = field(default_factory=dict)
    rules: list[tuple[str, str]] = field(default_factory=list)
    """(what must be refused, what the server answered)."""


class CoverageRecorder:
    """Counts what the valid requests of a run held; thread-safe."""

    def __init__(self) -> None:
        self.operations: dict[str, OperationCoverage] = {}
        self._lock = threading.Lock()

    def declare(
        self,
        contract: Contract,
        operation: OperationInfo,
        rules: ModelRules | None,
        narrowed: Mapping[str, Any],
        documented: Any = None,
    ) -> None:
        """Set up the fields of `operation`; `narrowed` is the narrowed contract (a field it forbids
        in every body is not taken), `documented(name)` says whether the profile documents it."""
        coverage = OperationCoverage()
        schemas = narrowed.get("components", {}).get("schemas", {})
        forbidden = None
        for schema_name in operation.bodies.values():
            properties = schemas.get(schema_name, {}).get("properties", {})
            refused = {name for name, node in properties.items() if node is False or node == {"type": "null"}}
            forbidden = refused if forbidden is None else forbidden & refused
        for info in contract.request_fields(operation):
            values: tuple[Any, ...] | None = rules.values(info.name) if rules is not None else None
            if not values:
                values = info.enum if info.enum else (False, True) if info.kind == "boolean" else None
            status = None
            if (rules is not None and not rules.takes(info.name)) or info.name in (forbidden or set()):
                status = NOT_TAKEN
            elif documented is not None and not documented(info.name):
                status = NOT_DOCUMENTED
            shown = tuple(_text(value) for value in values) if values else None
            coverage.fields[info.name] = FieldCoverage(values=shown, status=status)
        with self._lock:
            self.operations[operation.label] = coverage

    def valid_request(self, operation: str, body: Mapping[str, Any]) -> None:
        with self._lock:
            coverage = self.operations.get(operation)
            if coverage is None:
                return
            coverage.valid_requests += 1
            for name, value in body.items():
                tracked = coverage.fields.get(name)
                if tracked is None or value is None:
                    continue
                tracked.sent += 1
                if tracked.values is not None:
                    tracked.seen[_text(value)] += 1

    def rule_tested(self, operation: str, what: str, outcome: str) -> None:
        with self._lock:
            coverage = self.operations.get(operation)
            if coverage is not None:
                coverage.rules.append((what, outcome))


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


__all__ = ["NOT_DOCUMENTED", "NOT_TAKEN", "CoverageRecorder", "FieldCoverage", "OperationCoverage"]
