"""The generated client (`imagegen_api`) used on its own, against a real server on loopback."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Iterator
from http import HTTPStatus

import httpx
import pytest

from imagegen_api import AuthenticatedClient
from imagegen_api.api.images import create_image, create_image_edit, create_image_variation
from imagegen_api.models import (
    CreateImageEditJsonRequest,
    CreateImageEditRequest,
    CreateImageRequest,
    CreateImageVariationRequest,
    ErrorResponse,
    ImageReference,
    ImagesResponse,
)
from imagegen_api.types import UNSET, File

from .support.images import BOUNDARY_TRAP, jpeg_bytes, mask_bytes, png_bytes, png_with_trap, webp_bytes
from .support.recording_server import RecordingServer, parse_multipart, recording_server

TOKEN = "sk-test-not-a-real-key"
SEED_ANSWER = {
    "created": 1757982404,
    "data": [{"revised_prompt": "A fluffy yellow alpaca in a field.", "url": "https://example.com/a.png"}],
}


@pytest.fixture(scope="module")
def server() -> Iterator[RecordingServer]:
    with recording_server() as running:
        yield running


@pytest.fixture
def client(server: RecordingServer) -> Iterator[AuthenticatedClient]:
    server.requests.clear()
    server.replies.clear()
    with AuthenticatedClient(base_url=server.base_url, token=TOKEN, timeout=httpx.Timeout(10.0)) as c:
        yield c


def parsed_images(response: object) -> ImagesResponse:
    assert isinstance(response, ImagesResponse), f"expected ImagesResponse, got {response!r}"
    return response


# ---- generations (JSON) ------------------------------------------------------------------------


def test_generation_sends_the_json_body_auth_and_optional_headers(
    server: RecordingServer, client: AuthenticatedClient
) -> None:
    server.reply_json(SEED_ANSWER)
    body = CreateImageRequest(prompt="Yellow alpaca", model="dall-e-3", n=1, size="1024x1024")

    answer = create_image.sync_detailed(
        client=client,
        body=body,
        open_ai_organization="org-123",
        open_ai_project="proj-456",
        idempotency_key="retry-key-1",
    )

    sent = server.last
    assert (sent.method, sent.path) == ("POST", "/v1/images/generations")
    assert sent.json() == {"prompt": "Yellow alpaca", "model": "dall-e-3", "n": 1, "size": "1024x1024"}
    assert sent.headers["content-type"] == "application/json"
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"
    assert sent.headers["openai-organization"] == "org-123"
    assert sent.headers["openai-project"] == "proj-456"
    assert sent.headers["idempotency-key"] == "retry-key-1"
    assert answer.status_code == HTTPStatus.OK
    images = parsed_images(answer.parsed)
    assert images.created == 1757982404
    assert isinstance(images.data, list)
    assert images.data[0].url == "https://example.com/a.png"
    assert images.data[0].revised_prompt == "A fluffy yellow alpaca in a field."


def test_generation_sends_values_and_fields_the_contract_does_not_know(
    server: RecordingServer, client: AuthenticatedClient
) -> None:
    server.reply_json(SEED_ANSWER)
    body = CreateImageRequest(prompt="otter", quality="xhigh", size="4096x4096")
    body.additional_properties["seed"] = 42

    create_image.sync_detailed(client=client, body=body)

    assert server.last.json() == {"prompt": "otter", "quality": "xhigh", "size": "4096x4096", "seed": 42}


def test_generation_leaves_unset_fields_out_and_sends_explicit_null(
    server: RecordingServer, client: AuthenticatedClient
) -> None:
    server.reply_json(SEED_ANSWER)

    create_image.sync_detailed(client=client, body=CreateImageRequest(prompt="otter", n=None))

    assert server.last.json() == {"prompt": "otter", "n": None}


def test_async_generation_round_trips(server: RecordingServer) -> None:
    server.reply_json({"created": 1, "data": [{"b64_json": "aGVsbG8="}]})

    async def run() -> object:
        async with AuthenticatedClient(base_url=server.base_url, token=TOKEN) as c:
            return await create_image.asyncio(client=c, body=CreateImageRequest(prompt="async otter"))

    images = parsed_images(asyncio.run(run()))
    assert isinstance(images.data, list)
    assert images.data[0].b64_json == "aGVsbG8="
    assert server.last.json() == {"prompt": "async otter"}


# ---- edits (multipart and JSON) ----------------------------------------------------------------


def test_multipart_edit_with_two_images_and_a_mask_arrives_byte_for_byte(
    server: RecordingServer, client: AuthenticatedClient
) -> None:
    server.reply_json({"created": 2, "data": [{"b64_json": "AA=="}, {"b64_json": "AQ=="}]})
    first, second, mask = png_with_trap(), jpeg_bytes() + BOUNDARY_TRAP, mask_bytes()
    body = CreateImageEditRequest(
        prompt="Put both in a basket",
        image=[File(payload=io.BytesIO(first)), File(payload=io.BytesIO(second))],
        mask=File(payload=io.BytesIO(mask)),
        model="gpt-image-1.5",
        n=2,
        quality="high",
        stream=False,
    )

    answer = create_image_edit.sync_detailed(client=client, body=body)

    assert answer.status_code == 200
    sent = server.last
    assert sent.path == "/v1/images/edits"
    assert sent.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert "boundary=+++" not in sent.headers["content-type"]
    parts = {(p.name, i): p for i, p in enumerate(sent.parts())}
    files = [p for p in parts.values() if p.filename is not None]
    fields = {p.name: p.data for p in parts.values() if p.filename is None}

    assert [(p.name, p.data) for p in files] == [("image[]", first), ("image[]", second), ("mask", mask)]
    assert [(p.filename, p.content_type) for p in files] == [
        ("upload.png", "image/png"),
        ("upload.jpg", "image/jpeg"),
        ("upload.png", "image/png"),
    ]
    assert fields == {
        "prompt": b"Put both in a basket",
        "model": b"gpt-image-1.5",
        "n": b"2",
        "quality": b"high",
        "stream": b"false",
    }


def test_multipart_keeps_given_names_and_types_and_encodes_extra_fields(
    server: RecordingServer, client: AuthenticatedClient
) -> None:
    server.reply_json({"created": 3, "data": [{"b64_json": "AA=="}]})
    body = CreateImageEditRequest(
        prompt="p",
        image=[File(payload=io.BytesIO(webp_bytes()), file_name="cat.webp", mime_type="image/webp")],
        stream=True,
    )
    body.additional_properties.update({"watermark": True, "steps": 20, "unset_me": None, "tags": ["a", "b"]})

    create_image_edit.sync_detailed(client=client, body=body)

    parts = server.last.parts()
    assert [(p.name, p.filename, p.content_type) for p in parts if p.filename] == [
        ("image[]", "cat.webp", "image/webp")
    ]
    fields = {p.name: p.data for p in parts if p.filename is None}
    assert fields == {
        "prompt": b"p",
        "stream": b"true",
        "watermark": b"true",
        "steps": b"20",
        "tags": b'["a", "b"]',
    }
    assert all(p.data not in (b"None", b"True", b"False") for p in parts)


def test_unknown_bytes_are_sent_as_octet_stream_with_a_file_name(
    server: RecordingServer, client: AuthenticatedClient
) -> None:
    server.reply_json({"created": 3, "data": []})
    noise = bytes(range(256)) * 4
    body = CreateImageEditRequest(prompt="p", image=[File(payload=io.BytesIO(noise))])

    create_image_edit.sync_detailed(client=client, body=body)

    [image] = [p for p in server.last.parts() if p.filename]
    assert (image.filename, image.content_type, image.data) == (
        "upload.bin",
        "application/octet-stream",
        noise,
    )


def test_json_edit_references_images_by_url_and_file_id(
    server: RecordingServer, client: AuthenticatedClient
) -> None:
    server.reply_json({"created": 4, "data": [{"b64_json": "AA=="}]})
    body = CreateImageEditJsonRequest(
        images=[ImageReference(image_url="https://example.com/a.png"), ImageReference(file_id="file-1")],
        mask=ImageReference(file_id="file-mask"),
        prompt="watercolour",
        model="gpt-image-1.5",
        input_fidelity="high",
    )

    create_image_edit.sync_detailed(client=client, body=body)

    assert server.last.headers["content-type"] == "application/json"
    assert server.last.json() == {
        "images": [{"image_url": "https://example.com/a.png"}, {"file_id": "file-1"}],
        "mask": {"file_id": "file-mask"},
        "prompt": "watercolour",
        "model": "gpt-image-1.5",
        "input_fidelity": "high",
    }


# ---- variations --------------------------------------------------------------------------------


def test_variation_uploads_the_image_and_fields(server: RecordingServer, client: AuthenticatedClient) -> None:
    server.reply_json(
        {"created": 5, "data": [{"url": "https://example.com/v1.png"}, {"url": "https://example.com/v2.png"}]}
    )
    source = png_bytes(256, 256)
    body = CreateImageVariationRequest(
        image=File(payload=io.BytesIO(source)), model="dall-e-2", n=2, size="256x256", response_format="url"
    )

    answer = create_image_variation.sync_detailed(client=client, body=body)

    parts = server.last.parts()
    assert server.last.path == "/v1/images/variations"
    assert [(p.name, p.filename, p.content_type, p.data) for p in parts if p.filename] == [
        ("image", "upload.png", "image/png", source)
    ]
    assert {p.name: p.data for p in parts if p.filename is None} == {
        "model": b"dall-e-2",
        "n": b"2",
        "size": b"256x256",
        "response_format": b"url",
    }
    images = parsed_images(answer.parsed)
    assert isinstance(images.data, list)
    assert [image.url for image in images.data] == [
        "https://example.com/v1.png",
        "https://example.com/v2.png",
    ]


# ---- lenient parsing of answers ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "check"),
    [
        pytest.param(
            {
                "created": 1,
                "data": [{"b64_json": "AA=="}],
                "quality": "xhigh",
                "background": "sparkly",
                "output_format": "avif",
                "size": "777x333",
            },
            lambda r: (
                (r.quality, r.background, r.output_format, r.size) == ("xhigh", "sparkly", "avif", "777x333")
            ),
            id="unknown-enum-values-and-size",
        ),
        pytest.param(
            {
                "created": 1,
                "data": [{"b64_json": "AA==", "seed": 7}],
                "id": "img-1",
                "provider": {"name": "x"},
            },
            lambda r: (
                r.additional_properties == {"id": "img-1", "provider": {"name": "x"}}
                and r.data[0].additional_properties == {"seed": 7}
            ),
            id="unknown-fields",
        ),
        pytest.param(
            {"data": [{"url": "https://example.com/x.png"}]},
            lambda r: (
                r.created is UNSET and r.usage is UNSET and r.data[0].url == "https://example.com/x.png"
            ),
            id="no-created-no-usage",
        ),
        pytest.param(
            {"created": 1, "data": [{"b64_json": "AA==", "revised_prompt": None}], "usage": None},
            lambda r: r.usage is None and r.data[0].revised_prompt is None,
            id="nulls",
        ),
        pytest.param(
            {
                "created": 1,
                "data": [],
                "usage": {
                    "input_tokens": 5,
                    "output_tokens": 6,
                    "total_tokens": 11,
                    "input_tokens_details": {"text_tokens": 5, "image_tokens": 0},
                    "cached_tokens": 2,
                },
            },
            lambda r: r.usage.total_tokens == 11 and r.usage.additional_properties == {"cached_tokens": 2},
            id="usage-with-extra-fields",
        ),
        pytest.param(
            {"created": 1, "data": [], "usage": {"prompt_tokens": 0, "completion_tokens": 0}},
            lambda r: r.usage.input_tokens is UNSET and r.usage.additional_properties["prompt_tokens"] == 0,
            id="usage-of-another-shape",
        ),
    ],
)
def test_answers_the_contract_does_not_describe_still_parse(
    server: RecordingServer, client: AuthenticatedClient, answer: dict[str, object], check: object
) -> None:
    server.reply_json(answer)

    result = create_image.sync_detailed(client=client, body=CreateImageRequest(prompt="p"))

    images = parsed_images(result.parsed)
    assert callable(check)
    assert check(images), images


# ---- errors ------------------------------------------------------------------------------------


def test_error_envelope_is_parsed(server: RecordingServer, client: AuthenticatedClient) -> None:
    envelope = {
        "error": {"message": "size is wrong", "type": "invalid_request_error", "param": "size", "code": None}
    }
    server.reply_json(envelope, status=400)

    answer = create_image.sync_detailed(client=client, body=CreateImageRequest(prompt="p", size="1x1"))

    assert answer.status_code == HTTPStatus.BAD_REQUEST
    assert isinstance(answer.parsed, ErrorResponse)
    error = answer.parsed.error
    assert error is not None
    assert not isinstance(error, type(UNSET))
    assert (error.message, error.type_, error.param, error.code) == (
        "size is wrong",
        "invalid_request_error",
        "size",
        None,
    )


def test_retry_after_header_is_available(server: RecordingServer, client: AuthenticatedClient) -> None:
    server.reply_json(
        {"error": {"message": "slow down", "type": "rate_limit_error", "param": None, "code": None}},
        status=429,
        headers={"retry-after": "3"},
    )

    answer = create_image.sync_detailed(client=client, body=CreateImageRequest(prompt="p"))

    assert answer.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert answer.headers["retry-after"] == "3"
    assert isinstance(answer.parsed, ErrorResponse)


@pytest.mark.parametrize(
    "detail",
    [
        pytest.param("Not authenticated", id="string"),
        pytest.param([{"loc": ["body", "n"], "msg": "bad", "type": "x"}], id="list"),
    ],
)
def test_fastapi_detail_errors_parse_without_raising(
    server: RecordingServer, client: AuthenticatedClient, detail: object
) -> None:
    server.reply_json({"detail": detail}, status=422)

    answer = create_image.sync_detailed(client=client, body=CreateImageRequest(prompt="p"))

    assert answer.status_code == 422
    assert isinstance(answer.parsed, ErrorResponse)
    assert answer.parsed.error is UNSET
    assert answer.parsed.additional_properties == {"detail": detail}


@pytest.mark.parametrize(
    ("status", "body", "content_type"),
    [
        pytest.param(500, b"Internal Server Error", "text/plain", id="plain-text"),
        pytest.param(502, b"", None, id="empty-body"),
        pytest.param(503, b"<html><body>down</body></html>", "text/html", id="html"),
        pytest.param(520, b"Web server returned an unknown error", "text/plain", id="status-520"),
        pytest.param(599, b"{not json", "application/json", id="status-599-bad-json"),
        pytest.param(200, b'"just a string"', "application/json", id="json-of-another-shape"),
    ],
)
def test_bodies_that_are_not_the_documented_json_give_no_parsed_value(
    server: RecordingServer, client: AuthenticatedClient, status: int, body: bytes, content_type: str | None
) -> None:
    server.reply_raw(body, status, content_type)

    answer = create_image.sync_detailed(client=client, body=CreateImageRequest(prompt="p"))

    assert int(answer.status_code) == status
    assert answer.parsed is None
    assert answer.content == body


def test_a_stream_answer_is_left_raw_for_the_overlay(
    server: RecordingServer, client: AuthenticatedClient
) -> None:
    event = {"type": "image_generation.completed", "b64_json": "AA=="}
    stream = f"event: image_generation.completed\ndata: {json.dumps(event)}\n\n".encode()
    server.reply_raw(stream, 200, "text/event-stream")

    answer = create_image.sync_detailed(client=client, body=CreateImageRequest(prompt="p", stream=True))

    assert answer.parsed is None
    assert answer.content == stream


# ---- why the multipart template is overridden ---------------------------------------------------


def test_the_upstream_fixed_boundary_would_corrupt_such_an_upload() -> None:
    """With the generator's own template (boundary "+++"), the trap bytes split the file part."""
    image = png_with_trap()
    request = httpx.Request(
        "POST",
        "http://127.0.0.1/v1/images/edits",
        files=[("image[]", ("a.png", image, "image/png")), ("prompt", (None, b"real prompt", "text/plain"))],
        headers={"Content-Type": "multipart/form-data; boundary=+++"},
    )
    body = request.read()

    parts = parse_multipart(body, request.headers["content-type"])

    assert [p.data for p in parts if p.name == "image[]"] != [image]
    assert any(p.data == b"hijacked" for p in parts)
