"""ImagesClient and AsyncImagesClient retries: which answers are retried, how long the client waits,
the Idempotency-Key across retries, connection errors and timeouts.

The reference server over loopback injects the faults (X-Imagegen-Fault); a counting transport
on the client side records every attempt that goes out. httpx.MockTransport is used only for
what the reference server cannot answer (408, 409, x-should-retry, Retry-After of an hour, ...).
The waits between attempts are recorded instead of slept (the `waits` fixture), so a test of a
one-second Retry-After takes no second.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
import uuid
from collections.abc import Callable
from email.utils import formatdate
from typing import Any

import httpx
import pytest

from imagegen import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AsyncImagesClient,
    AuthenticationError,
    BadRequestError,
    ImagesClient,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
)
from imagegen import client as client_module

from .conftest import REFERENCE_TOKEN

TOKEN = REFERENCE_TOKEN  # the shared server's (tests/conftest.py)
MOCK_BASE_URL = "http://images.test/v1"
OK_BODY = {"created": 1, "data": [{"url": "https://images.test/files/a.png"}]}
SMALL = {"model": "dall-e-2", "size": "256x256"}
# The client's own backoff before the first retry is 0.5 s less up to 25 % jitter.
FIRST_BACKOFF_S = 0.5
FIRST_BACKOFF_MIN_S = 0.375


@pytest.fixture(autouse=True)
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The client's waits before each retry, in order: recorded, not slept."""
    recorded: list[float] = []

    async def async_wait(seconds: float) -> None:
        recorded.append(seconds)

    monkeypatch.setattr(client_module, "_wait", recorded.append)
    monkeypatch.setattr(client_module, "_async_wait", async_wait)
    return recorded


@pytest.fixture(scope="module")
def base_url(reference_url: str) -> str:
    """The session's reference server (token, faults on, sd-1.5-ggml): tests/conftest.py."""
    return reference_url


def fault(spec: str) -> dict[str, str]:
    """The fault header, with an id of its own so that no two calls share a fault counter."""
    return {"X-Imagegen-Fault": f"{spec}; id={uuid.uuid4().hex}"}


class CountingTransport(httpx.HTTPTransport):
    """A real HTTP transport that remembers every request it was asked to send."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[httpx.Request] = []
        self.keys: list[str | None] = []  # the Idempotency-Key as it was when each attempt went out

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        self.keys.append(request.headers.get("idempotency-key"))
        return super().handle_request(request)


class AsyncCountingTransport(httpx.AsyncHTTPTransport):
    """The async twin of CountingTransport."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        return await super().handle_async_request(request)


def loopback_client(
    base_url: str, transport: CountingTransport, *, max_retries: int = 2, **options: Any
) -> ImagesClient:
    options.setdefault("timeout", 30.0)
    return ImagesClient(
        base_url=base_url, api_key=TOKEN, max_retries=max_retries, transport=transport, **options
    )


def async_loopback_client(
    base_url: str, transport: AsyncCountingTransport, *, max_retries: int = 2, **options: Any
) -> AsyncImagesClient:
    options.setdefault("timeout", 30.0)
    return AsyncImagesClient(
        base_url=base_url, api_key=TOKEN, max_retries=max_retries, transport=transport, **options
    )


Reply = tuple[int, dict[str, str], bytes]


class Script:
    """A MockTransport handler answering the given replies in turn (the last one repeats)."""

    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []
        self.keys: list[str | None] = []  # the Idempotency-Key as it was when each attempt came in

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        self.keys.append(request.headers.get("idempotency-key"))
        status, headers, body = self.replies[min(len(self.requests), len(self.replies)) - 1]
        return httpx.Response(status, headers=headers, content=body)


def ok() -> Reply:
    return 200, {"content-type": "application/json"}, json.dumps(OK_BODY).encode()


def failure(status: int, **headers: str) -> Reply:
    body = b'{"error": {"message": "try again", "type": "server_error", "param": null, "code": null}}'
    return status, {"content-type": "application/json", **headers}, body


def mock_client(script: Callable[[httpx.Request], httpx.Response], **options: Any) -> ImagesClient:
    options.setdefault("max_retries", 2)
    return ImagesClient(
        base_url=MOCK_BASE_URL, api_key=TOKEN, transport=httpx.MockTransport(script), **options
    )


def async_mock_client(script: Callable[[httpx.Request], httpx.Response], **options: Any) -> AsyncImagesClient:
    options.setdefault("max_retries", 2)
    return AsyncImagesClient(
        base_url=MOCK_BASE_URL, api_key=TOKEN, transport=httpx.MockTransport(script), **options
    )


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# ---- retried statuses ---------------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 500, 503])
def test_retryable_status_is_retried_until_the_server_succeeds(base_url: str, status: int) -> None:
    transport = CountingTransport()
    with loopback_client(base_url, transport, max_retries=2) as client:
        result = client.generate(
            "Yellow alpaca", **SMALL, extra_headers=fault(f"status={status}; times=2; retry-after-ms=10")
        )

    assert len(result.images) == 1
    assert result.images[0].url is not None
    assert len(transport.sent) == 3


@pytest.mark.parametrize(
    ("status", "error"), [(429, RateLimitError), (500, InternalServerError), (503, InternalServerError)]
)
def test_retryable_status_outlasting_the_retries_raises_its_error_after_every_attempt(
    base_url: str, status: int, error: type[APIStatusError]
) -> None:
    transport = CountingTransport()
    with loopback_client(base_url, transport, max_retries=1) as client, pytest.raises(error) as caught:
        client.generate(
            "Yellow alpaca", **SMALL, extra_headers=fault(f"status={status}; times=2; retry-after-ms=10")
        )

    assert caught.value.status_code == status
    assert caught.value.code == "injected_fault"
    assert len(transport.sent) == 2


@pytest.mark.parametrize("status", [429, 500, 503])
def test_async_retryable_status_is_retried_until_the_server_succeeds(base_url: str, status: int) -> None:
    transport = AsyncCountingTransport()

    async def main() -> int:
        async with async_loopback_client(base_url, transport, max_retries=2) as client:
            result = await client.generate(
                "Yellow alpaca", **SMALL, extra_headers=fault(f"status={status}; times=2; retry-after-ms=10")
            )
        return len(result.images)

    assert asyncio.run(main()) == 1
    assert len(transport.sent) == 3


def test_async_retryable_status_outlasting_the_retries_raises_its_error(base_url: str) -> None:
    transport = AsyncCountingTransport()

    async def main() -> None:
        async with async_loopback_client(base_url, transport, max_retries=1) as client:
            await client.generate(
                "Yellow alpaca", **SMALL, extra_headers=fault("status=429; times=2; retry-after-ms=10")
            )

    with pytest.raises(RateLimitError) as caught:
        asyncio.run(main())
    assert caught.value.status_code == 429
    assert len(transport.sent) == 2


@pytest.mark.parametrize("status", [408, 409])
def test_timeout_and_conflict_statuses_are_retried(status: int) -> None:
    script = Script(
        failure(status, **{"retry-after-ms": "1"}), failure(status, **{"retry-after-ms": "1"}), ok()
    )
    with mock_client(script, max_retries=2) as client:
        result = client.generate("Yellow alpaca", **SMALL)

    assert [image.url for image in result.images] == ["https://images.test/files/a.png"]
    assert len(script.requests) == 3


@pytest.mark.parametrize("status", [408, 409])
def test_async_timeout_and_conflict_statuses_are_retried(status: int) -> None:
    script = Script(failure(status, **{"retry-after-ms": "1"}), ok())

    async def main() -> list[str | None]:
        async with async_mock_client(script, max_retries=2) as client:
            result = await client.generate("Yellow alpaca", **SMALL)
        return [image.url for image in result.images]

    assert asyncio.run(main()) == ["https://images.test/files/a.png"]
    assert len(script.requests) == 2


# ---- statuses never retried ----------------------------------------------------------------------


NOT_RETRIED = [
    (400, BadRequestError),
    (401, AuthenticationError),
    (403, PermissionDeniedError),
    (404, NotFoundError),
    (422, UnprocessableEntityError),
]


@pytest.mark.parametrize(("status", "error"), NOT_RETRIED)
def test_client_errors_are_never_retried(status: int, error: type[APIStatusError]) -> None:
    script = Script(failure(status, **{"retry-after-ms": "1"}), ok())
    with mock_client(script, max_retries=3) as client, pytest.raises(error) as caught:
        client.generate("Yellow alpaca", **SMALL)

    assert caught.value.status_code == status
    assert len(script.requests) == 1


@pytest.mark.parametrize(("status", "error"), NOT_RETRIED)
def test_async_client_errors_are_never_retried(status: int, error: type[APIStatusError]) -> None:
    script = Script(failure(status, **{"retry-after-ms": "1"}), ok())

    async def main() -> None:
        async with async_mock_client(script, max_retries=3) as client:
            await client.generate("Yellow alpaca", **SMALL)

    with pytest.raises(error):
        asyncio.run(main())
    assert len(script.requests) == 1


def test_a_client_error_from_the_server_is_sent_once(base_url: str) -> None:
    transport = CountingTransport()
    with loopback_client(base_url, transport, max_retries=3) as client, pytest.raises(BadRequestError):
        client.generate("Yellow alpaca", **SMALL, extra_headers=fault("status=400; times=5"))

    assert len(transport.sent) == 1


def test_x_should_retry_false_stops_the_retries_of_a_server_error() -> None:
    script = Script(failure(503, **{"x-should-retry": "false", "retry-after-ms": "1"}), ok())
    with mock_client(script, max_retries=3) as client, pytest.raises(InternalServerError) as caught:
        client.generate("Yellow alpaca", **SMALL)

    assert caught.value.status_code == 503
    assert len(script.requests) == 1


def test_async_x_should_retry_false_stops_the_retries_of_a_rate_limit() -> None:
    script = Script(failure(429, **{"x-should-retry": "false", "retry-after-ms": "1"}), ok())

    async def main() -> None:
        async with async_mock_client(script, max_retries=3) as client:
            await client.generate("Yellow alpaca", **SMALL)

    with pytest.raises(RateLimitError):
        asyncio.run(main())
    assert len(script.requests) == 1


def test_max_retries_zero_raises_the_first_failure_at_once(base_url: str) -> None:
    transport = CountingTransport()
    started = time.monotonic()
    with loopback_client(base_url, transport, max_retries=0) as client, pytest.raises(InternalServerError):
        client.generate("Yellow alpaca", **SMALL, extra_headers=fault("status=503; times=1; retry-after=5"))

    assert len(transport.sent) == 1
    assert time.monotonic() - started < 2.0


def test_max_retries_per_call_overrides_the_client_setting(base_url: str) -> None:
    fewer, more = CountingTransport(), CountingTransport()
    with loopback_client(base_url, fewer, max_retries=2) as client, pytest.raises(InternalServerError):
        client.generate(
            "Yellow alpaca", **SMALL, max_retries=0, extra_headers=fault("status=503; retry-after-ms=10")
        )
    with loopback_client(base_url, more, max_retries=0) as client:
        result = client.generate(
            "Yellow alpaca",
            **SMALL,
            max_retries=3,
            extra_headers=fault("status=500; times=3; retry-after-ms=10"),
        )

    assert len(fewer.sent) == 1
    assert len(result.images) == 1
    assert len(more.sent) == 4


def test_async_max_retries_zero_raises_the_first_failure_at_once(base_url: str) -> None:
    transport = AsyncCountingTransport()

    async def main() -> None:
        async with async_loopback_client(base_url, transport, max_retries=0) as client:
            await client.generate("Yellow alpaca", **SMALL, extra_headers=fault("status=500; retry-after=5"))

    started = time.monotonic()
    with pytest.raises(InternalServerError):
        asyncio.run(main())
    assert len(transport.sent) == 1
    assert time.monotonic() - started < 2.0


# ---- connection errors and timeouts ---------------------------------------------------------------


def test_dropped_connection_is_retried_and_then_succeeds(base_url: str) -> None:
    transport = CountingTransport()
    with loopback_client(base_url, transport, max_retries=2) as client:
        result = client.generate("Yellow alpaca", **SMALL, extra_headers=fault("drop; times=1"))

    assert len(result.images) == 1
    assert len(transport.sent) == 2


def test_dropped_connection_that_persists_raises_api_connection_error(base_url: str) -> None:
    transport = CountingTransport()
    with (
        loopback_client(base_url, transport, max_retries=1) as client,
        pytest.raises(APIConnectionError) as caught,
    ):
        client.generate("Yellow alpaca", **SMALL, extra_headers=fault("drop; times=10"))

    assert "/images/generations" in str(caught.value)
    assert TOKEN not in str(caught.value)
    assert len(transport.sent) == 2


def test_async_dropped_connection_is_retried_and_then_succeeds(base_url: str) -> None:
    transport = AsyncCountingTransport()

    async def main() -> int:
        async with async_loopback_client(base_url, transport, max_retries=2) as client:
            result = await client.generate("Yellow alpaca", **SMALL, extra_headers=fault("drop; times=1"))
        return len(result.images)

    assert asyncio.run(main()) == 1
    assert len(transport.sent) == 2


def test_async_dropped_connection_that_persists_raises_api_connection_error(base_url: str) -> None:
    transport = AsyncCountingTransport()

    async def main() -> None:
        async with async_loopback_client(base_url, transport, max_retries=1) as client:
            await client.generate("Yellow alpaca", **SMALL, extra_headers=fault("drop; times=10"))

    with pytest.raises(APIConnectionError):
        asyncio.run(main())
    assert len(transport.sent) == 2


def test_connection_refused_raises_api_connection_error_naming_the_url_not_the_key(
    waits: list[float],
) -> None:
    secret = "sk-SECRET-123"
    url = f"http://127.0.0.1:{closed_port()}/v1"
    transport = CountingTransport()
    with (
        ImagesClient(base_url=url, api_key=secret, max_retries=1, transport=transport, timeout=5) as client,
        pytest.raises(APIConnectionError) as caught,
    ):
        client.generate("Yellow alpaca", **SMALL)

    error = caught.value
    assert not isinstance(error, APITimeoutError)
    assert f"{url}/images/generations" in str(error)
    assert secret not in str(error)
    assert secret not in repr(error)
    assert len(transport.sent) == 2
    assert len(waits) == 1
    assert FIRST_BACKOFF_MIN_S <= waits[0] <= FIRST_BACKOFF_S


def test_async_connection_refused_raises_api_connection_error_naming_the_url_not_the_key() -> None:
    secret = "sk-SECRET-123"
    url = f"http://127.0.0.1:{closed_port()}/v1"

    async def main() -> None:
        async with AsyncImagesClient(base_url=url, api_key=secret, max_retries=0, timeout=5) as client:
            await client.generate("Yellow alpaca", **SMALL)

    with pytest.raises(APIConnectionError) as caught:
        asyncio.run(main())
    assert f"{url}/images/generations" in str(caught.value)
    assert secret not in str(caught.value)
    assert secret not in repr(caught.value)


def test_no_answer_in_time_raises_api_timeout_error_after_retrying(base_url: str, waits: list[float]) -> None:
    transport = CountingTransport()
    started = time.monotonic()
    with (
        loopback_client(base_url, transport, max_retries=1, timeout=0.3) as client,
        pytest.raises(APITimeoutError) as caught,
    ):
        client.generate("Yellow alpaca", **SMALL, extra_headers=fault("latency=2; times=5"))

    elapsed = time.monotonic() - started
    assert isinstance(caught.value, APIConnectionError)
    assert "/images/generations" in str(caught.value)
    assert len(transport.sent) == 2
    # Two attempts of 0.3 s each and a backoff in between, but far from the server's 2 s latency.
    assert 0.6 <= elapsed < 2.0
    assert len(waits) == 1
    assert FIRST_BACKOFF_MIN_S <= waits[0] <= FIRST_BACKOFF_S


def test_per_call_timeout_overrides_the_client_timeout(base_url: str) -> None:
    transport = CountingTransport()
    started = time.monotonic()
    with (
        loopback_client(base_url, transport, max_retries=0, timeout=30.0) as client,
        pytest.raises(APITimeoutError),
    ):
        client.generate("Yellow alpaca", **SMALL, timeout=0.3, extra_headers=fault("latency=2"))

    assert time.monotonic() - started < 1.5
    assert len(transport.sent) == 1


def test_async_no_answer_in_time_raises_api_timeout_error_after_retrying(base_url: str) -> None:
    transport = AsyncCountingTransport()

    async def main() -> None:
        async with async_loopback_client(base_url, transport, max_retries=1, timeout=0.3) as client:
            await client.generate("Yellow alpaca", **SMALL, extra_headers=fault("latency=2; times=5"))

    started = time.monotonic()
    with pytest.raises(APITimeoutError):
        asyncio.run(main())
    assert len(transport.sent) == 2
    assert time.monotonic() - started < 2.5


# ---- how long the client waits --------------------------------------------------------------------


def test_retry_after_in_seconds_is_waited_for(base_url: str, waits: list[float]) -> None:
    transport = CountingTransport()
    with loopback_client(base_url, transport) as client:
        result = client.generate("Yellow alpaca", **SMALL, extra_headers=fault("status=503; retry-after=1"))

    assert waits == [1.0]
    assert len(result.images) == 1
    assert len(transport.sent) == 2


def test_async_retry_after_in_seconds_is_waited_for(base_url: str, waits: list[float]) -> None:
    transport = AsyncCountingTransport()

    async def main() -> int:
        async with async_loopback_client(base_url, transport) as client:
            result = await client.generate(
                "Yellow alpaca", **SMALL, extra_headers=fault("status=429; retry-after=1")
            )
        return len(result.images)

    assert asyncio.run(main()) == 1
    assert waits == [1.0]
    assert len(transport.sent) == 2


def test_retry_after_as_an_http_date_is_waited_for(base_url: str, waits: list[float]) -> None:
    transport = CountingTransport()
    # An HTTP date has whole seconds: two seconds ahead, truncated, is still more than one ahead.
    when = formatdate(time.time() + 2, usegmt=True)
    with loopback_client(base_url, transport) as client:
        result = client.generate(
            "Yellow alpaca", **SMALL, extra_headers=fault(f"status=503; retry-after={when}")
        )

    assert len(waits) == 1
    assert 0.95 <= waits[0] <= 2.0
    assert len(result.images) == 1
    assert len(transport.sent) == 2


def test_retry_after_ms_is_waited_for(base_url: str, waits: list[float]) -> None:
    transport = CountingTransport()
    with loopback_client(base_url, transport) as client:
        client.generate("Yellow alpaca", **SMALL, extra_headers=fault("status=429; retry-after-ms=600"))

    # 600 ms, which the 0.5 s default backoff could not reach.
    assert waits == [0.6]
    assert len(transport.sent) == 2


@pytest.mark.timeout(20)
def test_retry_after_ms_wins_over_retry_after(base_url: str, waits: list[float]) -> None:
    transport = CountingTransport()
    with loopback_client(base_url, transport) as client:
        client.generate(
            "Yellow alpaca", **SMALL, extra_headers=fault("status=503; retry-after=4; retry-after-ms=20")
        )

    assert waits == [0.02]
    assert len(transport.sent) == 2


@pytest.mark.timeout(20)
@pytest.mark.parametrize(
    "retry_after", ["3600", formatdate(time.time() + 3600, usegmt=True)], ids=["seconds", "http-date"]
)
def test_retry_after_above_the_cap_is_not_waited_for(retry_after: str, waits: list[float]) -> None:
    script = Script(failure(503, **{"Retry-After": retry_after}), ok())
    with mock_client(script, max_retries=2) as client:
        result = client.generate("Yellow alpaca", **SMALL)

    assert len(result.images) == 1
    assert len(script.requests) == 2
    # The client fell back to its own backoff instead of waiting an hour.
    assert len(waits) == 1
    assert FIRST_BACKOFF_MIN_S <= waits[0] <= FIRST_BACKOFF_S


@pytest.mark.timeout(20)
def test_async_retry_after_above_the_cap_is_not_waited_for(waits: list[float]) -> None:
    script = Script(failure(429, **{"Retry-After": "3600"}), ok())

    async def main() -> int:
        async with async_mock_client(script, max_retries=1) as client:
            result = await client.generate("Yellow alpaca", **SMALL)
        return len(result.images)

    assert asyncio.run(main()) == 1
    assert len(waits) == 1
    assert FIRST_BACKOFF_MIN_S <= waits[0] <= FIRST_BACKOFF_S
    assert len(script.requests) == 2


# ---- Idempotency-Key -------------------------------------------------------------------------------


def test_idempotency_key_is_the_same_on_every_retry_and_new_for_each_call() -> None:
    script = Script(failure(503, **{"retry-after-ms": "1"}), failure(429, **{"retry-after-ms": "1"}), ok())
    with mock_client(script, max_retries=2) as client:
        client.generate("Yellow alpaca", **SMALL)
        first_call = list(script.keys)
        client.generate("Yellow alpaca", **SMALL)

    assert len(first_call) == 3
    assert first_call[0]
    assert len(set(first_call)) == 1
    second_call = script.keys[3:]
    assert len(second_call) == 1
    assert second_call[0]
    assert second_call[0] != first_call[0]


def test_caller_idempotency_key_is_sent_as_is_on_every_attempt() -> None:
    script = Script(failure(500, **{"retry-after-ms": "1"}), ok())
    with mock_client(script, max_retries=2) as client:
        client.generate("Yellow alpaca", **SMALL, idempotency_key="alpaca-order-42")

    assert script.keys == ["alpaca-order-42", "alpaca-order-42"]


def test_async_idempotency_key_is_the_same_on_every_retry_and_new_for_each_call() -> None:
    script = Script(failure(503, **{"retry-after-ms": "1"}), ok())

    async def main() -> None:
        async with async_mock_client(script, max_retries=2) as client:
            await client.generate("Yellow alpaca", **SMALL)
            await client.generate("Yellow alpaca", **SMALL, idempotency_key="mine-1")

    asyncio.run(main())
    keys = script.keys
    assert len(keys) == 3
    assert keys[0]
    assert keys[0] == keys[1]
    assert keys[2] == "mine-1"


def test_retries_reach_the_server_with_one_idempotency_key(base_url: str) -> None:
    transport = CountingTransport()
    with loopback_client(base_url, transport) as client:
        client.generate(
            "Yellow alpaca", **SMALL, extra_headers=fault("status=503; times=2; retry-after-ms=10")
        )

    assert len(transport.sent) == 3
    assert transport.keys[0]
    assert len(set(transport.keys)) == 1
