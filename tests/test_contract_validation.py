"""The quick validity check (jsonschema_rs) and jsonschema agree on every request schema."""

from __future__ import annotations

import itertools
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import jsonschema_rs
import pytest

from imagegen.contract import RequestInvalid, RequestValidator, default_contract
from imagegen.contract.validation import FILE_PLACEHOLDER

CONTRACT = default_contract()
SCHEMAS = sorted({name for info in CONTRACT.operations for name in info.bodies.values()})
VALUES: list[Any] = [
    None, True, False, 0, 1, -1, 2, 1.0, 1.5, 10, 11, 100, 101, "", "x", "2", "auto", "256x256",
    "0x0", "dall-e-2", "png", "b64_json", "high", FILE_PLACEHOLDER, [], [FILE_PLACEHOLDER], ["x", 1],
    [{"image_url": "https://example.com/a.png"}], {}, {"image_url": "data:image/png;base64,AAAA"},
    {"file_id": "file-1"}, "x" * 33000,
]  # fmt: skip
"""Values of every JSON type, at and beyond the contract's bounds, tried in every field."""


def _bodies(schema_name: str) -> list[dict[str, Any]]:
    """The schema's fields each set to every value, alone and over a body of its required fields
    (filled with the first value each accepts), without each required field, and with a stranger."""
    checker = CONTRACT.validator._validator(schema_name)
    schema = CONTRACT.schema(schema_name)
    fields = schema.get("properties", {})
    base: dict[str, Any] = {}
    for name in schema.get("required", []):
        field = CONTRACT.resolve(fields.get(name, {}))
        candidates = [*field.get("enum", []), *field.get("examples", []), *VALUES]
        base[name] = next(
            value
            for value in candidates
            if not any(list(error.path)[:1] == [name] for error in checker.iter_errors({name: value}))
        )
    bodies = [base, {}, {**base, "no_such_field": 1}]
    bodies += [{key: value for key, value in base.items() if key != name} for name in base]
    for name, value in itertools.product(fields, VALUES):
        bodies += [{**base, name: value}, {name: value}]
    return bodies


@pytest.mark.parametrize("schema_name", SCHEMAS)
def test_the_quick_check_and_jsonschema_agree_on_every_field_and_value(schema_name: str) -> None:
    validator = CONTRACT.validator
    verdicts = {True: 0, False: 0}
    for body in _bodies(schema_name):
        full = validator.errors(schema_name, body) == []
        assert validator.is_valid(schema_name, body) is full, (schema_name, body)
        verdicts[full] += 1
    assert verdicts[True] > 0, verdicts  # both answers were put to the test
    assert verdicts[False] > 0, verdicts


def test_the_quick_check_is_jsonschema_rs_and_an_invalid_body_still_gets_jsonschema_s_message() -> None:
    validator = CONTRACT.validator
    validator.is_valid("CreateImageRequest", {"prompt": "a cat"})
    quick = validator._checked_by("CreateImageRequest")[1]
    assert isinstance(getattr(quick, "__self__", None), jsonschema_rs.Draft202012Validator)
    with pytest.raises(RequestInvalid) as caught:
        validator.check_json("CreateImageRequest", {"prompt": "a cat", "n": 0})
    assert caught.value.param == "n"
    assert caught.value.message == "Invalid 'n': 0 is less than the minimum of 1."


def test_threads_checking_bodies_on_a_new_validator_at_once_all_get_answers() -> None:
    """The server's jobs share one validator; the first checks of a schema race to build it."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads take turns every few bytecodes: races show at once
    try:
        for _ in range(20):
            validator = RequestValidator(CONTRACT.document)
            start = threading.Barrier(8)

            def check(validator: RequestValidator = validator, start: threading.Barrier = start) -> Any:
                start.wait(timeout=10)
                return validator.check_json("CreateImageRequest", {"prompt": "a cat"})

            with ThreadPoolExecutor(8) as threads:
                answers = list(threads.map(lambda _: check(), range(8)))
            assert answers == [{"prompt": "a cat"}] * 8
    finally:
        sys.setswitchinterval(interval)
