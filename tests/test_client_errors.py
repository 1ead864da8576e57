"""ImagesClient and AsyncImagesClient errors: what each error answer becomes, broken streams,
answers that are not JSON, and the API key kept out of every message and repr.

Error bodies in shapes the reference server never sends (FastAPI, plain text, HTML, 520, ...)
come from httpx.MockTransport; the rest from the reference server over loopback.
"""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from typing import Any

import httpx
import pytest

from imagegen import (
    APIStatusError,
    AsyncImagesClient,
    AsyncImageStream,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ImagesClient,
    ImagesError,
    ImageStream,
    InternalServerError,
    InvalidResponseError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    StreamError,
    UnprocessableEntityError,
)

from .conftest import REFERENCE_TOKEN
from .support.images import png_bytes

TOKEN = REFERENCE_TOKEN  # the shared server's (tests/conftest.py)
SECRET = "sk-SECRET-123"
MOCK_BASE_URL = "http://images.test/v1"
SMALL = {"model": "dall-e-2", "size": "256x256"}
STREAMING = {
    "model": "gpt-image-1",
    "stream": True,
    "partial_images": 2,
    "quality": "low",
    "size": "1024x1024",
}
PNG_B64 = base64.b64encode(png_bytes(16, 16)).decode("ascii")


@pytest.fixture(scope="module")
def base_url(reference_url: str) -> str:
    """The session's reference server (token, faults on, sd-1.5-ggml): tests/conftest.py."""
    return reference_url


def fault(spec: str) -> dict[str, str]:
    """The fault header, with an id of its own so that no two calls share a fault counter."""
    return {"X-Imagegen-Fault": f"{spec}; id={uuid.uuid4().hex}"}


def answering(
    status: int, body: bytes, headers: dict[str, str] | None = None, *, api_key: str = TOKEN
) -> ImagesClient:
    """A client whose every request gets this answer."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, headers=headers or {}, content=body)

    return ImagesClient(
        base_url=MOCK_BASE_URL, api_key=api_key, max_retries=0, transport=httpx.MockTransport(handler)
    )


def error_for(status: int, body: bytes, headers: dict[str, str] | None = None) -> APIStatusError:
    """The exception the client raises for this error answer."""
    with answering(status, body, headers) as client, pytest.raises(APIStatusError) as caught:
        client.generate("Yellow alpaca", **SMALL)
    return caught.value


def async_error_for(status: int, body: bytes, headers: dict[str, str] | None = None) -> APIStatusError:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, headers=headers or {}, content=body)

    async def main() -> None:
        async with AsyncImagesClient(
            base_url=MOCK_BASE_URL, api_key=TOKEN, max_retries=0, transport=httpx.MockTransport(handler)
        ) as client:
            await client.generate("Yellow alpaca", **SMALL)

    with pytest.raises(APIStatusError) as caught:
        asyncio.run(main())
    return caught.value


def envelope(
    message: str, kind: str | None = None, param: str | None = None, code: str | None = None
) -> bytes:
    return json.dumps({"error": {"message": message, "type": kind, "param": param, "code": code}}).encode()


def sse(*events: dict[str, Any] | str) -> bytes:
    """A text/event-stream body: each event a dict (sent as JSON under its type) or raw data text."""
    frames = []
    for event in events:
        if isinstance(event, str):
            frames.append(f"data: {event}\n\n")
        else:
            frames.append(f"event: {event['type']}\ndata: {json.dumps(event)}\n\n")
    return "".join(frames).encode()


def completed(**extra: Any) -> dict[str, Any]:
    return {"type": "image_generation.completed", "b64_json": PNG_B64, "size": "1024x1024", **extra}


def partial(index: int) -> dict[str, Any]:
    return {"type": "image_generation.partial_image", "b64_json": PNG_B64, "partial_image_index": index}


def streaming_client(body: bytes) -> ImagesClient:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body)

    return ImagesClient(
        base_url=MOCK_BASE_URL, api_key=TOKEN, max_retries=0, transport=httpx.MockTransport(handler)
    )


def read_into(seen: list[str], stream: ImageStream) -> None:
    """Iterate the stream, noting the type of each event as it comes."""
    for event in stream:
        seen.append(event.type)


async def async_read_into(seen: list[str], stream: AsyncImageStream) -> None:
    async for event in stream:
        seen.append(event.type)


# ---- error bodies -----------------------------------------------------------------------------------


def test_openai_envelope_gives_message_type_param_code_request_id_and_raw_body() -> None:
    body = envelope("n must be at most 1 for dall-e-3.", "invalid_request_error", "n", "invalid_value")
    error = error_for(400, body, {"content-type": "application/json", "x-request-id": "req_abc123"})

    assert type(error) is BadRequestError
    assert error.status_code == 400
    assert error.message == "n must be at most 1 for dall-e-3."
    assert error.type == "invalid_request_error"
    assert error.param == "n"
    assert error.code == "invalid_value"
    assert error.request_id == "req_abc123"
    assert error.body == body
    assert error.headers["x-request-id"] == "req_abc123"
    text = str(error)
    assert text.startswith("400 n must be at most 1 for dall-e-3.")
    assert "param=n" in text
    assert "code=invalid_value" in text
    assert "req_abc123" in text


def test_request_id_is_also_read_from_a_request_id_header() -> None:
    error = error_for(500, envelope("boom", "server_error"), {"request-id": "req_other"})

    assert error.request_id == "req_other"


def test_fastapi_detail_string_is_the_message() -> None:
    error = error_for(404, b'{"detail": "Model sd-9 not found"}', {"content-type": "application/json"})

    assert type(error) is NotFoundError
    assert error.message == "Model sd-9 not found"
    assert error.param is None


def test_fastapi_validation_detail_names_the_param() -> None:
    detail = [
        {"loc": ["body", "n"], "msg": "Input should be less than or equal to 10", "type": "less_than_equal"}
    ]
    body = json.dumps({"detail": detail}).encode()
    error = error_for(422, body, {"content-type": "application/json"})

    assert type(error) is UnprocessableEntityError
    assert error.param == "n"
    assert error.type == "less_than_equal"
    assert "Input should be less than or equal to 10" in error.message
    assert error.body == body


def test_plain_text_error_body_is_the_message() -> None:
    error = error_for(
        502, b"upstream connect error or disconnect/reset before headers\n", {"content-type": "text/plain"}
    )

    assert type(error) is InternalServerError
    assert error.message == "upstream connect error or disconnect/reset before headers"
    assert error.type is None


@pytest.mark.parametrize("status", [400, 503])
def test_empty_error_body_says_the_server_sent_no_message(status: int) -> None:
    error = error_for(status, b"")

    assert error.status_code == status
    assert "no error message" in error.message
    assert error.body == b""


def test_html_error_page_is_kept_whole_in_body_and_shortened_in_the_message() -> None:
    page = (
        "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1>"
        + "<p>nginx</p>" * 400
        + "</body></html>"
    ).encode()
    error = error_for(502, page, {"content-type": "text/html"})

    assert type(error) is InternalServerError
    assert "502 Bad Gateway" in error.message
    assert len(error.message) <= 500
    assert error.body == page


@pytest.mark.parametrize("status", [520, 599])
def test_non_standard_server_statuses_are_internal_server_errors(status: int) -> None:
    error = error_for(status, b"")

    assert type(error) is InternalServerError
    assert error.status_code == status
    assert str(error).startswith(f"{status} ")
    assert "no error message" in error.message


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (422, UnprocessableEntityError),
        (429, RateLimitError),
        (500, InternalServerError),
        (502, InternalServerError),
        (503, InternalServerError),
        (418, APIStatusError),
    ],
)
def test_each_status_raises_its_exception_class(status: int, error_class: type[APIStatusError]) -> None:
    error = error_for(status, envelope(f"status {status}"))

    assert type(error) is error_class
    assert isinstance(error, ImagesError)
    assert error.status_code == status
    assert error.message == f"status {status}"


@pytest.mark.parametrize(
    ("status", "body", "error_class", "message"),
    [
        (
            403,
            envelope("Project has no access to gpt-image-1"),
            PermissionDeniedError,
            "Project has no access",
        ),
        (409, b'{"detail": "Idempotency key reused"}', ConflictError, "Idempotency key reused"),
        (520, b"origin error", InternalServerError, "origin error"),
    ],
)
def test_async_client_raises_the_same_errors(
    status: int, body: bytes, error_class: type[APIStatusError], message: str
) -> None:
    error = async_error_for(status, body, {"x-request-id": "req_async"})

    assert type(error) is error_class
    assert error.status_code == status
    assert message in error.message
    assert error.request_id == "req_async"
    assert error.body == body


def test_error_from_the_reference_server_names_the_param(base_url: str) -> None:
    with (
        ImagesClient(
            base_url=base_url, api_key=TOKEN, check_rules=False, max_retries=0, timeout=30
        ) as client,
        pytest.raises(BadRequestError) as caught,
    ):
        client.generate("Yellow alpaca", model="dall-e-3", n=2)

    error = caught.value
    assert error.param == "n"
    assert error.type == "invalid_request_error"
    assert "dall-e-3" in error.message
    assert error.request_id is not None
    assert error.request_id.startswith("req_")
    assert json.loads(error.body)["error"]["param"] == "n"


# ---- the key stays secret -----------------------------------------------------------------------------


def test_wrong_api_key_error_does_not_show_the_key(base_url: str) -> None:
    with (
        ImagesClient(base_url=base_url, api_key=SECRET, max_retries=2, timeout=30) as client,
        pytest.raises(AuthenticationError) as caught,
    ):
        client.generate("Yellow alpaca", **SMALL)

    error = caught.value
    assert error.status_code == 401
    assert SECRET not in str(error)
    assert SECRET not in repr(error)
    assert SECRET.encode() not in error.body
    assert all(SECRET not in value for value in error.headers.values())


def test_error_message_does_not_repeat_a_key_the_server_echoes() -> None:
    # Some proxies quote the credentials they refused; the raw body keeps what was said, but the
    # message people read and log must not carry the key (errors.py: "Messages never contain the API key").
    def handler(request: httpx.Request) -> httpx.Response:
        given = request.headers["authorization"].removeprefix("Bearer ")
        return httpx.Response(401, json={"error": {"message": f"Invalid API key: {given}", "type": "auth"}})

    with (
        ImagesClient(
            base_url=MOCK_BASE_URL, api_key=SECRET, max_retries=0, transport=httpx.MockTransport(handler)
        ) as client,
        pytest.raises(AuthenticationError) as caught,
    ):
        client.generate("Yellow alpaca", **SMALL)

    error = caught.value
    assert "Invalid API key" in error.message
    assert SECRET not in error.message
    assert SECRET not in str(error)
    assert SECRET not in repr(error)


def test_client_repr_never_shows_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    with ImagesClient(base_url=MOCK_BASE_URL, api_key=SECRET) as client:
        shown = [repr(client), str(client), repr(client.options)]
        with client.with_options(max_retries=5) as changed:
            shown.append(repr(changed))
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    with ImagesClient(base_url=MOCK_BASE_URL) as from_environment:
        assert from_environment.options.api_key == SECRET
        shown.append(repr(from_environment))

    assert all(SECRET not in text for text in shown), shown
    assert "api_key=<set>" in shown[0]
    assert MOCK_BASE_URL in shown[0]


def test_async_client_repr_never_shows_the_key() -> None:
    async def main() -> list[str]:
        async with AsyncImagesClient(base_url=MOCK_BASE_URL, api_key=SECRET) as client:
            return [repr(client), str(client), repr(client.options)]

    shown = asyncio.run(main())
    assert all(SECRET not in text for text in shown), shown
    assert "AsyncImagesClient" in shown[0]
    assert "api_key=<set>" in shown[0]


# ---- answers that are not JSON ---------------------------------------------------------------------


def test_malformed_json_on_success_raises_invalid_response_error(base_url: str) -> None:
    with (
        ImagesClient(base_url=base_url, api_key=TOKEN, max_retries=2, timeout=30) as client,
        pytest.raises(ImagesError) as caught,
    ):
        # times=1: had the client retried, the next attempt would have succeeded.
        client.generate("Yellow alpaca", **SMALL, extra_headers=fault("malformed; times=1"))

    assert type(caught.value) is InvalidResponseError
    assert not isinstance(caught.value, ValueError)
    assert "not JSON" in str(caught.value)


def test_async_malformed_json_on_success_raises_invalid_response_error(base_url: str) -> None:
    async def main() -> None:
        async with AsyncImagesClient(base_url=base_url, api_key=TOKEN, max_retries=2, timeout=30) as client:
            await client.generate("Yellow alpaca", **SMALL, extra_headers=fault("malformed"))

    with pytest.raises(InvalidResponseError) as caught:
        asyncio.run(main())
    assert not isinstance(caught.value, json.JSONDecodeError)


@pytest.mark.parametrize(
    "body",
    [b"", b"[1, 2]", b'"images"', b'{"data": ["not an image"]}'],
    ids=["empty", "list", "string", "items"],
)
def test_success_that_is_not_an_images_answer_raises_invalid_response_error(body: bytes) -> None:
    with (
        answering(200, body, {"content-type": "application/json"}) as client,
        pytest.raises(ImagesError) as caught,
    ):
        client.generate("Yellow alpaca", **SMALL)

    assert type(caught.value) is InvalidResponseError


# ---- streams -------------------------------------------------------------------------------------------


def test_truncated_stream_raises_stream_error_after_the_first_event(base_url: str) -> None:
    seen: list[str] = []
    with ImagesClient(base_url=base_url, api_key=TOKEN, max_retries=0, timeout=60) as client:
        stream = client.generate("Yellow alpaca", **STREAMING, extra_headers=fault("truncate=1"))
        with pytest.raises(StreamError) as caught:
            read_into(seen, stream)

    assert seen == ["image_generation.partial_image"]
    assert "cut in the middle of an event" in str(caught.value)
    assert stream.images == []
    assert stream.response.is_closed


def test_async_truncated_stream_raises_stream_error_after_the_first_event(base_url: str) -> None:
    async def main() -> list[str]:
        seen: list[str] = []
        async with AsyncImagesClient(base_url=base_url, api_key=TOKEN, max_retries=0, timeout=60) as client:
            stream = await client.generate("Yellow alpaca", **STREAMING, extra_headers=fault("truncate=1"))
            with pytest.raises(StreamError):
                await async_read_into(seen, stream)
            assert stream.response.is_closed
        return seen

    assert asyncio.run(main()) == ["image_generation.partial_image"]


def test_stream_that_ends_before_every_image_is_completed_raises_stream_error() -> None:
    body = sse(partial(0), completed())
    seen: list[str] = []
    with streaming_client(body) as client:
        stream = client.generate("Yellow alpaca", model="gpt-image-1", n=2, stream=True, partial_images=1)
        with pytest.raises(StreamError) as caught:
            read_into(seen, stream)

    assert seen == ["image_generation.partial_image", "image_generation.completed"]
    assert "1 of 2" in str(caught.value)
    assert len(stream.images) == 1


def test_async_stream_that_ends_before_every_image_is_completed_raises_stream_error() -> None:
    body = sse(completed())

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body)

    async def main() -> None:
        async with AsyncImagesClient(
            base_url=MOCK_BASE_URL, api_key=TOKEN, max_retries=0, transport=httpx.MockTransport(handler)
        ) as client:
            stream = await client.generate("Yellow alpaca", model="gpt-image-1", n=3, stream=True)
            await stream.until_done()

    with pytest.raises(StreamError, match="1 of 3"):
        asyncio.run(main())


def test_done_marker_ends_the_stream_normally() -> None:
    # Whatever follows [DONE] is not read: it would be an error if it were.
    body = sse(partial(0), completed(), "[DONE]", "this is not JSON")
    with streaming_client(body) as client:
        stream = client.generate("Yellow alpaca", model="gpt-image-1", stream=True, partial_images=1)
        events = list(stream)

    assert [event.type for event in events] == [
        "image_generation.partial_image",
        "image_generation.completed",
    ]
    assert [image.bytes() for image in stream.images] == [base64.b64decode(PNG_B64)]
    assert stream.response.is_closed


def test_breaking_out_of_a_stream_closes_the_response(base_url: str) -> None:
    with ImagesClient(base_url=base_url, api_key=TOKEN, max_retries=0, timeout=60) as client:
        stream = client.generate("Yellow alpaca", **STREAMING)
        for event in stream:
            assert event.type == "image_generation.partial_image"
            assert not stream.response.is_closed
            break

        assert stream.response.is_closed


def test_async_leaving_a_stream_block_early_closes_the_response(base_url: str) -> None:
    async def main() -> tuple[bool, bool]:
        async with AsyncImagesClient(base_url=base_url, api_key=TOKEN, max_retries=0, timeout=60) as client:
            stream = await client.generate("Yellow alpaca", **STREAMING)
            async with stream:
                async for _ in stream:
                    open_while_reading = not stream.response.is_closed
                    break
            return open_while_reading, stream.response.is_closed

    assert asyncio.run(main()) == (True, True)
