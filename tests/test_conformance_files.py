"""`imagegen conformance` checks the files and batches operations against their schemas, like the
image operations (reported per operation), and removes what its requests created.

The defect side (a page of files without its `data`) is in the zoo (tests/zoo/defects.py).
"""

from __future__ import annotations

import json

from starlette.testclient import TestClient

from imagegen.conformance import Outcome, run_conformance
from imagegen.contract import default_contract

from .zoo.defects import TOKEN, Exchange, Rewriting, _reference

OTHERS = [operation for operation in default_contract().operations if not operation.makes_images]
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def explain(outcome: Outcome) -> str:
    found = [f"- {f.operation} [{f.check}, {f.phase}] {f.status}: {f.title}" for f in outcome.findings]
    return "\n".join(found + outcome.errors + outcome.notes)


def passed(outcome: Outcome, label: str) -> set[str]:
    return {check for (name, check, status) in outcome.checks if (name, status) == (label, "success")}


def test_the_reference_server_s_files_and_batches_conform() -> None:
    outcome = run_conformance(
        model="dall-e-2",
        app=_reference(),
        token=TOKEN,
        operations=[operation.name for operation in OTHERS],
        max_examples=5,
        seed=2,
    )

    assert outcome.conforms, explain(outcome)
    assert outcome.tested == [operation.label for operation in OTHERS]
    for operation in OTHERS:
        checks = passed(outcome, operation.label)
        assert {"not_a_server_error", "status_code_conformance", "content_type_conformance"} <= checks, (
            operation.label,
            checks,
        )
        if operation.answer is not None:
            assert "response_schema_conformance" in checks, operation.label
    assert any(
        note.startswith("the batches and files operations (createFile, listFiles,") for note in outcome.notes
    )
    assert outcome.coverage == {}  # no model rules to cover


def test_the_files_a_run_uploads_are_deleted_when_it_ends() -> None:
    made: list[str] = []

    def watch(exchange: Exchange) -> None:
        if exchange.method == "POST" and exchange.path.endswith("/files") and exchange.status == 200:
            made.append(exchange.answer_json()["id"])

    app = Rewriting(_reference(), answer=watch)
    outcome = run_conformance(
        model="dall-e-2", app=app, token=TOKEN, operations=["file_upload"], phases=["examples", "fuzzing"]
    )

    assert outcome.conforms, explain(outcome)
    assert len(made) > 3
    with TestClient(app) as client:
        for file_id in made:
            assert client.get(f"/v1/files/{file_id}", headers=AUTH).status_code == 404
    assert not any("could not delete" in note for note in outcome.notes)


def test_what_the_server_will_not_delete_is_named_in_a_note() -> None:
    def refuse_deletes(exchange: Exchange) -> None:
        if exchange.method == "DELETE":
            exchange.status = 503
            error = {"message": "Try later.", "type": "server_error", "param": None, "code": None}
            exchange.body = json.dumps({"error": error}).encode()

    outcome = run_conformance(
        model="dall-e-2",
        app=Rewriting(_reference(), answer=refuse_deletes),
        token=TOKEN,
        operations=["file_upload"],
        phases=["fuzzing"],
        max_examples=5,
    )

    [note] = [note for note in outcome.notes if "could not delete" in note] or [explain(outcome)]
    assert note.startswith("the run created ")
    assert "/files/file-" in note


def test_two_runs_against_one_server_both_conform() -> None:
    """Uploads are replayed under a reused Idempotency-Key; a second run whose keys were those of
    the first would be answered with files the first deleted (found by the conformance bench)."""
    app = _reference()
    files = ["file_upload", "file_info", "file_delete", "file_content", "file_list"]
    for _ in range(2):
        outcome = run_conformance(
            model="dall-e-2", app=app, token=TOKEN, operations=files, seed=3, max_examples=5
        )
        assert outcome.conforms, explain(outcome)
