"""Deliberately broken servers: the reference server with exactly one defect each.

Each defect is the reference app (which conforms) either configured differently or wrapped by a
small ASGI middleware that rewrites the request before the app sees it, or the answer after the
app made it. A conformance run against one of them must report the defect's check, and nothing
else: the zoo tests the oracle, not the server.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PIL import Image
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from urllib3.fields import RequestField
from urllib3.filepost import encode_multipart_formdata

from imagegen.conformance.multipart import parse_form
from imagegen.server import ServerConfig, create_app

TOKEN = "sk-zoo"
# The contract's quality enum (for any model); a model may take fewer of them.
KNOWN_QUALITIES = frozenset({"auto", "standard", "hd", "low", "medium", "high"})
# Bounds the loop that reads a request body (ASGI delivers it in messages).
MAX_BODY_MESSAGES = 100_000


@dataclass
class Exchange:
    """One request and, once the app answered, its answer; the rewrites change it in place."""

    method: str
    path: str
    request_headers: dict[str, str]
    request_body: bytes
    status: int = 0
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytes = b""

    @property
    def request_type(self) -> str:
        return self.request_headers.get("content-type", "")

    @property
    def content_type(self) -> str:
        for name, value in self.headers:
            if name.lower() == b"content-type":
                return value.decode("latin-1")
        return ""

    def set_content_type(self, value: str) -> None:
        kept = [(name, data) for name, data in self.headers if name.lower() != b"content-type"]
        self.headers = [*kept, (b"content-type", value.encode("latin-1"))]

    def request_json(self) -> dict[str, Any]:
        """The request's JSON object, or {} when the body is not one."""
        return _json_object(self.request_body) if "json" in self.request_type else {}

    def answer_json(self) -> dict[str, Any]:
        """The answer's JSON object, or {} when the body is not one."""
        return _json_object(self.body) if "json" in self.content_type else {}


RequestRewrite = Callable[[Exchange], bytes]  # the body the app gets instead
AnswerRewrite = Callable[[Exchange], None]  # changes status, headers and body in place


class Rewriting:
    """ASGI middleware: the whole request body, then the whole answer, each through a rewrite."""

    def __init__(
        self, app: ASGIApp, *, request: RequestRewrite | None = None, answer: AnswerRewrite | None = None
    ) -> None:
        self.app = app
        self.request = request
        self.answer = answer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {
            name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]
        }
        exchange = Exchange(scope["method"], scope["path"], headers, await _read_body(receive))
        body = exchange.request_body
        if self.request is not None:
            body = self.request(exchange)
            if body != exchange.request_body:
                scope = {**scope, "headers": _with_length(scope["headers"], len(body))}
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if delivered:
                return await receive()  # only a disconnect is left to hear
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        if self.answer is None:
            await self.app(scope, replay, send)
            return
        chunks: list[bytes] = []

        async def collect(message: Message) -> None:
            if message["type"] == "http.response.start":
                exchange.status = message["status"]
                exchange.headers = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, replay, collect)
        exchange.body = b"".join(chunks)
        self.answer(exchange)
        start = {
            "type": "http.response.start",
            "status": exchange.status,
            "headers": _with_length(exchange.headers, len(exchange.body)),
        }
        await send(start)
        await send({"type": "http.response.body", "body": exchange.body, "more_body": False})


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    for _ in range(MAX_BODY_MESSAGES):
        message = await receive()
        if message["type"] != "http.request":
            break  # the client went away
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    else:
        raise RuntimeError(f"a request body in more than {MAX_BODY_MESSAGES} messages")
    return b"".join(chunks)


def _with_length(headers: list[tuple[bytes, bytes]], length: int) -> list[tuple[bytes, bytes]]:
    kept = [(name, value) for name, value in headers if name.lower() != b"content-length"]
    return [*kept, (b"content-length", str(length).encode())]


def _json_object(data: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _reference(**overrides: Any) -> ASGIApp:
    return create_app(ServerConfig(tokens=frozenset({TOKEN}), **overrides))


def _wrapped(*, request: RequestRewrite | None = None, answer: AnswerRewrite | None = None) -> ASGIApp:
    return Rewriting(_reference(), request=request, answer=answer)


# ---- the defects ------------------------------------------------------------------------------


def _fail_small_generations(exchange: Exchange) -> None:
    """A 500 instead of the image for every (valid) 256x256 generation."""
    if not exchange.path.endswith("/images/generations") or exchange.status != 200:
        return
    if exchange.request_json().get("size") != "256x256":
        return
    exchange.status = 500
    envelope = {
        "error": {"message": "The painter crashed.", "type": "server_error", "param": None, "code": None}
    }
    exchange.body = json.dumps(envelope).encode()
    exchange.set_content_type("application/json")


def _fastapi_errors(exchange: Exchange) -> None:
    """4xx answers as FastAPI writes them: {"detail": message} instead of the OpenAI envelope."""
    if not 400 <= exchange.status < 500:
        return
    error = exchange.answer_json().get("error")
    if isinstance(error, dict):
        exchange.body = json.dumps({"detail": error.get("message", "")}).encode()


def _drop_created(exchange: Exchange) -> None:
    """200 JSON answers without their `created` timestamp."""
    answer = exchange.answer_json()
    if exchange.status == 200 and "created" in answer:
        del answer["created"]
        exchange.body = json.dumps(answer).encode()


def _plain_text(exchange: Exchange) -> None:
    """200 JSON answers labelled text/plain (the body stays the same JSON)."""
    if exchange.status == 200 and exchange.content_type.startswith("application/json"):
        exchange.set_content_type("text/plain; charset=utf-8")


def _quality_to_auto(exchange: Exchange) -> bytes:
    """A generation's unknown `quality` is quietly taken as "auto" instead of refused."""
    body = exchange.request_json()
    quality = body.get("quality")
    if not exchange.path.endswith("/images/generations"):
        return exchange.request_body
    if not isinstance(quality, str) or quality in KNOWN_QUALITIES:
        return exchange.request_body
    body["quality"] = "auto"
    return json.dumps(body).encode()


def _completed_without_b64(exchange: Exchange) -> None:
    """Streamed completed events lose their image (`b64_json`); partial images keep theirs."""
    if exchange.status != 200 or not exchange.content_type.startswith("text/event-stream"):
        return
    lines = exchange.body.decode("utf-8").split("\n")
    for index, line in enumerate(lines):
        if not line.startswith("data:"):
            continue
        event = _json_object(line[len("data:") :].encode())
        if str(event.get("type", "")).endswith(".completed") and "b64_json" in event:
            del event["b64_json"]
            lines[index] = "data: " + json.dumps(event)
    exchange.body = "\n".join(lines).encode("utf-8")


def _fit_mask_to_image(exchange: Exchange) -> bytes:
    """A multipart edit's PNG mask is resized to the first image, so a wrong-size mask passes."""
    original = exchange.request_body
    if not exchange.path.endswith("/images/edits") or "multipart/form-data" not in exchange.request_type:
        return original
    try:
        parts = parse_form(original, exchange.request_type)
    except ValueError:
        return original
    images = [data for name, _, _, data in parts if name in ("image", "image[]")]
    masks = [index for index, (name, _, _, _) in enumerate(parts) if name == "mask"]
    if not images or not masks:
        return original
    image_size = _png_size(images[0])
    mask_index = masks[0]
    name, filename, part_type, mask = parts[mask_index]
    fitted = _resized_png(mask, image_size) if image_size is not None else None
    if fitted is None:
        return original
    parts[mask_index] = (name, filename, part_type, fitted)
    boundary = exchange.request_type.split("boundary=", 1)[1].split(";")[0].strip().strip('"')
    fields = []
    for name, filename, part_type, data in parts:
        part = RequestField(name, data, filename=filename)
        part.make_multipart(content_type=part_type)
        fields.append(part)
    body, _ = encode_multipart_formdata(fields, boundary=boundary)
    return body


def _png_size(data: bytes) -> tuple[int, int] | None:
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size if image.format == "PNG" else None
    except (OSError, ValueError, Image.DecompressionBombError):
        return None


def _resized_png(data: bytes, size: tuple[int, int]) -> bytes | None:
    """The PNG `data` resized to `size` (same mode and transparency), None when it need not be."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != "PNG" or image.size == size:
                return None
            resized = image.resize(size)
            options = {"transparency": image.info["transparency"]} if "transparency" in image.info else {}
            buffer = io.BytesIO()
            resized.save(buffer, format="PNG", **options)
            return buffer.getvalue()
    except (OSError, ValueError, Image.DecompressionBombError):
        return None


@dataclass(frozen=True)
class Defect:
    """One broken server, and what a conformance run must report about it."""

    name: str
    description: str
    app_factory: Callable[[], ASGIApp]
    model: str
    expected_check: str
    operations: tuple[str, ...] | None = None  # None: every operation the model serves


_DEFECTS = [
    Defect(
        "server-error",
        "answers 500 (server_error envelope) to every valid 256x256 generation",
        lambda: _wrapped(answer=_fail_small_generations),
        "dall-e-2",
        "not_a_server_error",
        ("generations",),
    ),
    Defect(
        "ignores-auth",
        "answers without checking the bearer token (auth disabled)",
        lambda: create_app(ServerConfig(auth=False)),
        "dall-e-3",
        "ignored_auth",
    ),
    Defect(
        "fastapi-errors",
        'answers 4xx errors as FastAPI does, {"detail": message}, not in the OpenAI envelope',
        lambda: _wrapped(answer=_fastapi_errors),
        "dall-e-2",
        "response_schema_conformance",
        ("generations",),
    ),
    Defect(
        "no-created",
        "leaves `created` out of every 200 JSON answer",
        lambda: _wrapped(answer=_drop_created),
        "dall-e-2",
        "response_schema_conformance",
        ("generations",),
    ),
    Defect(
        "wrong-content-type",
        "labels its 200 JSON answers text/plain",
        lambda: _wrapped(answer=_plain_text),
        "dall-e-2",
        "content_type_conformance",
        ("generations",),
    ),
    Defect(
        "enum-not-enforced",
        'takes an unknown generation `quality` as "auto" instead of refusing it',
        lambda: _wrapped(request=_quality_to_auto),
        "dall-e-2",
        "negative_data_rejection",
        ("generations",),
    ),
    Defect(
        "stream-without-b64",
        "streams completed events without their `b64_json` image",
        lambda: _wrapped(answer=_completed_without_b64),
        "gpt-image-1.5",
        "response_schema_conformance",
        ("generations",),
    ),
    Defect(
        "mask-size-ignored",
        "accepts an edit whose mask is not the first image's size (it resizes the mask)",
        lambda: _wrapped(request=_fit_mask_to_image),
        "dall-e-2",
        "mask_size_rejection",
        ("edits",),
    ),
]

ZOO: dict[str, Defect] = {defect.name: defect for defect in _DEFECTS}
