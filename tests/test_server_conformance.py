"""Schemathesis, with the contract as the oracle, finds nothing wrong with the reference server.

Every model of the contract (and a LocalAI-like one) is run in-process. dall-e-2, which serves
every operation with small images, runs every phase; the others skip the coverage phase, whose
boundary cases (ten 1536x1024 images a request) make up most of a GPT model's run without
testing anything the dall-e-2 run does not. `scripts/conformance-self` runs every phase for every
model. Over loopback, the zoo's `reference` case runs the real command (tests/test_conformance_zoo.py).
"""

from __future__ import annotations

import pytest

from imagegen.conformance import Outcome, run_conformance
from imagegen.contract import default_contract
from imagegen.server import ServerConfig, create_app, declared_model
from imagegen.server.render import PAINTED

TOKEN = "sk-conformance"
CONFIG = ServerConfig(tokens=frozenset({TOKEN})).with_models(declared_model("sd-1.5-ggml"))
FULL_RUN = "dall-e-2"
MODELS = [model.name for model in CONFIG.catalog]


def explain(outcome: Outcome) -> str:
    lines = [f"{len(outcome.findings)} finding(s) for {outcome.model}:"]
    for finding in outcome.findings:
        lines.append(f"- {finding.operation} [{finding.check}, {finding.phase}] -> {finding.status}")
        lines.append(f"  {finding.message.splitlines()[0]}")
        sent = finding.request.body[:200] if finding.request and finding.request.body else b""
        lines.append(f"  sent: {sent!r}")
        lines.append(f"  got:  {finding.response_body[:200]}")
    return "\n".join(lines + outcome.errors)


def run(model: str) -> Outcome:
    full = model == FULL_RUN
    return run_conformance(
        model=model,
        app=create_app(CONFIG),
        token=TOKEN,
        max_examples=12 if full else 8,
        seed=7,
        catalog=CONFIG.catalog,
        phases=None if full else ("examples", "fuzzing"),
    )


@pytest.mark.parametrize("model", MODELS)
def test_the_server_conforms_for_every_model(model: str) -> None:
    outcome = run(model)

    assert outcome.conforms, explain(outcome)
    rules = CONFIG.catalog.get(model)
    assert rules is not None
    served = [op for op in default_contract().operations if rules.supports(op.name)]
    painted = {op.label for op in served if op.name in PAINTED}
    assert {operation for operation, _, _ in outcome.checks} == painted  # every operation it serves
    # an operation of the contract the server has no painter for is reported, not tested
    assert set(outcome.not_implemented) == {op.name for op in served if op.name not in PAINTED}
    assert outcome.cases > (1000 if model == FULL_RUN else 100)
    if model == FULL_RUN:
        checked = {check for _, check, status in outcome.checks if status == "success"}
        assert {"not_a_server_error", "response_schema_conformance", "negative_data_rejection"} <= checked
