"""A real HTTP server on 127.0.0.1 that records each request and answers as a test tells it.

It runs uvicorn in a background thread on a free port and stops when the `with` block ends.
Multipart bodies are parsed by python-multipart (a real parser, not the generated code under
test), part by part, with each part's headers and exact bytes.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from imagegen.conformance.multipart import parse_form

START_TIMEOUT_S = 10.0


@dataclass
class Part:
    """One part of a multipart body."""

    name: str
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class Recorded:
    """One request as the server saw it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def parts(self) -> list[Part]:
        return parse_multipart(self.body, self.headers["content-type"])


@dataclass
class Reply:
    """What the server answers to the next request."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class RecordingServer:
    """Holds the recorded requests and the queue of replies of a running server."""

    base_url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    replies: deque[Reply] = field(default_factory=deque)

    def reply_json(self, payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> None:
        """Answer the next request with `payload` as JSON."""
        body = json.dumps(payload).encode()
        merged = {"content-type": "application/json", **(headers or {})}
        self.replies.append(Reply(status, body, merged))

    def reply_raw(self, body: bytes, status: int, content_type: str | None = None) -> None:
        """Answer the next request with exactly these bytes."""
        headers = {"content-type": content_type} if content_type else {}
        self.replies.append(Reply(status, body, headers))

    @property
    def last(self) -> Recorded:
        return self.requests[-1]


def parse_multipart(body: bytes, content_type: str) -> list[Part]:
    """Split a multipart/form-data body into its parts (python-multipart does the parsing)."""
    return [
        Part(name, filename, part_type, data)
        for name, filename, part_type, data in parse_form(body, content_type)
    ]


def _app(state: RecordingServer) -> ASGIApp:
    """Records every request, whatever its target (also absolute-form, as sent to a proxy)."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        body = await request.body()
        state.requests.append(Recorded(request.method, request.url.path, dict(request.headers), body))
        reply = state.replies.popleft() if state.replies else Reply(500, b"no reply queued")
        await Response(reply.body, status_code=reply.status, headers=reply.headers)(scope, receive, send)

    return app


@contextmanager
def serving(app: ASGIApp, name: str = "test-server") -> Iterator[str]:
    """Run `app` with uvicorn on a free loopback port for the block; yields http://127.0.0.1:PORT."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the {name} did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=START_TIMEOUT_S)


@contextmanager
def recording_server() -> Iterator[RecordingServer]:
    """Run a recording server on a free loopback port for the duration of the block."""
    state = RecordingServer()
    with serving(_app(state), "recording server") as origin:
        state.base_url = f"{origin}/v1"
        yield state
