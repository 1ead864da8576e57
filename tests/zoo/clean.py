"""Unusual but conforming servers: each one does something a naive oracle would call a defect.

Each is the reference server behind a small change that the contract allows (a rate limit in
front of the authentication, an ignored Idempotency-Key, a transient 503, fewer partial images
than asked, ...). A conformance run against one of them must find nothing: the zoo's guard
against false positives, one server per false positive a user could hit.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageFilter
from starlette.types import ASGIApp, Receive, Scope, Send

from .defects import IMAGE_OPERATIONS, Exchange, _events, _reference, _rewrite_b64, _wrapped, _write_events


class _RateLimitedWithoutKey:
    """Answers 429 (with Retry-After) to any request without an Authorization header, before the app."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not any(
            name.lower() == b"authorization" for name, _ in scope["headers"]
        ):
            body = json.dumps(
                {"error": {"message": "Slow down.", "type": "rate_limit_error", "param": None, "code": None}}
            ).encode()
            headers = [(b"content-type", b"application/json"), (b"retry-after", b"1")]
            await send({"type": "http.response.start", "status": 429, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


class _WithoutHeader:
    """Drops one request header before the app sees it (the app never knows it was sent)."""

    def __init__(self, app: ASGIApp, name: bytes) -> None:
        self.app, self.name = app, name.lower()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope = {**scope, "headers": [(k, v) for k, v in scope["headers"] if k.lower() != self.name]}
        await self.app(scope, receive, send)


class _FirstStreamUnavailable:
    """The first `stream: true` request gets a 503 with Retry-After (a cold start); then all is well."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.refused = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.refused:
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        try:
            streamed = json.loads(body).get("stream") is True
        except (ValueError, AttributeError):
            streamed = False
        if streamed:
            self.refused = True
            envelope = {
                "error": {"message": "Warming up.", "type": "server_error", "param": None, "code": None}
            }
            headers = [(b"content-type", b"application/json"), (b"retry-after", b"0")]
            await send({"type": "http.response.start", "status": 503, "headers": headers})
            await send({"type": "http.response.body", "body": json.dumps(envelope).encode()})
            return
        delivered = False

        async def replay() -> Any:
            nonlocal delivered
            if delivered:
                return await receive()
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


def _landscape_for_auto(exchange: Exchange) -> bytes:
    """size auto (or none) is made 1536x1024: a size the model makes, the server's choice."""
    body = exchange.request_json()
    if not exchange.path.endswith("/images/generations") or body.get("size") not in (None, "auto"):
        return exchange.request_body
    body["size"] = "1536x1024"
    return json.dumps(body).encode()


def _softened(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        image_format = image.format or "PNG"
        soft = image.filter(ImageFilter.GaussianBlur(0.8))
    buffer = io.BytesIO()
    soft.save(buffer, format=image_format)
    return buffer.getvalue()


def _edits_softened(exchange: Exchange) -> None:
    """Edited images come out slightly blurred (another resampling filter): kept pixels move a little."""
    if exchange.path.endswith("/images/edits"):
        _rewrite_b64(exchange, _softened)


def _softened_urls(exchange: Exchange) -> None:
    if exchange.method == "GET" and "/images/files/" in exchange.path and exchange.status == 200:
        exchange.body = _softened(exchange.body)


def _no_partials(exchange: Exchange) -> None:
    """Streams send no partial image, only the completed ones (a server may finish early)."""
    events = _events(exchange)
    if events is not None:
        _write_events(
            exchange, [(n, d) for n, d in events if not str(d.get("type", "")).endswith(".partial_image")]
        )


@dataclass(frozen=True)
class Clean:
    """One unusual server that conforms, and how to run against it."""

    name: str
    description: str
    app_factory: Callable[[], ASGIApp]
    model: str
    operations: tuple[str, ...] = IMAGE_OPERATIONS
    phases: tuple[str, ...] = ("examples",)


CLEAN = {
    clean.name: clean
    for clean in [
        Clean(
            "rate-limit-before-auth",
            " ".join((_RateLimitedWithoutKey.__doc__ or "").split()),
            lambda: _RateLimitedWithoutKey(_reference()),
            "dall-e-3",
        ),
        Clean(
            "ignores-idempotency-key",
            "never looks at Idempotency-Key (dropped before the app sees it), so never checks its length",
            lambda: _WithoutHeader(_reference(), b"idempotency-key"),
            "dall-e-2",
            ("generations",),
            ("examples", "coverage"),
        ),
        Clean(
            "stream-probe-unavailable",
            " ".join((_FirstStreamUnavailable.__doc__ or "").split()),
            lambda: _FirstStreamUnavailable(_reference()),
            "gpt-image-2",
            ("generations",),
        ),
        Clean(
            "auto-is-landscape",
            " ".join((_landscape_for_auto.__doc__ or "").split()),
            lambda: _wrapped(request=_landscape_for_auto),
            "gpt-image-2",
            ("generations",),
        ),
        Clean(
            "edits-softened",
            " ".join((_edits_softened.__doc__ or "").split()),
            lambda: _wrapped(
                answer=lambda exchange: (_edits_softened(exchange), _softened_urls(exchange))[0]
            ),
            "dall-e-2",
            ("edits",),
        ),
        Clean(
            "no-partial-images",
            " ".join((_no_partials.__doc__ or "").split()),
            lambda: _wrapped(answer=_no_partials),
            "gpt-image-2",
            ("generations",),
        ),
    ]
}
