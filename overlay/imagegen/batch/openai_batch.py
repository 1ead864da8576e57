"""The openai-batch engine: the server's Batch API runs the requests; this writes the same folder.

The pending requests are cut into chunks of one endpoint each, within the Batch API's limits
(50,000 lines and 200 MB a file); each chunk is written as JSONL, uploaded (purpose `batch`),
made a batch (`completion_window: 24h`) and polled, with a growing interval, until it ends; its
output and error files are then read line by line into images and results, as the local engine
writes them. Every step is recorded in the state as it happens (the file id, the batch id, each
result), so a run killed at any point resumes where it was: a batch already created is polled,
not created again.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import inspect
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..client import AsyncImagesClient
from ..errors import ImagesError, InvalidResponseError
from ..resources import mapping_of
from .local import BatchResult, OnResult
from .outputs import Views, failure_line, success_line
from .progress import Progress, Snapshot
from .saver import ImageSaver
from .state import DONE, FAILED, BatchState, Pending

MAX_LINES = 50_000
MAX_BYTES = 200 * 1024 * 1024
COMPLETION_WINDOW = "24h"
MAX_POLL_S = 60.0


@dataclass
class OpenAIBatchRun:
    """One run of the openai-batch engine over the pending requests of a state."""

    state: BatchState
    folder: Path
    client: AsyncImagesClient
    views: Views
    progress: Progress
    on_result: OnResult | None = None
    poll_interval_s: float = 10.0
    max_lines: int = MAX_LINES
    max_bytes: int = MAX_BYTES
    _batches: list[str] = field(default_factory=list)
    _saver: ImageSaver = field(init=False)

    def __post_init__(self) -> None:
        self._saver = ImageSaver(self.folder)

    async def run(self) -> dict[str, Any]:
        """Submit what is not submitted, wait for every batch, write every result."""
        self._make_chunks()
        not_run = 0
        for chunk in self.state.chunks():
            if chunk["status"] == "read":
                continue
            resumed = chunk["batch_id"]
            batch_id = resumed or await self._submit(chunk)
            self._batches.append(batch_id)
            self.progress.say(
                f"batch {batch_id} {'resumed' if resumed else 'created'} for {chunk['endpoint']}; "
                f"`imagegen batch status {batch_id}` shows it, `imagegen batch cancel {batch_id}` stops it"
            )
        for chunk in self.state.chunks():
            if chunk["status"] == "read":
                continue
            batch = await self._wait(chunk["batch_id"])
            await self._read(chunk["chunk"], batch)
            not_run += self.state.release_chunk(chunk["chunk"])
            self.state.update_chunk(chunk["chunk"], status="read")
        return {"batches": self._batches, "not_run": not_run}

    # -- submitting -------------------------------------------------------------------------------

    def _make_chunks(self) -> None:
        for url in self.state.unassigned_urls():
            while True:
                rows = self.state.unassigned(url, self.max_lines)
                if not rows:
                    break
                size, taken = 0, list[int]()
                for row in rows:
                    size += len(_line(row)) + 1
                    if taken and size > self.max_bytes:
                        break
                    taken.append(row.seq)
                self.state.new_chunk(url, taken)

    async def _submit(self, chunk: dict[str, Any]) -> str:
        number = chunk["chunk"]
        requests = self.state.chunk_requests(number)
        data = b"".join(_line(row) + b"\n" for row in requests)
        digest = hashlib.sha256(data).hexdigest()[:32]
        file_id = chunk["file_id"]
        if file_id is None:
            uploaded = await self.client.files.upload(
                data,
                purpose="batch",
                filename=f"batch-{number}.jsonl",
                idempotency_key=f"imagegen-upload-{digest}",
            )
            file_id = uploaded.id
            self.state.update_chunk(number, file_id=file_id, status="uploaded")
        batch = await self.client.batches.create(
            file_id,
            endpoint=chunk["endpoint"],
            completion_window=COMPLETION_WINDOW,
            metadata={"imagegen_chunk": str(number)},
            idempotency_key=f"imagegen-batch-{digest}",
        )
        self.state.update_chunk(number, batch_id=batch.id, status=batch.status)
        return batch.id

    # -- waiting ----------------------------------------------------------------------------------

    async def _wait(self, batch_id: str) -> Any:
        interval = self.poll_interval_s
        counts = self.state.counts()
        while True:
            batch = await self.client.batches.get(batch_id)
            progress = batch.request_counts
            self.progress.update(
                Snapshot(
                    counts.total,
                    counts.done + progress.completed,
                    counts.failed + progress.failed,
                    max(progress.total - progress.completed - progress.failed, 0),
                    0,
                    counts.done + counts.failed,
                )
            )
            if batch.done:
                return batch
            await asyncio.sleep(interval)
            interval = min(interval * 1.5, MAX_POLL_S)

    # -- reading the results ------------------------------------------------------------------------

    async def _read(self, chunk: int, batch: Any) -> None:
        self.state.update_chunk(
            chunk, status=batch.status, output_file_id=batch.output_file_id, error_file_id=batch.error_file_id
        )
        for file_id in (batch.output_file_id, batch.error_file_id):
            if file_id:
                content = await self.client.files.content(file_id)
                for text in content.decode("utf-8").splitlines():
                    if text.strip():
                        await self._one(json.loads(text))
        if batch.status == "failed":
            await self._validation_failed(chunk, batch)

    async def _one(self, line: dict[str, Any]) -> None:
        custom_id = line.get("custom_id")
        found = self.state.by_custom_id(custom_id) if isinstance(custom_id, str) else None
        if not isinstance(custom_id, str) or found is None or found[1] != "pending":
            return  # not ours, or already written by a run that was killed after it
        seq = found[0]
        response = mapping_of(line.get("response"))
        status, body, request_id = (
            response.get("status_code"),
            response.get("body"),
            response.get("request_id"),
        )
        if status == 200 and isinstance(body, dict):
            try:
                images = await self._images(body)
            except ImagesError as problem:
                await self._failed(seq, custom_id, None, None, None, "invalid_image", str(problem))
                return
            names = await self._saver.save(custom_id, images)
            result = success_line(custom_id, 200, request_id, body, names)
            self.state.finish(seq, DONE, result)
            self.views.append(DONE, result)
            await self._tell(BatchResult(custom_id, DONE, [self.folder / name for name in names], 200))
            return
        reported = mapping_of(line.get("error"))
        message = reported.get("message") or mapping_of(mapping_of(body).get("error")).get("message")
        code = str(reported.get("code") or "batch_request_failed")
        text = str(message or f"the batch answered {status}")
        await self._failed(
            seq, custom_id, status if isinstance(status, int) else None, request_id, body, code, text
        )

    async def _images(self, body: dict[str, Any]) -> list[bytes]:
        images = []
        for index, item in enumerate(body.get("data") or []):
            if isinstance(item, dict) and isinstance(item.get("b64_json"), str):
                try:
                    images.append(base64.b64decode(item["b64_json"], validate=True))
                except (binascii.Error, ValueError):
                    raise InvalidResponseError(
                        f"image {index} of the batch's answer is not valid base64"
                    ) from None
            elif isinstance(item, dict) and isinstance(item.get("url"), str):
                images.append(await self.client._download(item["url"], index))
        if not images:
            raise InvalidResponseError("the batch's answer has no images")
        return images

    async def _validation_failed(self, chunk: int, batch: Any) -> None:
        requests = self.state.chunk_requests(chunk)
        for error in batch.errors:
            line = error.get("line")
            if isinstance(line, int) and 1 <= line <= len(requests):
                row = requests[line - 1]
                await self._failed(
                    row.seq, row.custom_id, None, None, None, str(error.get("code") or "invalid_request"),
                    str(error.get("message") or "the Batch API refused this line"),
                )  # fmt: skip

    async def _failed(
        self,
        seq: int,
        custom_id: str,
        status: int | None,
        request_id: Any,
        body: Any,
        code: str,
        message: str,
    ) -> None:
        line = failure_line(
            custom_id, status=status, request=request_id, body=body, code=code, message=message
        )
        self.state.finish(seq, FAILED, line)
        self.views.append(FAILED, line)
        await self._tell(BatchResult(custom_id, FAILED, [], status, message))

    async def _tell(self, result: BatchResult) -> None:
        if self.on_result is not None:
            answer = self.on_result(result)
            if inspect.isawaitable(answer):
                await answer


def _line(row: Pending) -> bytes:
    """The input line of a request, as the Batch API reads it."""
    line = {"custom_id": row.custom_id, "method": "POST", "url": row.url, "body": row.body}
    return json.dumps(line, ensure_ascii=False, separators=(",", ":")).encode()
