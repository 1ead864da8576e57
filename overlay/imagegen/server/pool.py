"""Decoding and painting off the event loop, bounded: a few threads, a short queue, then 503.

Each worker process has one pool. A request is admitted (given a ticket) before its body is
read and keeps it until its answer is sent, so at most `jobs + queue` requests of a process hold
a body, decoded images or a painting at once; the next one is answered at once with 503 and
`Retry-After`. Only `jobs` of them run CPU work (in threads: Pillow releases the GIL while it
decodes, draws and encodes, so the event loop keeps answering `/health` and other requests).
"""

from __future__ import annotations

import asyncio
import functools
import math
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import ParamSpec, TypeVar

from .errors import ApiError

P = ParamSpec("P")
T = TypeVar("T")


class Ticket:
    """An admitted request's place in the pool; `release` (or leaving the `with`) gives it back."""

    def __init__(self, pool: WorkPool) -> None:
        self._pool = pool
        self._held = True

    def release(self) -> None:
        """Give the place back (again is harmless)."""
        if self._held:
            self._held = False
            self._pool._leave()

    def __enter__(self) -> Ticket:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.release()


class WorkPool:
    """At most `jobs` CPU tasks at once in threads, `jobs + queue` admitted requests in all."""

    def __init__(self, jobs: int, queue: int, retry_after_s: float) -> None:
        if jobs < 1 or queue < 0:
            raise ValueError(f"a pool needs at least 1 job and a queue of 0 or more, not {jobs} and {queue}")
        self.jobs = jobs
        self.capacity = jobs + queue
        self.retry_after = str(max(1, math.ceil(retry_after_s)))
        self._executor = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="imagegen-work")
        self._admitted = 0
        self._lock = threading.Lock()

    @property
    def admitted(self) -> int:
        """Requests holding a ticket now."""
        return self._admitted

    def admit(self) -> Ticket:
        """A ticket for one request; a 503 with Retry-After when the pool is full."""
        with self._lock:
            if self._admitted >= self.capacity:
                raise ApiError(
                    503,
                    f"The server is busy ({self.capacity} requests in progress or waiting); "
                    f"retry after {self.retry_after} s.",
                    code="server_busy",
                    headers={"Retry-After": self.retry_after},
                )
            self._admitted += 1
        return Ticket(self)

    async def run(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`function(*args, **kwargs)` in one of the pool's threads."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(function, *args, **kwargs))

    def close(self) -> None:
        """Let the threads end once their work is done."""
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _leave(self) -> None:
        with self._lock:
            self._admitted -= 1
