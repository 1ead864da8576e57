"""Schemathesis, with the contract as the oracle, finds nothing wrong with the reference server."""

from __future__ import annotations

import pytest

from imagegen.conformance import Outcome, run_conformance
from imagegen.server import ServerConfig, create_app, declared_model, serve_in_background

TOKEN = "sk-conformance"
CONFIG = ServerConfig(tokens=frozenset({TOKEN})).with_models(declared_model("sd-1.5-ggml"))


def explain(outcome: Outcome) -> str:
    lines = [f"{len(outcome.findings)} finding(s) for {outcome.model}:"]
    for finding in outcome.findings:
        lines.append(f"- {finding.operation} [{finding.check}, {finding.phase}] -> {finding.status}")
        lines.append(f"  {finding.message.splitlines()[0]}")
        sent = finding.request.body[:200] if finding.request and finding.request.body else b""
        lines.append(f"  sent: {sent!r}")
        lines.append(f"  got:  {finding.response_body[:200]}")
    return "\n".join(lines + outcome.errors)


@pytest.mark.parametrize("model", ["gpt-image-1.5", "dall-e-2", "dall-e-3", "gpt-image-2", "sd-1.5-ggml"])
def test_the_server_conforms_in_process(model: str) -> None:
    outcome = run_conformance(
        model=model, app=create_app(CONFIG), token=TOKEN, max_examples=25, seed=7, catalog=CONFIG.catalog
    )

    assert outcome.conforms, explain(outcome)
    operations = {operation for operation, _, _ in outcome.checks}
    assert operations >= {"POST /images/generations"}
    assert outcome.cases > 500


@pytest.mark.parametrize("model", ["gpt-image-1.5", "dall-e-2"])
def test_the_server_conforms_over_loopback(model: str) -> None:
    with serve_in_background(CONFIG) as base_url:
        outcome = run_conformance(model=model, base_url=base_url, token=TOKEN, max_examples=10, seed=11)

    assert outcome.conforms, explain(outcome)
    checked = {check for _, check, status in outcome.checks if status == "success"}
    assert {"not_a_server_error", "response_schema_conformance", "negative_data_rejection"} <= checked


def test_every_operation_of_dall_e_2_is_exercised() -> None:
    outcome = run_conformance(model="dall-e-2", app=create_app(CONFIG), token=TOKEN, max_examples=5, seed=3)
    assert {operation for operation, _, _ in outcome.checks} == {
        "POST /images/generations",
        "POST /images/edits",
        "POST /images/variations",
    }


def test_a_server_that_ignores_auth_is_caught() -> None:
    """The same run fails against a server that answers without checking the token."""
    careless = create_app(ServerConfig(auth=False))

    outcome = run_conformance(model="dall-e-3", app=careless, token=TOKEN, max_examples=5, seed=7)

    assert not outcome.conforms
    assert {finding.check for finding in outcome.findings} == {"ignored_auth"}
