"""The local engine: the batch's requests sent from this machine, many at a time.

Each pending request passes the Pacer (adaptive concurrency, imagegen.batch.pacing), is sent with
its own Idempotency-Key and no retries of the client's own, and is retried here: 429 and 503 slow
the whole batch down (and wait their Retry-After), other transient failures (408, 409, 5xx, a
dropped connection, a timeout) are retried with backoff, up to `max_attempts` in all; any other
answer is final. A result is committed to the state only after its images are on disk.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..client import AsyncImagesClient
from ..errors import APIConnectionError, APIStatusError, ImagesError, StreamError
from ..results import AsyncImagesResult
from ..retry import RetryPolicy
from .outputs import Views, failure_line, success_line
from .pacing import Pacer
from .progress import Progress, Snapshot
from .saver import ImageSaver
from .state import DONE, FAILED, BatchState, Pending

THROTTLING = frozenset({429, 503})


@dataclass(frozen=True)
class BatchResult:
    """What became of one request: given to `on_result` as it happens."""

    custom_id: str
    status: str
    """`done`, or `failed` for good."""
    files: list[Path] = field(default_factory=list)
    """The saved images, in order."""
    status_code: int | None = None
    error: str | None = None


OnResult = Callable[[BatchResult], Awaitable[None] | None]


@dataclass
class LocalRun:
    """One run of the local engine over the pending requests of a state."""

    state: BatchState
    folder: Path
    client: AsyncImagesClient
    pacer: Pacer
    views: Views
    progress: Progress
    max_attempts: int = 6
    on_result: OnResult | None = None
    _policy: RetryPolicy = field(default_factory=lambda: RetryPolicy(max_retries=0))
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _saver: ImageSaver = field(init=False)

    def __post_init__(self) -> None:
        self._saver = ImageSaver(self.folder)

    async def run(self) -> None:
        """Send every pending request; return when each has a result."""
        counts = self.state.counts()
        self._total, self._done, self._failed = counts.total, counts.done, counts.failed
        self._started_done = counts.done + counts.failed
        try:
            for pending in self.state.all_pending():
                await self.pacer.acquire()
                task = asyncio.create_task(self._one(pending))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
                self._show()
            while self._tasks:
                await asyncio.gather(*list(self._tasks))
        finally:
            for task in list(self._tasks):
                task.cancel()
            self._show()

    async def _one(self, pending: Pending) -> None:
        attempt = pending.attempts
        holding = True  # the Pacer slot acquired before this task started
        while True:
            attempt += 1
            if not holding:
                await self.pacer.acquire()
            holding = False
            try:
                result = await self.client.request(
                    pending.operation_id,
                    body=pending.body,
                    idempotency_key=pending.idempotency_key,
                    max_retries=0,
                )
                assert isinstance(result, AsyncImagesResult)  # the lines were checked: none streams
                images = [await image.bytes() for image in result.images]
            except APIStatusError as error:
                if error.status_code in THROTTLING and attempt < self.max_attempts:
                    retry_after = self._policy.delay_s(attempt - 1, error.headers)
                    self.pacer.release("throttled", retry_after)
                    await asyncio.sleep(retry_after)
                    continue
                self.pacer.release("failed")
                if self._policy.retries_error(error) and attempt < self.max_attempts:
                    await asyncio.sleep(self._backoff(attempt, error.headers))
                    continue
                await self._finish_failed(pending, error.status_code, error.request_id, error.body, error)
                return
            except (APIConnectionError, StreamError) as error:
                self.pacer.release("failed")
                if attempt < self.max_attempts:
                    await asyncio.sleep(self._backoff(attempt))
                    continue
                await self._finish_failed(pending, None, None, None, error)
                return
            except ImagesError as error:  # an answer that is not images: asking again would not help
                self.pacer.release("failed")
                await self._finish_failed(pending, None, None, None, error)
                return
            try:
                names = await self._saver.save(pending.custom_id, images)
                line = success_line(
                    pending.custom_id, result.response.status_code, result.request_id, result.body, names
                )
                self._commit(pending, DONE, line)
            finally:
                # Only now: a slot given back before its images are written would let answers
                # pile up in memory whenever the disk is slower than the server.
                self.pacer.release("ok")
            await self._tell(
                BatchResult(pending.custom_id, DONE, [self.folder / name for name in names], 200)
            )
            return

    async def _finish_failed(
        self, pending: Pending, status: int | None, request_id: str | None, body: Any, error: ImagesError
    ) -> None:
        code = getattr(error, "code", None) or type(error).__name__
        message = getattr(error, "message", None) or str(error)
        line = failure_line(
            pending.custom_id,
            status=status,
            request=request_id,
            body=_json_body(body),
            code=str(code),
            message=message,
        )
        self._commit(pending, FAILED, line)
        await self._tell(BatchResult(pending.custom_id, FAILED, [], status, message))

    def _commit(self, pending: Pending, status: str, line: dict[str, Any]) -> None:
        self.state.finish(pending.seq, status, line)
        self.views.append(status, line)
        if status == DONE:
            self._done += 1
        else:
            self._failed += 1
        self._show()

    async def _tell(self, result: BatchResult) -> None:
        if self.on_result is not None:
            answer = self.on_result(result)
            if inspect.isawaitable(answer):
                await answer

    def _backoff(self, attempt: int, headers: Any = None) -> float:
        return self._policy.delay_s(attempt - 1, headers)

    def _show(self) -> None:
        self.progress.update(
            Snapshot(
                self._total,
                self._done,
                self._failed,
                self.pacer.in_flight,
                self.pacer.concurrency,
                self._started_done,
            )
        )


def _json_body(body: Any) -> Any:
    if isinstance(body, bytes | bytearray):
        import json

        try:
            return json.loads(body)
        except ValueError:
            return body.decode("utf-8", "replace")[:2000]
    return body


__all__ = ["BatchResult", "LocalRun", "OnResult"]
