"""The ASGI application of the reference server (Starlette): routes and the life of a request.

A request to an operation: auth, then any injected fault, then a ticket from the pool (or a 503
when the process is full), then its body is read and everything CPU-bound (parsing, validation,
decoding, painting, encoding) runs in the pool's threads. The event loop only moves bytes, so
`/health` answers at once however busy the painters are.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import tempfile
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import suppress
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from ..contract import OperationInfo, RequestInvalid
from ..contract.operations import JSON, MULTIPART
from . import answers, faults, idempotency, store
from .access import AccessMiddleware
from .auth import check_bearer
from .batches import BatchRunner, BatchStore
from .config import ServerConfig
from .errors import ApiError, invalid
from .faults import FAULT_HEADER, Fault, FaultBook
from .files import BUCKET as FILES_BUCKET
from .files import FileStore, owner_of
from .idempotency import Claim, IdempotencyRecords, Replay, scope_name
from .intake import Prepared, prepare
from .pool import Ticket, WorkPool
from .produce import answer_body, event_frame
from .references import ReferenceResolver
from .render import PAINTED
from .resources import resource_handlers
from .storage import Store, StoreFull

API_PREFIX = "/v1"
MAX_IDEMPOTENCY_KEY = 255  # the contract's maxLength
FILES_ROUTE = "/images/files"
DEBUG_ROUTE = "/debug"
FAULT_COUNTS_MAX_BYTES = 16 * 1024 * 1024
INLINE_JSON_BYTES = 8192  # a JSON body up to this size, of an operation without images, is read on the loop


class DropConnection(Exception):
    """Raised after the response headers to make the server close the connection (a fault)."""


def create_app(config: ServerConfig) -> Starlette:
    """The reference server as an ASGI application.

    Its store is `config.data_dir`, or a temporary folder removed with the application (when it
    is garbage-collected, or at exit).
    """
    state = _State(config)

    resources = resource_handlers(state)

    def operation(info: OperationInfo) -> Callable[[Request], Awaitable[Response]]:
        handler = state.handle if info.name in PAINTED else resources.get(info.id, state.not_implemented)

        async def endpoint(request: Request) -> Response:
            return await handler(request, info)

        return endpoint

    # One route per path, so that a 405 names in Allow every method the path has.
    by_path: dict[str, dict[str, Callable[[Request], Awaitable[Response]]]] = {}
    for info in config.contract.operations:
        by_path.setdefault(info.path, {})[info.method] = operation(info)
    routes = [
        Route(f"{API_PREFIX}{path}", _by_method(handlers), methods=list(handlers))
        for path, handlers in by_path.items()
    ]
    routes += [
        Route(f"{API_PREFIX}{FILES_ROUTE}/{{name}}", state.download, methods=["GET"]),
        Route(f"{API_PREFIX}{DEBUG_ROUTE}/idempotency/{{key}}", state.debug_idempotency, methods=["GET"]),
        Route(f"{API_PREFIX}{DEBUG_ROUTE}/store", state.debug_store, methods=["GET"]),
        Route("/health", _health, methods=["GET"]),
        Route(f"{API_PREFIX}/health", _health, methods=["GET"]),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(AccessMiddleware, log=config.access_log)],
        exception_handlers={
            ApiError: _api_error,
            RequestInvalid: _invalid_request,
            HTTPException: _http_error,
            Exception: _server_error,
        },
    )
    app.state.imagegen = state
    weakref.finalize(app, state.close)
    return app


def _by_method(
    handlers: dict[str, Callable[[Request], Awaitable[Response]]],
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        return await handlers[method](request)

    return endpoint


def _files_base(request: Request) -> str:
    """Where the image store's URLs of this server start (as the client addressed it)."""
    return f"{str(request.base_url).rstrip('/')}{API_PREFIX}{FILES_ROUTE}/"


def _replayed(replay: Replay) -> Response:
    return Response(replay.body, replay.status, media_type=replay.media_type)


def _answer_too_large(error: StoreFull) -> ApiError:
    return ApiError(
        413,
        f"The answer's images ({error.size} bytes) are larger than this server's image store "
        f"({error.bound} bytes); ask for fewer or smaller images, or for b64_json.",
        code="answer_too_large",
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


class _State:
    """What the routes share: configuration, the store, the pool, fault counters, idempotency."""

    def __init__(self, config: ServerConfig) -> None:
        self.owned_dir: Path | None = None
        if config.data_dir is None:
            self.owned_dir = Path(tempfile.mkdtemp(prefix="imagegen-server-"))
            config = config.with_temporary_store(self.owned_dir)
        assert config.data_dir is not None
        self.config = config
        self.data = Store(config.data_dir, durable=config.store_durable)
        self.images = store.ImageStore(
            self.data.bucket(store.BUCKET, config.store_max_bytes), config.url_ttl_s
        )
        self.faults = FaultBook(
            config.faults_enabled,
            config.route_faults,
            self.data.bucket(faults.BUCKET, FAULT_COUNTS_MAX_BYTES),
            config.run_id,
        )
        self.idempotency = IdempotencyRecords(
            self.data.bucket(idempotency.BUCKET, config.idempotency_max_bytes),
            config.idempotency_window_s,
            config.idempotency_lease_s,
        )
        self.pool = WorkPool(config.jobs, config.queue, config.busy_retry_after_s)
        self.files = FileStore(self.data.bucket(FILES_BUCKET, config.files_max_bytes))
        self.batches = BatchStore(self.data, self.files)
        self.runner = BatchRunner(self.batches, self._execute, config.batch_delay_s)
        self._qualities: dict[str, tuple[str, ...]] = {}

    @property
    def batch_endpoints(self) -> tuple[str, ...]:
        """The URLs batches may call, as the contract's batch creation lists them."""
        from ..batch.inputs import batch_endpoints

        return batch_endpoints(self.config.contract)

    def references(self, owner: str) -> ReferenceResolver:
        """How the image references of the JSON edits of `owner` (owner_of(token)) become bytes."""
        limits = self.config.limits
        return ReferenceResolver(self.files, owner, self.config.allow_url_fetch, limits.max_body_bytes)

    async def read_body(self, request: Request) -> bytes:
        """The request's body, at most the server's body limit (413 beyond)."""
        return await _read_limited(request, self.config.limits.max_body_bytes)

    def idempotency_key(self, request: Request) -> str | None:
        """The request's Idempotency-Key, checked."""
        return _idempotency_key(request)

    async def _execute(self, endpoint: str, body: bytes, base_url: str, owner: str) -> tuple[int, Any]:
        """One request of a batch, answered as the route would: (status, the answer's JSON)."""
        info = self.config.contract.find_url("POST", endpoint)
        if info is None or info.name not in PAINTED:
            return 400, invalid(f"This server cannot run {endpoint} in a batch.").envelope()
        try:
            prepared = await self.pool.run(
                prepare,
                self.config,
                info,
                JSON,
                JSON,
                body,
                self._reportable_qualities(info),
                self.references(owner),
            )
            files_base = f"{base_url}{API_PREFIX}{FILES_ROUTE}/"
            payload = await self.pool.run(answer_body, prepared.job, self.images, files_base.__add__)
        except ApiError as error:
            return error.status, error.envelope()
        except RequestInvalid as error:
            return 400, invalid(error.message, param=error.param, code=error.code).envelope()
        except StoreFull:
            return 413, ApiError(413, "The answer's images do not fit in the image store.").envelope()
        return 200, json.loads(payload)

    def close(self) -> None:
        self.runner.close()
        self.pool.close()
        self.data.close()
        if self.owned_dir is not None:
            shutil.rmtree(self.owned_dir, ignore_errors=True)

    async def not_implemented(self, request: Request, info: OperationInfo) -> Response:
        self._authorise(request)
        raise ApiError(
            501,
            f"{info.label} ({info.id}) is in the contract, but this server has no handler for it yet.",
            code="not_implemented",
        )

    async def handle(self, request: Request, info: OperationInfo) -> Response:
        token = self._authorise(request)
        fault = await self._fault(info.name, request.headers.get(FAULT_HEADER))
        if fault is not None:
            await _strike(fault)
        key = _idempotency_key(request)
        content_type = request.headers.get("content-type", "")
        media = _media_of(info, content_type)
        admitted = self.pool.admit()
        ticket: Ticket | None = admitted  # None once a stream has taken it over
        try:
            raw = await _read_limited(request, self.config.limits.max_body_bytes)
            arguments = (
                self.config,
                info,
                media,
                content_type,
                raw,
                self._reportable_qualities(info),
                self.references(owner_of(token)),
            )
            if self._light(info, media, raw):
                prepared = prepare(*arguments)
            else:
                prepared = await self.pool.run(prepare, *arguments)
            del raw, arguments
            if fault is not None and fault.drop:
                return _DroppingResponse()
            if fault is not None and fault.malformed:
                return Response(
                    b'{"created": 1, "data": [{"b64_json": "iVBORw0K', 200, media_type="application/json"
                )
            name = scope_name(token, info.name, key) if key else None
            if not prepared.job.stream:
                return await self._answer(request, prepared, name)
            claim: Claim | None = None
            if name is not None:
                outcome = await self.idempotency.claim(name, prepared.fingerprint)
                if isinstance(outcome, Replay):
                    return _replayed(outcome)
                claim = outcome
            truncate = fault.truncate_after if fault is not None else None
            stream = _EventStream(self, prepared, info, admitted, claim, truncate)
            await stream.start()
            ticket = None  # the stream gives it back when it ends
            return stream
        finally:
            if ticket is not None:
                ticket.release()

    def _light(self, info: OperationInfo, media: str, raw: bytes) -> bool:
        """Whether reading this body is lighter than handing it to the pool (a small JSON body
        of an operation that takes no images: a tenth of a millisecond of parsing and checks)."""
        if media != JSON or len(raw) > INLINE_JSON_BYTES:
            return False
        schema_name = info.schema_for(media)
        return schema_name is not None and not self.config.contract.upload_fields(schema_name)

    async def _answer(self, request: Request, prepared: Prepared, name: str | None) -> Response:
        """The JSON answer; under an Idempotency-Key (its record `name`) claimed, made and kept
        in one trip to the pool, or the answer remembered."""
        job, images = prepared.job, self.images
        base = _files_base(request) if job.response_format == "url" else ""  # base_url is not free

        def answer() -> bytes:
            return answer_body(job, images, base.__add__)

        try:
            if name is None:
                payload = await self.pool.run(answer)
            else:
                outcome = await self.idempotency.once(name, prepared.fingerprint, answer, self.pool.run)
                if isinstance(outcome, Replay):
                    return _replayed(outcome)
                payload = outcome
        except StoreFull as error:
            raise _answer_too_large(error) from None
        return Response(payload, 200, media_type="application/json")

    def _authorise(self, request: Request) -> str:
        return check_bearer(request, self.config.tokens) if self.config.auth else ""

    async def _fault(self, operation: str, header: str | None) -> Fault | None:
        if not self.faults.applies(operation, header):
            return None
        return await run_in_threadpool(self.faults.take, operation, header)

    def _reportable_qualities(self, info: OperationInfo) -> tuple[str, ...]:
        found = self._qualities.get(info.name)
        if found is None:
            found = ()
            if info.answer is not None:
                fields = self.config.contract.fields(info.answer)
                quality = next((f for f in fields if f.name == "quality"), None)
                found = tuple(str(value) for value in quality.enum or ()) if quality is not None else ()
            self._qualities[info.name] = found
        return found

    async def download(self, request: Request) -> Response:
        stored = await run_in_threadpool(self.images.get, request.path_params["name"])
        if stored is None:
            raise ApiError(404, "This image does not exist or its URL has expired.", code="image_not_found")
        return Response(stored.data, media_type=stored.content_type)

    async def debug_idempotency(self, request: Request) -> Response:
        """What the store holds for this caller's Idempotency-Key, per operation: its state and
        how many answers were generated for it (more than 1: a repeat was generated again)."""
        token = self._authorise(request)
        key = request.path_params["key"]

        def look() -> dict[str, Any]:
            records = {}
            for info in self.config.contract.operations:
                found = self.idempotency.describe(scope_name(token, info.name, key))
                if found is not None:
                    records[info.name] = found
            return records

        return JSONResponse({"key": key, "operations": await run_in_threadpool(look)})

    async def debug_store(self, request: Request) -> Response:
        """The store's buckets (bytes used, entries, bound, entries evicted before expiry) and
        whether it is synced to disk (`durable`)."""
        self._authorise(request)
        buckets = [self.images.bucket, self.idempotency.bucket]

        def look() -> dict[str, Any]:
            return {usage.bucket: vars(usage) for usage in (bucket.usage() for bucket in buckets)}

        return JSONResponse(
            {
                "pid": os.getpid(),
                "admitted": self.pool.admitted,
                "durable": self.data.durable,
                "buckets": await run_in_threadpool(look),
            }
        )


class _EventStream(StreamingResponse):
    """A streamed answer that gives back its pool ticket and its idempotency claim when it ends,
    however it ends (completed, truncated on purpose, or the client gone).

    `start` paints the first event before the answer begins, so that an upload that cannot be
    decoded is an error answer, not a stream that breaks after its 200.
    """

    def __init__(
        self,
        state: _State,
        prepared: Prepared,
        info: OperationInfo,
        ticket: Ticket,
        claim: Claim | None,
        truncate_after: int | None,
    ) -> None:
        self._state = state
        self._job = prepared.job
        self._events = answers.event_names(info.stream_events)
        self._ticket = ticket
        self._claim = claim
        self._truncate_after = truncate_after
        self._completed = False
        self._spool = state.idempotency.spool() if claim is not None else None
        self._steps = [
            (index, partial)
            for index in range(self._job.n)
            for partial in [*range(self._job.partial_images), None]
        ]
        self._first = b""
        super().__init__(self._frames(), media_type="text/event-stream")

    async def start(self) -> None:
        """Paint the first event; on failure, give the claim up (the caller answers the error)."""
        try:
            self._first = await self._frame(*self._steps[0])
        except BaseException:
            await asyncio.shield(self._settle())
            raise

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._ticket.release()
            await asyncio.shield(self._settle())

    async def _frame(self, index: int, partial_index: int | None) -> bytes:
        return await self._state.pool.run(
            event_frame, self._job, index, partial_index, self._events, self._spool
        )

    async def _frames(self) -> AsyncIterator[bytes]:
        delay = self._state.config.stream_delay_s
        for sent, step in enumerate(self._steps):
            frame = self._first if sent == 0 else await self._frame(*step)
            if self._truncate_after is not None and sent >= self._truncate_after:
                yield frame[: len(frame) // 2]
                return
            yield frame
            if delay:
                await asyncio.sleep(delay)
        self._completed = True

    async def _settle(self) -> None:
        claim, records, spool = self._claim, self._state.idempotency, self._spool
        self._claim = self._spool = None  # once
        try:
            if claim is not None and self._completed and spool is not None:
                await run_in_threadpool(records.complete, claim, 200, "text/event-stream", None, spool)
            elif claim is not None:
                await run_in_threadpool(records.release, claim)
        finally:
            if spool is not None:
                with suppress(OSError):
                    spool.unlink()


def _media_of(info: OperationInfo, content_type: str) -> str:
    media = content_type.split(";")[0].strip().lower()
    if media not in (JSON, MULTIPART) or info.schema_for(media) is None:
        accepted = " or ".join(info.bodies) or "no body"
        raise ApiError(
            415, f"Send the body as {accepted}, not {media or 'nothing'}.", code="unsupported_media_type"
        )
    return media


def _idempotency_key(request: Request) -> str | None:
    key = request.headers.get("idempotency-key")
    if key is not None and not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY:
        raise invalid(
            f"The Idempotency-Key must have 1 to {MAX_IDEMPOTENCY_KEY} characters.", param="Idempotency-Key"
        )
    return key


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
