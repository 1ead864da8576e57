"""The ASGI application of the reference server (Starlette)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import json
import secrets
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..contract import IMAGE, MASK, FormFile, FormValue, OperationInfo, RequestInvalid
from ..contract.operations import JSON, MULTIPART
from . import answers
from .auth import check_bearer
from .config import ServerConfig
from .errors import ApiError, invalid
from .faults import FAULT_HEADER, Fault, FaultBook
from .idempotency import IdempotencyCache
from .policy import Job, resolve
from .render import PAINTED, render
from .store import ImageStore
from .uploads import DecodedImage, decode_upload

API_PREFIX = "/v1"
MAX_IDEMPOTENCY_KEY = 255  # the contract's maxLength
FILES_ROUTE = "/images/files"


class DropConnection(Exception):
    """Raised after the response headers to make the server close the connection (a fault)."""


def create_app(config: ServerConfig) -> Starlette:
    """The reference server as an ASGI application."""
    state = _State(config)

    def operation(info: OperationInfo) -> Callable[[Request], Awaitable[Response]]:
        handler = state.handle if info.name in PAINTED else state.not_implemented

        async def endpoint(request: Request) -> Response:
            return await handler(request, info)

        return endpoint

    routes = [
        Route(f"{API_PREFIX}{info.path}", operation(info), methods=[info.method])
        for info in config.contract.operations
    ]
    routes += [
        Route(f"{API_PREFIX}{FILES_ROUTE}/{{name}}", state.download, methods=["GET"]),
        Route("/health", _health, methods=["GET"]),
        Route(f"{API_PREFIX}/health", _health, methods=["GET"]),
    ]
    return Starlette(
        routes=routes,
        middleware=[Middleware(_RequestIdMiddleware)],
        exception_handlers={
            ApiError: _api_error,
            RequestInvalid: _invalid_request,
            HTTPException: _http_error,
            Exception: _server_error,
        },
    )


async def _health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return exc.response()


async def _invalid_request(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestInvalid)
    return invalid(exc.message, param=exc.param, code=exc.code).response()


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        message = f"Unknown route {request.method} {request.url.path}. The API is under {API_PREFIX}/."
    elif exc.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}."
    else:
        message = str(exc.detail)
    headers = dict(exc.headers or {})
    return ApiError(exc.status_code, message, headers=headers).response()


async def _server_error(request: Request, exc: Exception) -> Response:
    return ApiError(500, "The server failed while answering; retrying may help.").response()


class _RequestIdMiddleware:
    """Gives every answer an `x-request-id` header."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = f"req_{secrets.token_hex(12)}".encode()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id)]
            await send(message)

        await self.app(scope, receive, send_with_id)


class _State:
    """What the routes share: configuration, stored images, fault counters, idempotency."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.store = ImageStore(config.url_ttl_s, config.store_max_bytes)
        self.faults = FaultBook(config.faults_enabled, config.route_faults)
        self.idempotency = IdempotencyCache(config.idempotency_window_s)

    async def not_implemented(self, request: Request, info: OperationInfo) -> Response:
        if self.config.auth:
            check_bearer(request, self.config.tokens)
        raise ApiError(
            501,
            f"{info.label} ({info.id}) is in the contract, but this server has no handler for it yet.",
            code="not_implemented",
        )

    async def handle(self, request: Request, info: OperationInfo) -> Response:
        operation = info.name
        token = check_bearer(request, self.config.tokens) if self.config.auth else ""
        fault = self.faults.take(operation, request.headers.get(FAULT_HEADER))
        if fault is not None:
            await _strike(fault)
        body, fingerprint, images, mask = await self._read(request, info)
        key = _idempotency_key(request)
        scope = (hashlib.sha256(token.encode()).hexdigest(), operation, key or "")
        if key:
            remembered = self.idempotency.replay(scope, fingerprint)
            if remembered is not None:
                return Response(remembered.body, remembered.status, media_type=remembered.media_type)
        job = resolve(
            operation,
            body,
            self.config.catalog,
            images,
            mask,
            reportable_qualities=self._reportable_qualities(info),
        )
        if fault is not None and fault.drop:
            return _DroppingResponse()
        if fault is not None and fault.malformed:
            return Response(
                b'{"created": 1, "data": [{"b64_json": "iVBORw0K', 200, media_type="application/json"
            )
        if job.stream:
            truncate = fault.truncate_after if fault is not None else None
            events = answers.event_names(info.stream_events)
            return StreamingResponse(self._events(job, events, truncate), media_type="text/event-stream")
        encoded = await run_in_threadpool(lambda: [render(job, index) for index in range(job.n)])
        items = [self._item(job, data, request) for data in encoded]
        payload = json.dumps(answers.images_response(job, items)).encode()
        if key:
            self.idempotency.remember(scope, fingerprint, 200, payload, "application/json")
        return Response(payload, 200, media_type="application/json")

    def _item(self, job: Job, data: bytes, request: Request) -> dict[str, str]:
        if job.response_format == "url":
            name = self.store.put(data, job.output_format)
            return {"url": _file_url(request, name)}
        return {"b64_json": base64.b64encode(data).decode("ascii")}

    def _reportable_qualities(self, info: OperationInfo) -> tuple[str, ...]:
        if info.answer is None:
            return ()
        quality = next((f for f in self.config.contract.fields(info.answer) if f.name == "quality"), None)
        return tuple(str(value) for value in quality.enum or ()) if quality is not None else ()

    async def _events(
        self, job: Job, events: tuple[str, str], truncate_after: int | None
    ) -> AsyncIterator[bytes]:
        sent = 0
        for index in range(job.n):
            steps = [(k, (k + 1) / (job.partial_images + 1)) for k in range(job.partial_images)]
            for partial_index, detail in [*steps, (None, 1.0)]:
                data = await run_in_threadpool(render, job, index, detail)
                event = answers.stream_event(job, data, events, partial_index=partial_index)
                frame = f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode()
                if truncate_after is not None and sent >= truncate_after:
                    yield frame[: len(frame) // 2]
                    return
                yield frame
                sent += 1
                if self.config.stream_delay_s:
                    await asyncio.sleep(self.config.stream_delay_s)

    async def download(self, request: Request) -> Response:
        stored = self.store.get(request.path_params["name"])
        if stored is None:
            raise ApiError(404, "This image does not exist or its URL has expired.", code="image_not_found")
        return Response(stored.data, media_type=stored.content_type)

    async def _read(
        self, request: Request, info: OperationInfo
    ) -> tuple[dict[str, Any], str, list[DecodedImage], DecodedImage | None]:
        """The validated body, its fingerprint, and the decoded uploads."""
        raw = await _read_limited(request, self.config.limits.max_body_bytes)
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        schema_name = info.schema_for(media) if media in (JSON, MULTIPART) else None
        if schema_name is None:
            accepted = " or ".join(info.bodies) or "no body"
            raise ApiError(
                415, f"Send the body as {accepted}, not {media or 'nothing'}.", code="unsupported_media_type"
            )
        validator = self.config.contract.validator
        roles = self.config.contract.upload_fields(schema_name)
        if media == JSON:
            try:
                parsed = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
                raise ApiError(422, "The body is not valid JSON.", code="invalid_json") from None
            body = validator.check_json(schema_name, parsed)
            self._check_prompt(body)
            images, mask = self._referenced_images(body, roles)
            fingerprint = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
            return body, fingerprint, images, mask
        form = await self._form(request, raw)
        body = validator.check_form(schema_name, form)
        self._check_prompt(body)
        max_pixels = self.config.limits.max_input_pixels
        uploads = [value for _, value in form if isinstance(value, FormFile)]
        images = [decode_upload(u, max_pixels) for u in uploads if roles.get(u.field) == IMAGE]
        masks = [decode_upload(u, max_pixels) for u in uploads if roles.get(u.field) == MASK]
        digest = hashlib.sha256()
        for name, value in form:
            digest.update(name.encode() + b"\0")
            digest.update(
                hashlib.sha256(value.data).digest() if isinstance(value, FormFile) else value.encode()
            )
        return body, digest.hexdigest(), images, masks[0] if masks else None

    def _check_prompt(self, body: dict[str, Any]) -> None:
        prompt = body.get("prompt")
        limit = self.config.limits.max_prompt_chars
        if isinstance(prompt, str) and len(prompt) > limit:
            raise invalid(f"The prompt is longer than this server's {limit} characters.", param="prompt")

    async def _form(self, request: Request, raw: bytes) -> list[tuple[str, FormValue]]:
        async def body() -> AsyncGenerator[bytes, None]:
            yield raw

        limits = self.config.limits
        parser = MultiPartParser(
            request.headers, body(), max_files=limits.max_files, max_fields=limits.max_fields
        )
        try:
            form = await parser.parse()
        except MultiPartException as error:
            raise ApiError(400, f"The multipart body was refused: {error.message}.") from None
        items: list[tuple[str, FormValue]] = []
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                data = await value.read()
                items.append((name, FormFile(name, value.filename, value.content_type, data)))
            else:
                items.append((name, value))
        await form.close()
        return items

    def _referenced_images(
        self, body: dict[str, Any], roles: dict[str, str]
    ) -> tuple[list[DecodedImage], DecodedImage | None]:
        max_pixels = self.config.limits.max_input_pixels
        images: list[DecodedImage] = []
        mask: DecodedImage | None = None
        for field, role in roles.items():
            value = body.get(field)
            references = value if isinstance(value, list) else [value] if isinstance(value, dict) else []
            for index, reference in enumerate(references):
                where = f"{field}[{index}]" if isinstance(value, list) else field
                decoded = decode_upload(_data_url(reference, where), max_pixels)
                if role == IMAGE:
                    images.append(decoded)
                elif mask is None:
                    mask = decoded
        return images, mask


def _idempotency_key(request: Request) -> str | None:
    key = request.headers.get("idempotency-key")
    if key is not None and not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY:
        raise invalid(
            f"The Idempotency-Key must have 1 to {MAX_IDEMPOTENCY_KEY} characters.", param="Idempotency-Key"
        )
    return key


def _file_url(request: Request, name: str) -> str:
    return f"{str(request.base_url).rstrip('/')}{API_PREFIX}{FILES_ROUTE}/{name}"


def _data_url(reference: dict[str, str], field: str) -> FormFile:
    """An image given by a data: URL; other references cannot be served here (no fetching)."""
    if "file_id" in reference:
        raise invalid(
            f"No file with id {reference['file_id']!r} exists on this server (it has no files API).",
            param=f"{field}.file_id",
            code="file_not_found",
        )
    url = reference.get("image_url", "")
    header, comma, payload = url.partition(",")
    if not url.startswith("data:") or not comma or not header.endswith(";base64"):
        raise invalid(
            "This server does not fetch image URLs; give the image as a base64 data: URL "
            "or upload it as multipart.",
            param=f"{field}.image_url",
        )
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise invalid("The data: URL is not valid base64.", param=f"{field}.image_url") from None
    return FormFile(field, None, header[5:].split(";")[0] or None, data)


async def _read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    total = 0
    try:
        async for chunk in request.stream():
            total += len(chunk)
            if total > limit:
                raise _too_large(limit)
            chunks.append(chunk)
    except ClientDisconnect:
        # The client gave up (e.g. its timeout): nobody will read the answer; end quietly.
        raise ApiError(400, "The client disconnected before sending the whole body.") from None
    return b"".join(chunks)


def _too_large(limit: int) -> ApiError:
    return ApiError(
        413, f"The request body is larger than this server's limit of {limit} bytes.", code="body_too_large"
    )


async def _strike(fault: Fault) -> None:
    if fault.latency_s:
        await asyncio.sleep(fault.latency_s)
    if fault.status is not None:
        raise ApiError(
            fault.status,
            f"Injected fault ({fault.text}).",
            code="injected_fault",
            headers=fault.headers(),
        )


class _DroppingResponse(Response):
    """Sends the status line and headers, then drops the connection before any body byte."""

    def __init__(self) -> None:
        super().__init__(b"", 200, media_type="application/json")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", b"application/json"), (b"content-length", b"1024")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        raise DropConnection("fault: connection dropped on purpose")
