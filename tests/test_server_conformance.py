"""The conformance runner, with the contract as the oracle, finds nothing wrong with the reference server.

Every model of the contract (and a LocalAI-like one) is run in-process, image checks included.
dall-e-2, which serves every operation with small images, runs every phase; the others skip the
coverage phase, whose boundary cases (ten 1536x1024 images a request) make up most of a GPT
model's run without testing anything the dall-e-2 run does not. `scripts/conformance-self` runs
every phase for every model. Over loopback, tests/test_conformance_zoo.py runs the real command.
"""

from __future__ import annotations

import pytest

from imagegen.conformance import Outcome, run_conformance
from imagegen.contract import default_contract
from imagegen.server import ServerConfig, create_app, declared_model

pytestmark = pytest.mark.heavy

TOKEN = "sk-conformance"
CONFIG = ServerConfig(tokens=frozenset({TOKEN})).with_models(declared_model("sd-1.5-ggml"))
FULL_RUN = "dall-e-2"
STREAMING_RUN = "gpt-image-1.5"
MODELS = [model.name for model in CONFIG.catalog]


def explain(outcome: Outcome) -> str:
    lines = [f"{len(outcome.findings)} finding(s) for {outcome.model}:"]
    for finding in outcome.findings:
        lines.append(f"- {finding.operation} [{finding.check}, {finding.phase}] -> {finding.status}")
        lines.append(f"  {finding.title}: {finding.message.splitlines()[0] if finding.message else ''}")
        lines.append(f"  triggered by {finding.trigger}")
        sent = finding.request.body[:200] if finding.request and finding.request.body else b""
        lines.append(f"  sent: {sent!r}")
        lines.append(f"  got:  {finding.response_body[:200]}")
    return "\n".join(lines + outcome.errors + ([outcome.incomplete] if outcome.incomplete else []))


def run(model: str) -> Outcome:
    full = model == FULL_RUN
    return run_conformance(
        model=model,
        app=create_app(CONFIG),
        token=TOKEN,
        max_examples=8 if full else 4,
        seed=7,
        catalog=CONFIG.catalog,
        phases=None if full else ("examples", "fuzzing"),
        # The files and batches operations know no model: tests/test_conformance_files.py runs them.
        operations=[op.name for op in default_contract().image_operations],
    )


@pytest.mark.parametrize("model", MODELS)
def test_the_server_conforms_for_every_model(model: str) -> None:
    outcome = run(model)

    assert outcome.conforms, explain(outcome)
    rules = CONFIG.catalog.get(model)
    assert rules is not None
    served = {op.label for op in default_contract().image_operations if rules.supports(op.name)}
    assert {operation for operation, _, _ in outcome.checks} == served  # every operation it serves
    assert outcome.cases > (1000 if model == FULL_RUN else 100)
    checked = {check for _, check, status in outcome.checks if status == "success"}
    assert {
        "image_size_matches",
        "image_format_matches",
        "image_count_matches",
        "model_rule_rejection",
    } <= checked
    if model == FULL_RUN:
        assert {
            "not_a_server_error",
            "response_schema_conformance",
            "negative_data_rejection",
            "url_serves_image",
            "mask_keeps_unmasked_pixels",
            "upload_rejection",
            "mask_size_rejection",
        } <= checked
    if model == STREAMING_RUN:
        assert outcome.streaming == "supported"
        assert {
            "stream_partial_images",
            "stream_completed_events",
            "transparent_background",
            "usage_adds_up",
            "echoed_fields_match",
        } <= checked
