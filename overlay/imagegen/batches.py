"""`client.batches`: OpenAI's Batch API for image requests (create, get, cancel, list).

    with ImagesClient() as client:
        requests = client.files.upload("requests.jsonl", purpose="batch")
        batch = client.batches.create(requests.id, endpoint="/v1/images/generations")
        batch = client.batches.get(batch.id)            # poll until batch.done
        results = client.files.content(batch.output_file_id)

`imagegen batch --engine openai-batch` (imagegen.batch) drives all of this, with resume.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Unpack

from .calls import Call
from .errors import InvalidResponseError
from .resources import (
    AsyncResource,
    Page,
    Resource,
    ResourceCallOptions,
    SyncResource,
    every_item,
    every_item_async,
    mapping_of,
    optional,
    page_of,
    whole_number,
)

if TYPE_CHECKING:
    import httpx

# The one place the batches methods are bound to operations of the contract (by operationId).
BATCH_OPERATION_OF = {
    "create": "createBatch",
    "list": "listBatches",
    "get": "retrieveBatch",
    "cancel": "cancelBatch",
}
ENDED = frozenset({"completed", "failed", "expired", "cancelled"})
"""The statuses a batch ends in."""


@dataclass(frozen=True)
class RequestCounts:
    """How many requests a batch has, and how many ended each way."""

    total: int = 0
    completed: int = 0
    failed: int = 0


@dataclass(frozen=True)
class BatchObject:
    """A batch: where it is, and its files."""

    id: str
    status: str
    endpoint: str
    input_file_id: str
    output_file_id: str | None = None
    error_file_id: str | None = None
    created_at: int = 0
    request_counts: RequestCounts = field(default_factory=RequestCounts)
    errors: list[Mapping[str, Any]] = field(default_factory=list)
    """Why it failed validation, line by line ({code, message, param, line})."""
    metadata: Mapping[str, str] = field(default_factory=dict)
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def done(self) -> bool:
        """Whether the batch has ended (completed, failed, expired or cancelled)."""
        return self.status in ENDED

    @classmethod
    def from_answer(cls, data: Mapping[str, Any]) -> BatchObject:
        """Read a batch object answer (InvalidResponseError when it has no id or status)."""
        batch_id, status = data.get("id"), data.get("status")
        if not isinstance(batch_id, str) or not isinstance(status, str):
            raise InvalidResponseError(f"the server's batch object has no id or status: {dict(data)!r:.200}")
        counts = mapping_of(data.get("request_counts"))
        listed = mapping_of(data.get("errors")).get("data")
        listed = listed if isinstance(listed, list) else []

        def text(key: str) -> str | None:
            value = data.get(key)
            return value if isinstance(value, str) else None

        metadata = data.get("metadata")
        return cls(
            id=batch_id,
            status=status,
            endpoint=text("endpoint") or "",
            input_file_id=text("input_file_id") or "",
            output_file_id=text("output_file_id"),
            error_file_id=text("error_file_id"),
            created_at=whole_number(data.get("created_at")) or 0,
            request_counts=RequestCounts(
                *(whole_number(counts.get(key)) or 0 for key in ("total", "completed", "failed"))
            ),
            errors=[item for item in listed if isinstance(item, Mapping)],
            metadata={str(k): str(v) for k, v in metadata.items()} if isinstance(metadata, Mapping) else {},
            raw=dict(data),
        )


BatchPage = Page[BatchObject]
"""One page of `batches.list`."""


class _BatchesCore(Resource):
    """Building the requests and reading the answers, for both twins."""

    OPERATION_OF = BATCH_OPERATION_OF

    def _create_call(
        self, input_file_id: str, endpoint: str, completion_window: str, metadata: Mapping[str, str] | None
    ) -> Call:
        from .calls import json_call

        contract = self._client._contract
        operation = contract.operation(BATCH_OPERATION_OF["create"])
        body: dict[str, Any] = {
            "input_file_id": input_file_id,
            "endpoint": endpoint,
            "completion_window": completion_window,
        }
        if metadata is not None:
            body["metadata"] = dict(metadata)
        options = self._client.options
        return json_call(contract, operation, body, options.organization, options.project)

    def _batch_call(self, method: str, batch_id: str) -> Call:
        return self._id_call(method, "batch", batch_id=batch_id)

    def _list_call(self, limit: int | None, after: str | None) -> Call:
        return self._call("list", **optional(limit=limit, after=after))

    def _batch(self, response: httpx.Response) -> BatchObject:
        return BatchObject.from_answer(self._json(response))

    def _page(self, response: httpx.Response) -> BatchPage:
        return page_of(self._json(response), BatchObject.from_answer, "batches")


class Batches(_BatchesCore, SyncResource):
    """The batches of `ImagesClient`: create, get, cancel, list."""

    def create(
        self,
        input_file_id: str,
        *,
        endpoint: str,
        completion_window: str = "24h",
        metadata: Mapping[str, str] | None = None,
        **options: Unpack[ResourceCallOptions],
    ) -> BatchObject:
        """Run the requests of `input_file_id` (a JSONL file uploaded with purpose "batch") at
        `endpoint` ("/v1/images/generations" or "/v1/images/edits")."""
        call = self._create_call(input_file_id, endpoint, completion_window, metadata)
        return self._batch(self._send(call, options))

    def get(self, batch_id: str, **options: Unpack[ResourceCallOptions]) -> BatchObject:
        """Batch `batch_id` as it is now."""
        return self._batch(self._send(self._batch_call("get", batch_id), options))

    def cancel(self, batch_id: str, **options: Unpack[ResourceCallOptions]) -> BatchObject:
        """Cancel batch `batch_id` (it is `cancelling`, then `cancelled`)."""
        return self._batch(self._send(self._batch_call("cancel", batch_id), options))

    def list(
        self, *, limit: int | None = None, after: str | None = None, **options: Unpack[ResourceCallOptions]
    ) -> BatchPage:
        """One page of batches, newest first; the next is `list(after=page.last_id)`."""
        return self._page(self._send(self._list_call(limit, after), options))

    def iterate(self, *, limit: int | None = None, max_pages: int = 1000) -> Iterator[BatchObject]:
        """Every batch, page after page (`limit` a page, at most `max_pages` requests)."""
        return every_item(lambda after: self.list(limit=limit, after=after), max_pages)


class AsyncBatches(_BatchesCore, AsyncResource):
    """The batches of `AsyncImagesClient`: the same methods as Batches, awaited."""

    async def create(
        self,
        input_file_id: str,
        *,
        endpoint: str,
        completion_window: str = "24h",
        metadata: Mapping[str, str] | None = None,
        **options: Unpack[ResourceCallOptions],
    ) -> BatchObject:
        """Run the requests of `input_file_id` at `endpoint`; see Batches.create."""
        call = self._create_call(input_file_id, endpoint, completion_window, metadata)
        return self._batch(await self._send(call, options))

    async def get(self, batch_id: str, **options: Unpack[ResourceCallOptions]) -> BatchObject:
        """Batch `batch_id` as it is now."""
        return self._batch(await self._send(self._batch_call("get", batch_id), options))

    async def cancel(self, batch_id: str, **options: Unpack[ResourceCallOptions]) -> BatchObject:
        """Cancel batch `batch_id`."""
        return self._batch(await self._send(self._batch_call("cancel", batch_id), options))

    async def list(
        self, *, limit: int | None = None, after: str | None = None, **options: Unpack[ResourceCallOptions]
    ) -> BatchPage:
        """One page of batches; see Batches.list."""
        return self._page(await self._send(self._list_call(limit, after), options))

    def iterate(self, *, limit: int | None = None, max_pages: int = 1000) -> AsyncIterator[BatchObject]:
        """Every batch, page after page: `async for batch in ...`; see Batches.iterate."""
        return every_item_async(lambda after: self.list(limit=limit, after=after), max_pages)


__all__ = ["AsyncBatches", "BatchObject", "BatchPage", "Batches", "RequestCounts"]
