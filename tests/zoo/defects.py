"""Deliberately broken servers: the reference server with exactly one defect each.

Each defect is the reference app (which conforms) either configured differently or wrapped by a
small ASGI middleware that rewrites the request before the app sees it, or the answer after the
app made it. A conformance run against one of them must report the defect's check, and nothing
else: the zoo tests the oracle, not the server. tests/zoo/clean.py has the other half: servers
that are unusual but right, which must conform.
"""

from __future__ import annotations

import base64
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
from imagegen.contract import default_contract
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


# ---- helpers the rewrites share -----------------------------------------------------------------


def _is(exchange: Exchange, operation: str) -> bool:
    return exchange.path.endswith(f"/images/{operation}")


def _ok_json(exchange: Exchange) -> dict[str, Any] | None:
    """The answer's JSON when it is a 200 JSON answer with images, else None."""
    if exchange.status != 200:
        return None
    answer = exchange.answer_json()
    return answer if isinstance(answer.get("data"), list) else None


def _rewrite_b64(exchange: Exchange, change: Callable[[bytes], bytes]) -> None:
    """Every data[i].b64_json image of a 200 JSON answer passed through `change`."""
    answer = _ok_json(exchange)
    if answer is None:
        return
    for item in answer["data"]:
        if isinstance(item.get("b64_json"), str):
            item["b64_json"] = base64.b64encode(change(base64.b64decode(item["b64_json"]))).decode()
    exchange.body = json.dumps(answer).encode()


def _events(exchange: Exchange) -> list[tuple[str | None, dict[str, Any]]] | None:
    """(event name, data) of each event of a 200 event stream, else None."""
    if exchange.status != 200 or not exchange.content_type.startswith("text/event-stream"):
        return None
    found: list[tuple[str | None, dict[str, Any]]] = []
    for block in exchange.body.decode("utf-8").split("\n\n"):
        name, data = None, None
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[len("event:") :].strip()
            elif line.startswith("data:"):
                data = _json_object(line[len("data:") :].encode())
        if data is not None:
            found.append((name, data))
    return found


def _write_events(exchange: Exchange, events: list[tuple[str | None, dict[str, Any]]]) -> None:
    frames = []
    for name, data in events:
        head = f"event: {name}\n" if name is not None else ""
        frames.append(f"{head}data: {json.dumps(data)}\n\n")
    exchange.body = "".join(frames).encode("utf-8")


def _reencoded(data: bytes, image_format: str) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        converted = image.convert("RGB") if image_format == "JPEG" else image.copy()
    buffer = io.BytesIO()
    converted.save(buffer, format=image_format)
    return buffer.getvalue()


def _flattened(data: bytes) -> bytes:
    """The image on white, without an alpha channel, in its own format."""
    with Image.open(io.BytesIO(data)) as image:
        image_format = image.format or "PNG"
        rgba = image.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    flat = Image.alpha_composite(white, rgba).convert("RGB")
    buffer = io.BytesIO()
    flat.save(buffer, format=image_format)
    return buffer.getvalue()


def _form_parts(exchange: Exchange) -> list[tuple[str, str | None, str | None, bytes]] | None:
    if "multipart/form-data" not in exchange.request_type:
        return None
    try:
        return parse_form(exchange.request_body, exchange.request_type)
    except ValueError:
        return None


def _encode_form(exchange: Exchange, parts: list[tuple[str, str | None, str | None, bytes]]) -> bytes:
    boundary = exchange.request_type.split("boundary=", 1)[1].split(";")[0].strip().strip('"')
    fields = []
    for name, filename, part_type, data in parts:
        part = RequestField(name, data, filename=filename)
        part.make_multipart(content_type=part_type)
        fields.append(part)
    body, _ = encode_multipart_formdata(fields, boundary=boundary)
    return body


def _png(width: int, height: int, colour: tuple[int, int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (width, height), colour).save(buffer, format="PNG")
    return buffer.getvalue()


# ---- the defects of the image checks ------------------------------------------------------------


def _size_ignored(exchange: Exchange) -> bytes:
    """Generations are made 1024x1024 when 1792x1024 or 1024x1792 was asked."""
    body = exchange.request_json()
    if not _is(exchange, "generations") or body.get("size") not in ("1792x1024", "1024x1792"):
        return exchange.request_body
    body["size"] = "1024x1024"
    return json.dumps(body).encode()


def _n_ignored(exchange: Exchange) -> bytes:
    """Generations make one image whatever n was asked."""
    body = exchange.request_json()
    if not _is(exchange, "generations") or body.get("n") in (None, 1):
        return exchange.request_body
    del body["n"]
    return json.dumps(body).encode()


def _jpeg_labelled_png(exchange: Exchange) -> None:
    """PNG generations answered with JPEG bytes; the answer still says output_format png."""
    asked = exchange.request_json()
    if (
        _is(exchange, "generations")
        and asked.get("output_format", "png") == "png"
        and asked.get("background") != "transparent"
    ):
        _rewrite_b64(exchange, lambda data: _reencoded(data, "JPEG"))


def _b64_as_data_url(exchange: Exchange) -> None:
    """b64_json answered as a data: URL (data:image/png;base64,...) instead of bare base64."""
    answer = _ok_json(exchange)
    if answer is None:
        return
    for item in answer["data"]:
        if isinstance(item.get("b64_json"), str):
            item["b64_json"] = "data:image/png;base64," + item["b64_json"]
    exchange.body = json.dumps(answer).encode()


def _urls_broken(exchange: Exchange) -> None:
    """Image URLs that answer 404: the answer names files the server never stored."""
    answer = _ok_json(exchange)
    if answer is None:
        return
    for item in answer["data"]:
        if isinstance(item.get("url"), str):
            item["url"] = item["url"].replace("/img-", "/img-missing-")
    exchange.body = json.dumps(answer).encode()


def _urls_serve_html(exchange: Exchange) -> None:
    """Image URLs answer with an HTML page (a login wall, say) instead of the image."""
    if exchange.method == "GET" and "/images/files/" in exchange.path and exchange.status == 200:
        exchange.body = b"<!DOCTYPE html><html><body><h1>Please sign in</h1></body></html>"
        exchange.set_content_type("text/html; charset=utf-8")


def _transparency_dropped(exchange: Exchange) -> None:
    """background: transparent answered with opaque images (the answer still says transparent)."""
    if exchange.request_json().get("background") == "transparent":
        _rewrite_b64(exchange, _flattened)


def _mask_ignored(exchange: Exchange) -> bytes:
    """Edits repaint the whole image: each mask with an alpha channel is made fully transparent."""
    parts = _form_parts(exchange)
    if not _is(exchange, "edits") or parts is None:
        return exchange.request_body
    changed = False
    for index, (name, filename, part_type, data) in enumerate(parts):
        if name != "mask":
            continue
        try:
            with Image.open(io.BytesIO(data)) as mask:
                if mask.mode not in ("RGBA", "LA") and "transparency" not in mask.info:
                    continue
                size = mask.size
        except (OSError, ValueError):
            continue
        parts[index] = (name, filename, part_type, _png(*size, (0, 0, 0, 0)))
        changed = True
    return _encode_form(exchange, parts) if changed else exchange.request_body


def _variation_size_ignored(exchange: Exchange) -> bytes:
    """Variations come out 512x512 when 256x256 was asked, and 256x256 when 512x512 or 1024x1024 was."""
    parts = _form_parts(exchange)
    if not _is(exchange, "variations") or parts is None:
        return exchange.request_body
    kept = [part for part in parts if part[0] != "size"]
    asked = next((part[3] for part in parts if part[0] == "size"), b"1024x1024")
    if asked not in (b"256x256", b"512x512", b"1024x1024"):
        return exchange.request_body
    wrong = b"512x512" if asked == b"256x256" else b"256x256"
    return _encode_form(exchange, [*kept, ("size", None, None, wrong)])


def _extra_partial(exchange: Exchange) -> None:
    """Streams send one partial image more than partial_images before each completed image."""
    events = _events(exchange)
    if events is None:
        return
    result: list[tuple[str | None, dict[str, Any]]] = []
    partials = 0
    for name, data in events:
        if str(data.get("type", "")).endswith(".completed"):
            extra = {k: v for k, v in data.items() if k != "usage"}
            extra["type"] = str(data["type"]).replace(".completed", ".partial_image")
            extra["partial_image_index"] = partials
            result.append((extra["type"], extra))
            partials = 0
        else:
            partials += 1
        result.append((name, data))
    _write_events(exchange, result)


def _completed_dropped(exchange: Exchange) -> None:
    """Streams never send their completed events (only the partial images, if any)."""
    events = _events(exchange)
    if events is not None:
        _write_events(
            exchange,
            [(name, data) for name, data in events if not str(data.get("type", "")).endswith(".completed")],
        )


def _text_taken_as_image(exchange: Exchange) -> bytes:
    """An edit's image part that is not an image (a text file) is taken as a blank PNG."""
    parts = _form_parts(exchange)
    if not _is(exchange, "edits") or parts is None:
        return exchange.request_body
    changed = False
    for index, (name, filename, _, data) in enumerate(parts):
        if (
            name in ("image", "image[]")
            and filename is not None
            and data[:4] not in (b"\x89PNG", b"RIFF")
            and data[:3] != b"\xff\xd8\xff"
        ):
            parts[index] = (name, "image.png", "image/png", _png(64, 64, (240, 240, 240, 255)))
            changed = True
    return _encode_form(exchange, parts) if changed else exchange.request_body


def _any_size_dalle2() -> ASGIApp:
    """dall-e-2 with any WIDTHxHEIGHT from 64 to 1024 (300x200 too) instead of its three sizes."""
    from imagegen.contract import CustomSizes, FieldRule, default_catalog

    catalog = default_catalog()
    dalle2 = catalog.get("dall-e-2")
    assert dalle2 is not None
    size = dalle2.fields["size"]
    relaxed = FieldRule(
        values=size.values,
        default=size.default,
        has_default=True,
        custom_sizes=CustomSizes(min_edge=64, max_edge=1024),
    )
    from dataclasses import replace

    loose = replace(dalle2, fields={**dalle2.fields, "size": relaxed})
    return create_app(ServerConfig(tokens=frozenset({TOKEN}), catalog=catalog.with_models(loose)))


def _plain_text_401(exchange: Exchange) -> None:
    """401 answers as text/plain "Unauthorized" instead of the error envelope."""
    if exchange.status == 401:
        exchange.body = b"Unauthorized"
        exchange.set_content_type("text/plain; charset=utf-8")


def _stream_as_json(exchange: Exchange) -> bytes:
    """stream: true is ignored: the answer is plain JSON."""
    body = exchange.request_json()
    if body.get("stream") is not True:
        return exchange.request_body
    body["stream"] = False
    return json.dumps(body).encode()


def _stream_fails(exchange: Exchange) -> None:
    """stream: true is answered with a 500 (the same request without it succeeds)."""
    if exchange.request_json().get("stream") is True and exchange.status == 200:
        exchange.status = 500
        envelope = {
            "error": {"message": "Streaming crashed.", "type": "server_error", "param": None, "code": None}
        }
        exchange.body = json.dumps(envelope).encode()
        exchange.set_content_type("application/json")


def _usage_off(exchange: Exchange) -> None:
    """usage.total_tokens one more than input_tokens + output_tokens."""
    answer = _ok_json(exchange)
    if answer is not None and isinstance(answer.get("usage"), dict):
        answer["usage"]["total_tokens"] += 1
        exchange.body = json.dumps(answer).encode()


def _quality_misreported(exchange: Exchange) -> None:
    """The answer's quality is never the one asked for (low is reported as high, and so on)."""
    asked = exchange.request_json().get("quality")
    answer = _ok_json(exchange)
    if answer is not None and asked in ("low", "medium", "high") and "quality" in answer:
        answer["quality"] = {"low": "high", "medium": "low", "high": "medium"}[asked]
        exchange.body = json.dumps(answer).encode()


def _events_misnamed(exchange: Exchange) -> None:
    """Every event's `event:` line names the completed event, partial images too."""
    events = _events(exchange)
    if events is not None:
        completed = next(
            (str(d["type"]) for _, d in events if str(d.get("type", "")).endswith(".completed")), None
        )
        _write_events(exchange, [(completed or name, data) for name, data in events])


def _files_page_without_data(exchange: Exchange) -> None:
    """A page of files (GET /files) answered without its `data` list."""
    if exchange.status != 200 or exchange.method != "GET" or not exchange.path.endswith("/files"):
        return
    answer = exchange.answer_json()
    if answer.get("object") == "list":
        answer.pop("data", None)
        exchange.body = json.dumps(answer).encode()


# The image operations: what a defect of the images is looked for in, unless it names fewer.
IMAGE_OPERATIONS = tuple(operation.name for operation in default_contract().image_operations)


@dataclass(frozen=True)
class Defect:
    """One broken server, and what a conformance run must report about it."""

    name: str
    description: str
    app_factory: Callable[[], ASGIApp]
    model: str
    expected_check: str
    operations: tuple[str, ...] = IMAGE_OPERATIONS  # those the model does not serve are left out
    phases: tuple[str, ...] = ("examples", "fuzzing")  # what the in-process run needs to find it


def _defect(
    name: str,
    model: str,
    check: str,
    operations: tuple[str, ...] | None,
    *,
    request: RequestRewrite | None = None,
    answer: AnswerRewrite | None = None,
    phases: tuple[str, ...] = ("examples", "fuzzing"),
) -> Defect:
    rewrite = request or answer
    assert rewrite is not None
    assert rewrite.__doc__
    return Defect(
        name,
        " ".join(rewrite.__doc__.split()),
        lambda: _wrapped(request=request, answer=answer),
        model,
        check,
        operations or IMAGE_OPERATIONS,
        phases,
    )


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
    _defect(
        "fastapi-errors", "dall-e-2", "response_schema_conformance", ("generations",), answer=_fastapi_errors
    ),
    _defect("no-created", "dall-e-2", "response_schema_conformance", ("generations",), answer=_drop_created),
    _defect(
        "wrong-content-type", "dall-e-2", "content_type_conformance", ("generations",), answer=_plain_text
    ),
    _defect(
        "enum-not-enforced",
        "dall-e-2",
        "negative_data_rejection",
        ("generations",),
        request=_quality_to_auto,
        phases=("coverage",),
    ),
    _defect(
        "stream-without-b64",
        "gpt-image-2",
        "response_schema_conformance",
        ("generations",),
        answer=_completed_without_b64,
    ),
    _defect("mask-size-ignored", "dall-e-2", "mask_size_rejection", ("edits",), request=_fit_mask_to_image),
    # The image checks, one defect each.
    _defect("size-ignored", "dall-e-3", "image_size_matches", None, request=_size_ignored),
    _defect("n-ignored", "dall-e-2", "image_count_matches", ("generations",), request=_n_ignored),
    _defect(
        "jpeg-labelled-png",
        "gpt-image-2",
        "image_format_matches",
        ("generations",),
        answer=_jpeg_labelled_png,
    ),
    _defect("b64-data-url", "gpt-image-2", "b64_json_is_image", ("generations",), answer=_b64_as_data_url),
    _defect("url-404", "dall-e-2", "url_serves_image", ("generations",), answer=_urls_broken),
    _defect("url-html", "dall-e-2", "url_serves_image", ("generations",), answer=_urls_serve_html),
    _defect(
        "transparency-dropped",
        "gpt-image-2",
        "transparent_background",
        ("generations",),
        answer=_transparency_dropped,
    ),
    _defect("mask-ignored", "dall-e-2", "mask_keeps_unmasked_pixels", ("edits",), request=_mask_ignored),
    _defect(
        "variation-size-ignored",
        "dall-e-2",
        "image_size_matches",
        ("variations",),
        request=_variation_size_ignored,
    ),
    _defect("usage-off", "gpt-image-2", "usage_adds_up", ("generations",), answer=_usage_off),
    _defect(
        "quality-misreported",
        "gpt-image-2",
        "echoed_fields_match",
        ("generations",),
        answer=_quality_misreported,
    ),
    # The stream checks.
    _defect("extra-partial", "gpt-image-2", "stream_partial_images", ("generations",), answer=_extra_partial),
    _defect(
        "no-completed",
        "gpt-image-2",
        "stream_completed_events",
        ("generations",),
        answer=_completed_dropped,
    ),
    _defect(
        "events-misnamed", "gpt-image-2", "stream_event_names", ("generations",), answer=_events_misnamed
    ),
    _defect(
        "stream-as-json", "gpt-image-2", "stream_not_supported", ("generations",), request=_stream_as_json
    ),
    _defect("stream-500", "gpt-image-2", "stream_not_supported", ("generations",), answer=_stream_fails),
    # Negative cases beyond the schema.
    Defect(
        "any-size-dall-e-2",
        " ".join((_any_size_dalle2.__doc__ or "").split()),
        _any_size_dalle2,
        "dall-e-2",
        "model_rule_rejection",
        ("generations",),
    ),
    _defect("text-taken-as-image", "dall-e-2", "upload_rejection", ("edits",), request=_text_taken_as_image),
    _defect(
        "plain-text-401", "dall-e-2", "content_type_conformance", ("generations",), answer=_plain_text_401
    ),
    # The files and batches operations, checked against their schemas.
    _defect(
        "files-page-without-data",
        "dall-e-2",
        "response_schema_conformance",
        ("file_list",),
        answer=_files_page_without_data,
    ),
]

ZOO: dict[str, Defect] = {defect.name: defect for defect in _DEFECTS}
