"""Requests as the client builds them: the generated client's routes, headers and encodings."""

from __future__ import annotations

import importlib
from typing import Any

import pytest

from imagegen.calls import json_call
from imagegen.contract import default_contract
from imagegen.contract.operations import JSON

CONTRACT = default_contract()
JSON_OPERATIONS = [op for op in CONTRACT.operations if JSON in op.bodies and "images" in op.tags]
BODIES: list[dict[str, Any]] = [
    {"prompt": "Yellow alpaca", "model": "dall-e-3", "n": 1, "size": "1024x1024", "quality": "hd"},
    {"prompt": "otter", "model": "gpt-image-2", "size": "1536x864", "stream": True, "partial_images": 2},
    {"prompt": "p", "quality": "xhigh", "seed": 42, "tags": ["a", "b"], "extra": {"nested": True}},
    {
        "prompt": "edit",
        "images": [{"image_url": "data:image/png;base64,AAAA"}, {"file_id": "file-1"}],
        "mask": {"file_id": "file-2"},
        "output_compression": 0,
        "background": "transparent",
    },
]


@pytest.mark.parametrize("operation", JSON_OPERATIONS, ids=[op.name for op in JSON_OPERATIONS])
@pytest.mark.parametrize("body", BODIES)
def test_a_json_body_goes_out_as_the_generated_model_would_encode_it(
    operation: Any, body: dict[str, Any]
) -> None:
    model = getattr(importlib.import_module("imagegen_api.models"), operation.bodies[JSON])
    if "images" in {field.name for field in CONTRACT.fields(operation.bodies[JSON]) if field.required}:
        body = {"images": [], **body}
    call = json_call(CONTRACT, operation, body, None, None)
    assert call.json == model.from_dict(body).to_dict()
    assert (call.method, call.path) == (operation.method, operation.path)


@pytest.mark.parametrize(
    "operation",
    [op for op in CONTRACT.operations if JSON in op.bodies and "images" not in op.tags],
    ids=lambda op: op.name,
)
def test_other_json_bodies_go_out_as_the_generated_model_would_encode_them(operation: Any) -> None:
    model = getattr(importlib.import_module("imagegen_api.models"), operation.bodies[JSON])
    required = [field for field in CONTRACT.fields(operation.bodies[JSON]) if field.required]
    body: dict[str, Any] = {field.name: field.enum[0] if field.enum else "x-1" for field in required}
    body["metadata"] = {"project": "catalogue"}
    call = json_call(CONTRACT, operation, body, None, None)
    assert call.json == model.from_dict(body).to_dict() == body


def test_the_account_headers_come_from_the_generated_endpoint() -> None:
    call = json_call(CONTRACT, CONTRACT.operation("generations"), {"prompt": "p"}, "org-1", "proj-2")
    assert call.headers == {
        "OpenAI-Organization": "org-1",
        "OpenAI-Project": "proj-2",
        "Content-Type": "application/json",
    }
    plain = json_call(CONTRACT, CONTRACT.operation("generations"), {"prompt": "p"}, None, None)
    assert plain.headers == {"Content-Type": "application/json"}
