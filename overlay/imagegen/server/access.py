"""Request ids, the worker that answered, and the access log: one line per request, without its
query string.

A query string can carry a secret (`?api_key=...`, a pre-signed download): the log keeps only the
path. uvicorn's own access log, which prints the query, is never turned on.
"""

from __future__ import annotations

import itertools
import logging
import os
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

ACCESS_LOGGER = "imagegen.server.access"
WORKER_HEADER = "x-imagegen-worker"
"""On every answer: the id of the worker process that answered (to tell workers apart)."""
access_logger = logging.getLogger(ACCESS_LOGGER)


class AccessMiddleware:
    """Gives every answer `x-request-id` and `x-imagegen-worker` headers and, when `log` is on,
    logs the request."""

    def __init__(self, app: ASGIApp, log: bool = False) -> None:
        self.app = app
        self.log = log
        self.worker = str(os.getpid()).encode()
        # Unique, not secret: a random prefix per process and a counter (os.urandom per request
        # is a system call that cost more than the rest of this middleware).
        self._prefix = f"req_{os.urandom(6).hex()}"
        self._numbers = itertools.count()  # next() on it is atomic, whichever thread asks

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = f"{self._prefix}{next(self._numbers):012x}"
        started = time.perf_counter()
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                    (WORKER_HEADER.encode(), self.worker),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if self.log:
                client = scope.get("client")
                where = f"{client[0]}:{client[1]}" if client else "-"
                access_logger.info(
                    '%s - "%s %s HTTP/%s" %s %.1f ms %s',
                    where,
                    scope.get("method", ""),
                    scope.get("path", ""),
                    scope.get("http_version", "1.1"),
                    status or "-",
                    1000 * (time.perf_counter() - started),
                    request_id,
                )
