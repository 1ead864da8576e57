"""The narrowed contract and the rule engine agree: what conformance sends as valid, the engine takes.

For each model of the contract and each operation it serves, schemathesis draws positive cases
from the narrowed contract; every one must break no rule of the model (the same engine the
client and the server use). The narrowing is derived from the rules, so this is the check that
the two readings of `x-imagegen-models` are one.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from imagegen.conformance.hooks import fit_masks
from imagegen.conformance.narrowing import narrow_contract
from imagegen.conformance.strategies import custom_sizes, register_formats
from imagegen.contract import IMAGE, UploadFacts, default_contract, parse_size, violations
from imagegen.imageinfo import image_info

CONTRACT = default_contract()
CATALOG = CONTRACT.catalog
CASES = [
    (model.name, operation)
    for model in CATALOG
    for operation in CONTRACT.operations
    if model.supports(operation.name)
    for media in operation.bodies
    if not (media == "application/json" and not model.takes("images") and operation.name == "edits")
]


def _uploads(operation: Any, body: dict[str, Any], media: str) -> list[UploadFacts]:
    schema_name = operation.schema_for(media)
    roles = CONTRACT.upload_fields(schema_name) if schema_name else {}
    facts = []
    for field, role in roles.items():
        value = body.get(field)
        for item in value if isinstance(value, list) else [value] if value is not None else []:
            data = getattr(item, "data", None)
            info = image_info(data) if isinstance(data, bytes) else None
            if info is not None:
                facts.append(
                    UploadFacts(
                        role, field, field, info.format, info.width, info.height, len(data), info.has_alpha
                    )
                )
    return facts


@pytest.mark.parametrize(("model", "operation"), CASES, ids=[f"{m}-{o.name}" for m, o in CASES])
def test_every_positive_case_of_the_narrowed_contract_keeps_the_models_rules(
    model: str, operation: Any
) -> None:
    rules = CATALOG.get(model)
    assert rules is not None
    size = rules.rule("size")
    image = rules.upload(IMAGE)
    register_formats(square=bool(image and image.square), sizes=size.custom_sizes if size else None)
    schema = schemathesis.openapi.from_dict(narrow_contract(CONTRACT, model, rules))
    api_operation = schema[operation.path][operation.method]
    strategy = api_operation.as_strategy(generation_mode=GenerationMode.POSITIVE)
    seen_sizes: set[str] = set()
    custom = size is not None and size.custom_sizes is not None

    @settings(
        max_examples=60 if custom else 12,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def check(case: Any) -> None:
        body = case.body if isinstance(case.body, dict) else {}
        if body.get("model") in (None, []):
            body["model"] = model  # as the runner's hook does: the case is about this model
        fit_masks(body, CONTRACT.upload_fields(operation.schema_for(case.media_type) or ""))
        found = violations(operation.name, body, _uploads(operation, body, case.media_type), catalog=CATALOG)
        assert found == [], (body, found)
        if isinstance(body.get("size"), str):
            seen_sizes.add(body["size"])

    check()
    if custom and size is not None:
        # custom sizes are sent as valid too, not only the listed ones
        assert any(parse_size(s) and s not in (size.values or ()) for s in seen_sizes), seen_sizes


def test_the_custom_sizes_drawn_are_ones_the_model_takes() -> None:
    rules = CATALOG.get("gpt-image-2")
    assert rules is not None
    size = rules.rule("size")
    assert size is not None
    drawn = custom_sizes(size.custom_sizes)
    assert len(drawn) >= 8
    assert all(rules.why_size_not(value) is None for value in drawn)
    assert all(value not in (size.values or ()) for value in drawn)
