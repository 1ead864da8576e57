"""How a run configures schemathesis: the operations whose one input is an id in their path."""

from __future__ import annotations

from imagegen.conformance import run_conformance
from imagegen.conformance.settings import id_only_operations
from imagegen.contract import default_contract

from .zoo.defects import TOKEN, _reference


def test_the_operations_of_an_id_alone_are_read_from_the_contract() -> None:
    contract = default_contract()
    expected = [
        op.id for op in contract.operations if "{" in op.path and op.method in ("GET", "DELETE", "POST")
    ]
    expected = [op_id for op_id in expected if not contract.operation(op_id).bodies]
    assert id_only_operations(contract) == expected
    assert "retrieveFile" in expected
    assert "listFiles" not in id_only_operations(contract)  # it takes query parameters too


def test_an_id_alone_is_fuzzed_with_valid_ids_and_still_refused_invalid_ones_in_coverage() -> None:
    outcome = run_conformance(
        model="dall-e-2",
        app=_reference(),
        token=TOKEN,
        operations=["file_info"],
        phases=["coverage", "fuzzing"],
    )

    assert outcome.conforms, outcome.errors
    assert outcome.errors == []  # no "too many examples filtered out"
    checked = {check for (_, check, status) in outcome.checks if status == "success"}
    assert "negative_data_rejection" in checked  # the coverage phase's invalid ids
    assert outcome.cases > 100
