"""Run schemathesis, with the (narrowed) contract as the oracle, against a server."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events, from_schema

from ..contract import load_contract
from ..rules import ModelCatalog, catalog_from
from .hooks import install_hooks
from .narrowing import PATHS, narrow_contract
from .strategies import register_formats


@dataclass(frozen=True)
class Finding:
    """One distinct way the server departs from the contract."""

    operation: str
    check: str
    title: str
    message: str
    phase: str
    status: int | None
    request_body: str
    response_body: str


@dataclass
class Outcome:
    """What a run found: distinct findings, and how many checks ran per operation and check."""

    model: str
    findings: list[Finding] = field(default_factory=list)
    checks: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # (operation, check, status)
    errors: list[str] = field(default_factory=list)

    @property
    def conforms(self) -> bool:
        return not self.findings and not self.errors

    @property
    def cases(self) -> int:
        return sum(self.checks.values())


def run_conformance(
    *,
    model: str,
    base_url: str | None = None,
    app: Any = None,
    token: str | None = None,
    operations: Iterable[str] | None = None,
    max_examples: int = 20,
    seed: int = 0,
    mode: str = "all",
    request_timeout_s: float = 60.0,
    max_time_s: int | None = None,
    catalog: ModelCatalog | None = None,
) -> Outcome:
    """Test the server at `base_url` (or the ASGI `app` in-process) for `model`; findings in the Outcome.

    The model's rules come from `catalog` (default: the contract's models); a model without
    rules is tested against the whole contract with only `model` fixed.
    """
    if (base_url is None) == (app is None):
        raise ValueError("give exactly one of base_url and app")
    register_formats()
    contract = load_contract()
    rules = (catalog or catalog_from(contract.get("x-imagegen-models") or {})).get(model)
    narrowed = narrow_contract(contract, model, rules)
    if operations is not None:
        wanted = {PATHS[name] for name in operations}  # type: ignore[index]
        narrowed["paths"] = {path: item for path, item in narrowed["paths"].items() if path in wanted}
    settings: dict[str, Any] = {
        "headers": {"Authorization": f"Bearer {token}"} if token else {},
        "generation": {
            "mode": mode,
            "max-examples": max_examples,
            "with-security-parameters": False,
            "database": "none",  # the same seed gives the same run, and nothing is written to disk
        },
        "seed": seed,
        "request-timeout": request_timeout_s,
        "analysis": {"constants": {"enabled": False}},
    }
    if base_url is not None:
        settings["base-url"] = base_url
    if max_time_s is not None:
        settings["max-time"] = max_time_s
    schema = schemathesis.openapi.from_dict(narrowed, config=SchemathesisConfig.from_dict(settings))
    if app is not None:
        schema.app = app
    install_hooks(schema, model, narrowed)

    outcome = Outcome(model=model)
    seen: set[tuple[str, str, str]] = set()
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            _collect(event, outcome, seen)
        elif isinstance(event, events.NonFatalError):
            outcome.errors.append(f"{event.label}: {event.info.message}")
        elif isinstance(event, events.FatalError):
            outcome.errors.append(f"fatal: {event.exception}")
    return outcome


def _collect(event: events.ScenarioFinished, outcome: Outcome, seen: set[tuple[str, str, str]]) -> None:
    recorder = event.recorder
    for case_id, checks in recorder.checks.items():
        for check in checks:
            outcome.checks[(recorder.label, check.name, check.status.value)] += 1
            if check.status is not Status.FAILURE or check.failure_info is None:
                continue
            failure = check.failure_info.failure
            key = (recorder.label, check.name, failure.title)
            if key in seen:
                continue
            seen.add(key)
            interaction = recorder.interactions.get(case_id)
            response = interaction.response if interaction is not None else None
            case = recorder.cases[case_id].value
            outcome.findings.append(
                Finding(
                    operation=recorder.label,
                    check=check.name,
                    title=failure.title,
                    message=failure.message,
                    phase=event.phase.name.lower(),
                    status=response.status_code if response is not None else None,
                    request_body=repr(case.body)[:500],
                    response_body=response.content[:500].decode(errors="replace")
                    if response is not None
                    else "",
                )
            )


def _text(content: bytes) -> str:
    return content[:500].decode(errors="replace")
