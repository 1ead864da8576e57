"""openapi/images.yaml: valid OpenAPI 3.1, complete, strict where a contract must be."""

from __future__ import annotations

from typing import Any

import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator

from imagegen import load_contract

from .support.contract import component_errors, load_yaml_contract, schema_errors

DOC = load_yaml_contract()
SCHEMAS = DOC["components"]["schemas"]
OPERATIONS = {
    "createImage": "/images/generations",
    "createImageEdit": "/images/edits",
    "createImageVariation": "/images/variations",
}
ERROR_STATUSES = ["400", "401", "404", "409", "413", "415", "422", "429", "500", "503"]


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    """Follow a local $ref (one level at a time, until none is left)."""
    while "$ref" in node:
        section, kind, name = node["$ref"].removeprefix("#/").split("/")
        node = DOC[section][kind][name]
    return node


def operation(path: str) -> dict[str, Any]:
    return DOC["paths"][path]["post"]


def body_schema(path: str, media: str) -> dict[str, Any]:
    return resolve(operation(path)["requestBody"]["content"][media]["schema"])


def test_contract_is_valid_openapi_3_1() -> None:
    errors = [e.message for e in OpenAPIV31SpecValidator(DOC).iter_errors()]
    assert errors == []
    assert DOC["openapi"].startswith("3.1")


def test_the_packaged_contract_is_the_yaml_contract() -> None:
    assert load_contract() == DOC


def test_every_operation_is_there_with_its_id() -> None:
    found = {op["operationId"]: path for path, item in DOC["paths"].items() for op in item.values()}
    assert found.items() >= OPERATIONS.items()  # these three at least; a new one may be added


@pytest.mark.parametrize(
    ("path", "media", "fields"),
    [
        (
            "/images/generations",
            "application/json",
            "prompt model n size quality response_format style background output_format "
            "output_compression moderation stream partial_images user",
        ),
        (
            "/images/edits",
            "multipart/form-data",
            "image[] image mask prompt model n size quality response_format background output_format "
            "output_compression input_fidelity stream partial_images user",
        ),
        (
            "/images/edits",
            "application/json",
            "images mask prompt model n size quality background output_format output_compression "
            "moderation input_fidelity stream partial_images user",
        ),
        ("/images/variations", "multipart/form-data", "image model n response_format size user"),
    ],
)
def test_every_request_field_is_in_the_contract(path: str, media: str, fields: str) -> None:
    assert set(body_schema(path, media)["properties"]) >= set(fields.split())  # more may be added


def test_edit_uploads_take_1_to_16_image_parts_or_one_image_part() -> None:
    edit = body_schema("/images/edits", "multipart/form-data")
    images = edit["properties"]["image[]"]
    assert (images["minItems"], images["maxItems"], images["items"]["format"]) == (1, 16, "binary")
    assert edit["properties"]["image"]["format"] == "binary"
    assert edit["properties"]["mask"]["format"] == "binary"
    assert edit["anyOf"] == [{"required": ["image[]"]}, {"required": ["image"]}]
    encoding = operation("/images/edits")["requestBody"]["content"]["multipart/form-data"]["encoding"]
    assert set(encoding) == {"image[]", "image", "mask"}


def test_json_edits_reference_images_by_url_or_file_id() -> None:
    edit = body_schema("/images/edits", "application/json")
    assert edit["required"] == ["images", "prompt"]
    assert resolve(edit["properties"]["images"]["items"]) is SCHEMAS["ImageReference"]
    assert set(SCHEMAS["ImageReference"]["properties"]) == {"image_url", "file_id"}


def test_images_response_has_every_field() -> None:
    response = SCHEMAS["ImagesResponse"]
    assert set(response["properties"]) == {
        "created",
        "data",
        "background",
        "output_format",
        "quality",
        "size",
        "usage",
    }
    assert set(SCHEMAS["Image"]["properties"]) == {"b64_json", "url", "revised_prompt"}
    usage = SCHEMAS["ImageUsage"]["properties"]
    assert set(usage) == {
        "input_tokens",
        "output_tokens",
        "total_tokens",
        "input_tokens_details",
        "output_tokens_details",
    }


@pytest.mark.parametrize(
    ("path", "events"),
    [
        ("/images/generations", {"image_generation.partial_image", "image_generation.completed"}),
        ("/images/edits", {"image_edit.partial_image", "image_edit.completed"}),
    ],
)
def test_streams_are_described_event_by_event(path: str, events: set[str]) -> None:
    ok = resolve(operation(path)["responses"]["200"])
    event = ok["content"]["text/event-stream"]["schema"]
    assert set(event["properties"]["event"]["enum"]) == events
    assert event["properties"]["data"]["contentMediaType"] == "application/json"
    union = resolve(event["properties"]["data"]["contentSchema"])
    assert set(union["discriminator"]["mapping"]) == events
    for event in union["oneOf"]:
        assert resolve(event)["properties"]["type"]["const"] in events


def test_variations_do_not_stream() -> None:
    assert set(resolve(operation("/images/variations")["responses"]["200"])["content"]) == {
        "application/json"
    }


# The image operations (POST, tag images) share one set of answers and headers.
EVERY_PATH = [path for path, item in DOC["paths"].items() if "images" in item.get("post", {}).get("tags", [])]
EVERY_OPERATION = [
    (method.upper(), path)
    for path, item in DOC["paths"].items()
    for method in item
    if method in ("get", "post", "delete")
]


@pytest.mark.parametrize("path", EVERY_PATH)
def test_every_image_operation_answers_every_error_in_the_envelope(path: str) -> None:
    responses = operation(path)["responses"]
    for status in [*ERROR_STATUSES, "default"]:
        schema = resolve(responses[status])["content"]["application/json"]["schema"]
        assert resolve(schema) is SCHEMAS["ErrorResponse"], status
    for status in ("429", "503"):
        assert "Retry-After" in resolve(responses[status])["headers"], status


@pytest.mark.parametrize(("method", "path"), EVERY_OPERATION)
def test_every_operation_answers_its_errors_in_the_envelope(method: str, path: str) -> None:
    responses = DOC["paths"][path][method.lower()]["responses"]
    errors = [status for status in responses if status == "default" or status[0] in "45"]
    assert "default" in errors
    assert "401" in errors
    for status in errors:
        schema = resolve(responses[status])["content"]["application/json"]["schema"]
        assert resolve(schema) is SCHEMAS["ErrorResponse"], status
        if status in ("429", "503"):
            assert "Retry-After" in resolve(responses[status])["headers"], status


@pytest.mark.parametrize("path", EVERY_PATH)
def test_every_operation_takes_auth_and_the_optional_headers(path: str) -> None:
    names = {resolve(p)["name"]: resolve(p)["required"] for p in operation(path)["parameters"]}
    assert names == {"OpenAI-Organization": False, "OpenAI-Project": False, "Idempotency-Key": False}
    assert DOC["security"] == [{"bearerAuth": []}]
    assert DOC["components"]["securitySchemes"]["bearerAuth"] == {
        **DOC["components"]["securitySchemes"]["bearerAuth"],
        "type": "http",
        "scheme": "bearer",
    }


def test_request_schemas_carry_no_defaults() -> None:
    """The generator sends spec defaults; the server must decide them instead."""

    def defaults(node: Any, where: str) -> list[str]:
        if isinstance(node, dict):
            found = [where] if "default" in node else []
            return found + [hit for key, value in node.items() for hit in defaults(value, f"{where}/{key}")]
        if isinstance(node, list):
            return [hit for i, value in enumerate(node) for hit in defaults(value, f"{where}/{i}")]
        return []

    assert defaults(SCHEMAS, "#/components/schemas") == []


# ---- strict where a contract must be ------------------------------------------------------------

GENERATION = {"$ref": "#/components/schemas/CreateImageRequest"}


@pytest.mark.parametrize(
    "body",
    [
        {"prompt": "Yellow alpaca", "model": "dall-e-3", "n": 1, "size": "1024x1024"},
        {
            "prompt": "otter",
            "model": "gpt-image-2",
            "size": "1536x864",
            "quality": "high",
            "stream": True,
            "partial_images": 3,
            "output_format": "webp",
            "output_compression": 0,
            "background": "transparent",
        },
        {"prompt": "otter", "n": None, "quality": None, "user": "user-1"},
        {"prompt": "Yellow alpaca", "model": "sd-1.5-ggml", "size": "64x64", "seed": 5},
    ],
)
def test_valid_generation_bodies_pass(body: dict[str, Any]) -> None:
    assert schema_errors(DOC, GENERATION, body) == []


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"model": "dall-e-2"}, id="no-prompt"),
        pytest.param({"prompt": ""}, id="empty-prompt"),
        pytest.param({"prompt": "p", "n": 0}, id="n-0"),
        pytest.param({"prompt": "p", "n": 11}, id="n-11"),
        pytest.param({"prompt": "p", "quality": "xhigh"}, id="unknown-quality"),
        pytest.param({"prompt": "p", "size": "big"}, id="size-not-WxH"),
        pytest.param({"prompt": "p", "partial_images": 4}, id="partial-images-4"),
        pytest.param({"prompt": "p", "output_compression": 101}, id="compression-101"),
        pytest.param({"prompt": "p", "response_format": "png"}, id="unknown-response-format"),
        pytest.param({"prompt": "p", "stream": "yes"}, id="stream-not-boolean"),
    ],
)
def test_invalid_generation_bodies_fail(body: dict[str, Any]) -> None:
    assert schema_errors(DOC, GENERATION, body) != []


def test_a_multipart_edit_needs_an_image() -> None:
    edit = {"$ref": "#/components/schemas/CreateImageEditRequest"}
    assert schema_errors(DOC, edit, {"prompt": "p"}) != []
    assert schema_errors(DOC, edit, {"prompt": "p", "image": "bytes"}) == []
    assert schema_errors(DOC, edit, {"prompt": "p", "image[]": ["a", "b"]}) == []
    assert schema_errors(DOC, edit, {"prompt": "p", "image[]": ["x"] * 17}) != []


@pytest.mark.parametrize(
    ("reference", "valid"),
    [
        ({"image_url": "https://example.com/a.png"}, True),
        ({"file_id": "file-1"}, True),
        ({"image_url": "https://example.com/a.png", "file_id": "file-1"}, False),
        ({}, False),
        ({"url": "https://example.com/a.png"}, False),
    ],
)
def test_an_image_reference_has_exactly_one_of_url_and_file_id(
    reference: dict[str, str], valid: bool
) -> None:
    assert (component_errors(DOC, "ImageReference", reference) == []) is valid


def test_the_seed_answer_is_a_valid_images_response() -> None:
    seed = {
        "created": 1757982404,
        "data": [
            {
                "revised_prompt": "An adorable, fluffy alpaca.",
                "url": "https://example.com/img-1.png?st=2025-09-15",
            }
        ],
    }
    assert component_errors(DOC, "ImagesResponse", seed) == []


def test_an_image_without_bytes_or_url_and_an_answer_without_created_are_invalid() -> None:
    assert component_errors(DOC, "ImagesResponse", {"created": 1, "data": [{"revised_prompt": "x"}]}) != []
    assert component_errors(DOC, "ImagesResponse", {"data": [{"b64_json": "AA=="}]}) != []


def test_stream_events_validate_one_by_one() -> None:
    usage = {
        "total_tokens": 100,
        "input_tokens": 50,
        "output_tokens": 50,
        "input_tokens_details": {"text_tokens": 10, "image_tokens": 40},
    }
    common = {
        "b64_json": "AA==",
        "created_at": 1620000000,
        "size": "1024x1024",
        "quality": "high",
        "background": "transparent",
        "output_format": "png",
    }
    stream = [
        {"type": "image_generation.partial_image", "partial_image_index": 0, **common},
        {"type": "image_generation.completed", "usage": usage, **common},
    ]
    event_schema = "ImageGenerationStreamEvent"
    assert [component_errors(DOC, event_schema, event) for event in stream] == [[], []]
    without_bytes = {k: v for k, v in stream[1].items() if k != "b64_json"}
    assert component_errors(DOC, event_schema, without_bytes) != []
    assert component_errors(DOC, event_schema, {**stream[0], "type": "image_edit.partial_image"}) != []


def test_the_error_envelope_needs_all_four_fields() -> None:
    good = {"error": {"message": "m", "type": "invalid_request_error", "param": None, "code": None}}
    assert component_errors(DOC, "ErrorResponse", good) == []
    assert component_errors(DOC, "ErrorResponse", {"detail": "Not authenticated"}) != []
    assert component_errors(DOC, "ErrorResponse", {"error": {"message": "m"}}) != []


def test_every_example_in_the_contract_is_valid() -> None:
    checked = 0
    for item in DOC["paths"].values():
        for media in item.get("post", {}).get("requestBody", {}).get("content", {}).values():
            for example in media.get("examples", {}).values():
                assert schema_errors(DOC, media["schema"], example["value"]) == [], example["summary"]
                checked += 1
    assert checked >= 3
