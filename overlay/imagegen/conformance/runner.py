"""Run schemathesis, with the contract narrowed to one model as the oracle, against a server.

    from imagegen.conformance import run_conformance

    outcome = run_conformance(model="dall-e-2", base_url="http://127.0.0.1:8000/v1", token="...")
    outcome.conforms, outcome.findings

Before schemathesis runs, probes find which operations the server implements, whether it
streams, and whether it refuses a mask of the wrong size. Every run is bounded by
`max_examples`, `max_time_s` and `request_timeout_s`; the same seed gives the same run.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable
from typing import Any

import httpx
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events, from_schema

from ..contract import IMAGE, Contract, FieldRule, ModelCatalog, ModelRules, OperationInfo, default_contract
from .findings import Finding, Outcome, SentRequest
from .hooks import install_hooks
from .narrowing import model_bound, narrow_contract
from .probes import (
    MASK_CHECK,
    SetupError,
    check_reachable,
    implemented,
    mask_probe_operation,
    mask_size_probe,
    redact,
    stream_probe_operation,
    streams,
)
from .strategies import register_formats

__all__ = ["PHASES", "SetupError", "run_conformance"]

PHASES = ("examples", "coverage", "fuzzing")

Progress = Callable[[str], None]


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
    checks: Iterable[str] | None = None,
    request_timeout_s: float = 60.0,
    max_time_s: int | None = None,
    workers: int = 1,
    catalog: ModelCatalog | None = None,
    progress: Progress | None = None,
    contract: Contract | None = None,
    phases: Iterable[str] | None = None,
) -> Outcome:
    """Test the server at `base_url` (or the ASGI `app`, in-process) for `model`.

    `contract` is the oracle (default: the packaged one). Every operation of it is tested,
    unless `operations` names some. The model's rules come from `catalog` (default: the
    contract's models); `phases` limits schemathesis' phases (examples, coverage, fuzzing;
    default: all three); a model without
    rules is tested against the whole contract with only `model` fixed. `checks` limits the
    schemathesis checks (default: all of them) and the probes. Raises SetupError when the run
    cannot happen (no server answering, nothing to test).
    """
    if (base_url is None) == (app is None):
        raise ValueError("give exactly one of base_url and app")
    oracle = contract or default_contract()
    wanted = _operations(oracle, operations)
    started = time.monotonic()
    report = progress or (lambda message: None)
    rules = (catalog or oracle.catalog).get(model)
    root = (base_url or "http://testserver/v1").rstrip("/")
    outcome = Outcome(model=model, base_url=base_url or "in-process application", seed=seed)
    selected = set(checks) if checks is not None else None
    headers = {"Authorization": f"Bearer {token}"} if token else {}

    with _probe_client(base_url, app) as http:
        if base_url is not None:
            check_reachable(http, root)
        served = [
            op
            for op in wanted
            if rules is None or not model_bound(oracle, op.name) or rules.supports(op.name)
        ]
        outcome.not_served = [op.name for op in wanted if op not in served]
        report(f"probing {', '.join(op.name for op in served) or 'nothing'} ...")
        absent = [op for op in served if not implemented(http, root, op, headers)]
        outcome.not_implemented = [op.name for op in absent]
        tested = [op for op in served if op not in absent]
        outcome.tested = [op.label for op in tested]
        if not tested:
            raise SetupError(_nothing_to_test(model, outcome))
        streaming = stream_probe_operation(oracle, tested)
        if streaming is not None and _may_stream(rules):
            answered = streams(http, root, streaming, model, rules, headers)
            if answered is not None:  # a refused probe tells nothing: streaming stays untested
                outcome.streaming = "supported" if answered else "not supported"
            if answered is False and rules is not None:
                rules = _without_streaming(rules)
        masked = mask_probe_operation(oracle, tested)
        if masked is not None and (selected is None or MASK_CHECK in selected):
            finding = mask_size_probe(http, root, oracle, masked, model, headers, token)
            outcome.checks[(masked.label, MASK_CHECK, "failure" if finding else "success")] += 1
            if finding is not None:
                outcome.findings.append(finding)

    narrowed = narrow_contract(oracle, model, rules)
    kept = {op.path for op in tested}
    narrowed["paths"] = {path: item for path, item in narrowed["paths"].items() if path in kept}
    image_rule = rules.upload(IMAGE) if rules is not None else None
    size_rule = rules.rule("size") if rules is not None else None
    register_formats(
        square=bool(image_rule is not None and image_rule.square),
        sizes=size_rule.custom_sizes if size_rule is not None else None,
    )
    config = _config(
        base_url, headers, max_examples, seed, mode, selected, request_timeout_s, max_time_s, workers, phases
    )
    schema = schemathesis.openapi.from_dict(narrowed, config=config)
    if app is not None:
        schema.app = app
    install_hooks(schema, oracle, model, narrowed)
    deadline = started + max_time_s if max_time_s is not None else None
    _execute(schema, outcome, token, report, deadline)
    outcome.elapsed_s = time.monotonic() - started
    return outcome


def _operations(contract: Contract, operations: Iterable[str] | None) -> list[OperationInfo]:
    if operations is None:
        return list(contract.operations)
    chosen: list[OperationInfo] = []
    for name in operations:
        if name not in contract.operation_names:
            raise ValueError(f"unknown operation {name!r}; use {', '.join(contract.operation_names)}")
        chosen.append(contract.operation(name))
    return chosen


def _may_stream(rules: ModelRules | None) -> bool:
    if rules is None:
        return True
    values = rules.values("stream")
    return values is None or True in values


def _without_streaming(rules: ModelRules) -> ModelRules:
    """`rules` as a server that does not stream has them (the probe found no event stream)."""
    fields = {**rules.fields, "stream": FieldRule(values=(False,)), "partial_images": FieldRule(taken=False)}
    return dataclasses.replace(rules, fields=fields)


def _nothing_to_test(model: str, outcome: Outcome) -> str:
    reasons = []
    if outcome.not_served:
        reasons.append(f"{model} does not serve {', '.join(outcome.not_served)}")
    if outcome.not_implemented:
        reasons.append(f"the server answers 404, 405 or 501 on {', '.join(outcome.not_implemented)}")
    return "nothing to test: " + ("; ".join(reasons) or "no operation chosen")


def _probe_client(base_url: str | None, app: Any) -> Any:
    if app is not None:
        from starlette.testclient import TestClient

        return TestClient(app, raise_server_exceptions=False)
    return httpx.Client(timeout=120.0, trust_env=False)


def _config(
    base_url: str | None,
    headers: dict[str, str],
    max_examples: int,
    seed: int,
    mode: str,
    selected: set[str] | None,
    request_timeout_s: float,
    max_time_s: int | None,
    workers: int,
    phases: Iterable[str] | None = None,
) -> SchemathesisConfig:
    settings: dict[str, Any] = {
        "headers": headers,
        "generation": {
            "mode": mode,
            "max-examples": max_examples,
            "with-security-parameters": False,
            "database": "none",  # the same seed gives the same run, and nothing is written to disk
        },
        "seed": seed,
        # Every distinct failure is reported, not just the first of each operation.
        "continue-on-failure": True,
        "request-timeout": request_timeout_s,
        "workers": workers,
        "analysis": {"constants": {"enabled": False}},
    }
    if phases is not None:
        chosen = set(phases)
        unknown = chosen - set(PHASES)
        if unknown:
            raise ValueError(f"unknown phase {sorted(unknown)[0]!r}; use {', '.join(PHASES)}")
        settings["phases"] = {name: {"enabled": name in chosen} for name in PHASES}
    if selected is not None:
        schemathesis_checks = selected - {MASK_CHECK}
        settings["checks"] = {"enabled": False, **{name: {"enabled": True} for name in schemathesis_checks}}
    if base_url is not None:
        settings["base-url"] = base_url
    # Not schemathesis' max-time: it keeps fuzzing until that time is used up. The limit here is
    # an upper bound, enforced in _execute.
    return SchemathesisConfig.from_dict(settings)


def _execute(
    schema: Any, outcome: Outcome, token: str | None, report: Progress, deadline: float | None
) -> None:
    seen = {finding.key for finding in outcome.findings}
    stream = from_schema(schema).execute()
    for event in stream:
        if deadline is not None and time.monotonic() > deadline:
            stream.stop()
            outcome.errors.append(
                "the time limit was reached before every operation was tested; results are partial"
            )
            break
        if isinstance(event, events.ScenarioFinished):
            _collect(event, outcome, seen, token)
            report(f"{event.recorder.label} [{event.phase.name.lower()}] {outcome.cases} checks")
        elif isinstance(event, events.NonFatalError):
            outcome.errors.append(f"{event.label}: {event.info.message}")
        elif isinstance(event, events.FatalError):
            outcome.errors.append(f"the run stopped: {event.exception}")


def _collect(
    event: events.ScenarioFinished, outcome: Outcome, seen: set[tuple[str, str, str]], token: str | None
) -> None:
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
            outcome.findings.append(
                Finding(
                    operation=recorder.label,
                    check=check.name,
                    title=failure.title,
                    message=redact(failure.message, token),
                    phase=event.phase.name.lower(),
                    status=response.status_code if response is not None else None,
                    request=_sent(interaction.request, token) if interaction is not None else None,
                    response_body=_text(response.content) if response is not None else "",
                )
            )


def _sent(request: Any, token: str | None) -> SentRequest:
    headers: dict[str, str] = {}
    for name, values in dict(request.headers).items():
        value = ", ".join(values) if isinstance(values, list) else str(values)
        headers[str(name)] = redact(value, token)
    body = request.body if isinstance(request.body, bytes) else None
    return SentRequest(request.method, redact(request.uri, token), headers, body)


def _text(content: bytes | None) -> str:
    return (content or b"")[:2000].decode("utf-8", errors="replace")
