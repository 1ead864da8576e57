"""The routes of the files and batches operations (the image operations are app.py's).

Which operation of the contract is which is bound once, by the client's FILE_OPERATION_OF and
BATCH_OPERATION_OF; the bodies are checked against the contract's schemas as any other.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..batches import BATCH_OPERATION_OF
from ..contract import OperationInfo
from ..contract.operations import JSON, MULTIPART
from ..files import FILE_OPERATION_OF
from .batches import BatchStore
from .errors import ApiError, invalid
from .files import FileStore, owner_of, upload_from_form
from .forms import parse_form
from .idempotency import Replay, scope_name
from .intake import json_body

if TYPE_CHECKING:
    from .app import _State

Handler = Callable[[Request, OperationInfo], Awaitable[Response]]


def resource_handlers(state: _State) -> dict[str, Handler]:
    """operationId -> handler, for the files and batches operations."""
    routes = Resources(state)
    by_method: dict[str, Handler] = {
        FILE_OPERATION_OF["upload"]: routes.upload_file,
        FILE_OPERATION_OF["list"]: routes.list_files,
        FILE_OPERATION_OF["get"]: routes.get_file,
        FILE_OPERATION_OF["delete"]: routes.delete_file,
        FILE_OPERATION_OF["content"]: routes.file_content,
        BATCH_OPERATION_OF["create"]: routes.create_batch,
        BATCH_OPERATION_OF["list"]: routes.list_batches,
        BATCH_OPERATION_OF["get"]: routes.get_batch,
        BATCH_OPERATION_OF["cancel"]: routes.cancel_batch,
    }
    return by_method


class Resources:
    """The handlers, over the state's file and batch stores."""

    def __init__(self, state: _State) -> None:
        self.state = state

    @property
    def files(self) -> FileStore:
        return self.state.files

    @property
    def batches(self) -> BatchStore:
        return self.state.batches

    # -- files --------------------------------------------------------------------------------

    async def upload_file(self, request: Request, info: OperationInfo) -> Response:
        token = self.state._authorise(request)
        content_type = request.headers.get("content-type", "")
        if not content_type.lower().startswith(MULTIPART):
            raise ApiError(415, f"Upload the file as {MULTIPART}.", code="unsupported_media_type")
        raw = await self.state.read_body(request)
        schema = info.bodies[MULTIPART]
        binary = next(field.name for field in self.state.config.contract.fields(schema) if field.binary)
        limits = self.state.config.limits
        form = await self.state.pool.run(
            parse_form, content_type, raw, max_files=2, max_fields=limits.max_fields
        )
        upload, purpose, ttl = upload_from_form(form, self._check_json, schema, binary)
        fingerprint = hashlib.sha256(upload.data + purpose.encode()).hexdigest()

        def store() -> dict[str, Any]:
            name = upload.filename or "file"
            kind = upload.content_type or "application/octet-stream"
            return self.files.add(owner_of(token), name, purpose, upload.data, kind, ttl)

        return await self._once(request, token, info, fingerprint, store)

    async def list_files(self, request: Request, info: OperationInfo) -> Response:
        token = self.state._authorise(request)
        query = request.query_params
        order = query.get("order", "desc")
        if order not in ("asc", "desc"):
            raise invalid("'order' is 'asc' or 'desc'.", param="order")
        limit = _limit(query.get("limit"), 10000, 10000)
        page = await run_in_threadpool(
            self.files.page,
            owner_of(token),
            purpose=query.get("purpose"),
            limit=limit,
            order=order,
            after=query.get("after"),
        )
        return JSONResponse(page)

    async def get_file(self, request: Request, info: OperationInfo) -> Response:
        token = self.state._authorise(request)
        found = await run_in_threadpool(self.files.describe, owner_of(token), request.path_params["file_id"])
        return JSONResponse(found)

    async def delete_file(self, request: Request, info: OperationInfo) -> Response:
        token = self.state._authorise(request)
        deleted = await run_in_threadpool(self.files.delete, owner_of(token), request.path_params["file_id"])
        return JSONResponse(deleted)

    async def file_content(self, request: Request, info: OperationInfo) -> Response:
        token = self.state._authorise(request)
        stored = await run_in_threadpool(self.files.read, owner_of(token), request.path_params["file_id"])
        # Bytes as they were uploaded, under the one type the contract documents for them.
        return Response(stored.data, media_type=(info.answer_types or ("application/octet-stream",))[0])

    # -- batches ------------------------------------------------------------------------------

    async def create_batch(self, request: Request, info: OperationInfo) -> Response:
        token = self.state._authorise(request)
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media != JSON:
            raise ApiError(415, f"Send the batch as {JSON}.", code="unsupported_media_type")
        raw = await self.state.read_body(request)
        body = json_body(raw, self.state.config.limits.max_json_depth)
        checked = self._check_json(info.bodies[JSON], body)  # RequestInvalid: the app's 400
        endpoints = self.state.batch_endpoints
        base_url = str(request.base_url).rstrip("/")
        fingerprint = hashlib.sha256(json.dumps(checked, sort_keys=True).encode()).hexdigest()

        def create() -> dict[str, Any]:
            return self.batches.create(owner_of(token), checked, base_url, endpoints)

        answer = await self._once(request, token, info, fingerprint, create)
        self.state.runner.wake()
        return answer

    async def list_batches(self, request: Request, info: OperationInfo) -> Response:
        token = self.state._authorise(request)
        self.state.runner.wake()
        limit = _limit(request.query_params.get("limit"), 20, 100)
        page = await run_in_threadpool(
            self.batches.page, owner_of(token), limit=limit, after=request.query_params.get("after")
        )
        return JSONResponse(page)

    async def get_batch(self, request: Request, info: OperationInfo) -> Response:
        token = self.state._authorise(request)
        self.state.runner.wake()  # a restarted server finishes its batches once someone asks
        found = await run_in_threadpool(
            self.batches.describe, owner_of(token), request.path_params["batch_id"]
        )
        return JSONResponse(found)

    async def cancel_batch(self, request: Request, info: OperationInfo) -> Response:
        token = self.state._authorise(request)
        self.state.runner.wake()
        found = await run_in_threadpool(self.batches.cancel, owner_of(token), request.path_params["batch_id"])
        return JSONResponse(found)

    # -- shared -------------------------------------------------------------------------------

    def _check_json(self, schema: str, body: Any) -> dict[str, Any]:
        return self.state.config.contract.validator.check_json(schema, body)

    async def _once(
        self,
        request: Request,
        token: str,
        info: OperationInfo,
        fingerprint: str,
        make: Callable[[], dict[str, Any]],
    ) -> Response:
        """Make the resource once per Idempotency-Key (a repeat gets the first answer)."""
        key = self.state.idempotency_key(request)

        def answer() -> bytes:
            return json.dumps(make()).encode()

        if not key:
            return Response(await run_in_threadpool(answer), 200, media_type=JSON)
        name = scope_name(token, info.name, key)
        outcome = await self.state.idempotency.once(name, fingerprint, answer, run_in_threadpool)
        if isinstance(outcome, Replay):
            return Response(outcome.body, outcome.status, media_type=outcome.media_type)
        return Response(outcome, 200, media_type=JSON)


def _limit(given: str | None, default: int, maximum: int) -> int:
    if given is None:
        return default
    if not given.isdigit() or not 1 <= int(given) <= maximum:
        raise invalid(f"'limit' is a whole number from 1 to {maximum}.", param="limit")
    return int(given)
