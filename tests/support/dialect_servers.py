"""Servers that answer the way real OpenAI-compatible servers depart from OpenAI's shape.

Each is a small ASGI app built from the server's documentation or source (cited on each), run on
loopback with `serving(...)`. They answer with real image bytes and record what they were sent,
so a test can check both sides.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from .images import png_bytes
from .recording_server import serving

PNG = png_bytes(48, 32, (30, 160, 90, 255))
PNG_B64 = base64.b64encode(PNG).decode()


@dataclass
class Seen:
    """One request a dialect server received."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class DialectServer:
    """A running dialect server: where it is and what it was sent."""

    origin: str = ""
    seen: list[Seen] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"{self.origin}/v1"


Handler = Callable[[Request, DialectServer], Any]


@contextmanager
def dialect_server(routes: dict[tuple[str, str], Handler], name: str) -> Iterator[DialectServer]:
    """Run a server whose routes are {(method, path): handler(request, state)} on loopback."""
    state = DialectServer()

    def route(path: str, method: str, handler: Handler) -> Route:
        async def endpoint(request: Request) -> Response:
            body = await request.body()
            state.seen.append(
                Seen(
                    request.method, request.url.path, dict(request.query_params), dict(request.headers), body
                )
            )
            answer = handler(request, state)
            return await answer if hasattr(answer, "__await__") else answer

        return Route(path, endpoint, methods=[method])

    app = Starlette(routes=[route(path, method, handler) for (method, path), handler in routes.items()])
    with serving(app, name) as origin:
        state.origin = origin
        yield state


def _sse(frames: list[str]) -> StreamingResponse:
    async def body() -> AsyncIterator[bytes]:
        for frame in frames:
            yield frame.encode()

    return StreamingResponse(body(), media_type="text/event-stream")


def _n(request_body: bytes) -> int:
    try:
        n = json.loads(request_body).get("n", 1)
    except ValueError:
        return 1
    return n if isinstance(n, int) and n > 0 else 1


# -- LocalAI ---------------------------------------------------------------------------------------
# mudler/LocalAI, core/http/endpoints/openai/image.go (ImageEndpoint): whatever the request,
# `return c.JSON(resp)`, one application/json body (so `stream` is ignored); each item is
# `{"url": baseURL + "/generated-images/" + name}` unless response_format is b64_json; the answer
# has an `id` besides `created` and `data`.


def localai() -> AbstractContextManager[DialectServer]:
    async def generations(request: Request, state: DialectServer) -> Response:
        body = json.loads(await request.body())
        b64 = body.get("response_format") == "b64_json"
        items = [
            {"b64_json": PNG_B64} if b64 else {"url": f"{state.origin}/generated-images/b64{index}.png"}
            for index in range(_n(await request.body()))
        ]
        return JSONResponse({"id": "3f1c", "created": int(time.time()), "data": items})

    def image_file(request: Request, state: DialectServer) -> Response:
        return Response(PNG, media_type="image/png")

    return dialect_server(
        {
            ("POST", "/v1/images/generations"): generations,
            ("GET", "/generated-images/{name}"): image_file,
        },
        "LocalAI-like server",
    )


# -- vLLM-Omni -------------------------------------------------------------------------------------
# vllm-project/vllm-omni, vllm_omni/entrypoints/openai/protocol/images.py: the edit stream's
# frames are `data:` lines only (no `event:`), of ImageEditARDeltaChunk (`"object":
# "image.edit.chunk", "type": "ar_delta"`, text of the reasoning stage), ImageEditImageChunk
# (`"type": "image"`, the images in `data`, with output_format, size, created, model) or
# ImageEditStreamError (`{"object": "error", "error": {...}}`), then `data: [DONE]`. Its
# generations answer JSON whatever `stream` says (its docs: streaming is for multi-stage edits).


def vllm_omni(*, fail: bool = False) -> AbstractContextManager[DialectServer]:
    def chunk(payload: dict[str, Any]) -> str:
        return f"data: {json.dumps(payload)}\n\n"

    def edits(request: Request, state: DialectServer) -> Response:
        common = {"created": int(time.time()), "model": "Qwen/Qwen-Image-Edit-2511"}
        frames = [
            chunk(
                {"object": "image.edit.chunk", "type": "ar_delta", "delta": "Planning", "index": 0, **common}
            ),
            chunk(
                {"object": "image.edit.chunk", "type": "ar_delta", "delta": " the edit", "index": 0, **common}
            ),
        ]
        if fail:
            error = {"message": "image generation failed", "type": "server_error", "code": 500}
            frames.append(chunk({"object": "error", "error": error, **common}))
        else:
            image = {"object": "image.edit.chunk", "type": "image", "data": [{"b64_json": PNG_B64}]}
            frames.append(chunk({**image, "output_format": "png", "size": "48x32", **common}))
        frames.append("data: [DONE]\n\n")
        return _sse(frames)

    async def generations(request: Request, state: DialectServer) -> Response:
        items = [{"b64_json": PNG_B64, "url": None, "revised_prompt": None}] * _n(await request.body())
        return JSONResponse(
            {"created": int(time.time()), "data": items, "output_format": "png", "size": "48x32"}
        )

    return dialect_server(
        {("POST", "/v1/images/edits"): edits, ("POST", "/v1/images/generations"): generations},
        "vLLM-Omni-like server",
    )


# -- Xinference ------------------------------------------------------------------------------------
# As issue 12 reports Xinference's edits stream (no copy of that code was at hand to confirm):
# `event: start`, `event: processing` (progress), then `event: complete` whose data is a whole
# images answer. Its generations' default `url` is a path on the server's own disk.


def xinference(image_path: str = "/tmp/xinference/image/1d2c.png") -> AbstractContextManager[DialectServer]:
    def edits(request: Request, state: DialectServer) -> Response:
        answer = {"created": int(time.time()), "data": [{"b64_json": PNG_B64}]}
        return _sse(
            [
                f"event: start\ndata: {json.dumps({'status': 'start'})}\n\n",
                f"event: processing\ndata: {json.dumps({'progress': 0.5})}\n\n",
                f"event: complete\ndata: {json.dumps(answer)}\n\n",
            ]
        )

    def generations(request: Request, state: DialectServer) -> Response:
        return JSONResponse({"created": int(time.time()), "data": [{"url": image_path, "b64_json": None}]})

    return dialect_server(
        {("POST", "/v1/images/edits"): edits, ("POST", "/v1/images/generations"): generations},
        "Xinference-like server",
    )


# -- openedai-images -------------------------------------------------------------------------------
# As issue 12 reports openedai-images in front of SD WebUI: `url` is a `data:image/png;base64,...`
# URL carrying the image itself.


def openedai_images() -> AbstractContextManager[DialectServer]:
    def generations(request: Request, state: DialectServer) -> Response:
        return JSONResponse(
            {"created": int(time.time()), "data": [{"url": f"data:image/png;base64,{PNG_B64}"}]}
        )

    return dialect_server({("POST", "/v1/images/generations"): generations}, "openedai-images-like server")


# -- Servers that answer 200 with nothing, or stream what no one knows ------------------------------


def empty_answers() -> AbstractContextManager[DialectServer]:
    def generations(request: Request, state: DialectServer) -> Response:
        return JSONResponse(
            {"created": int(time.time()), "data": []}, headers={"x-request-id": "req-empty-1"}
        )

    return dialect_server({("POST", "/v1/images/generations"): generations}, "empty-answer server")


def unknown_stream() -> AbstractContextManager[DialectServer]:
    def generations(request: Request, state: DialectServer) -> Response:
        return _sse(
            [
                f"event: image.progress\ndata: {json.dumps({'type': 'image.progress', 'step': step})}\n\n"
                for step in range(3)
            ]
            + [f"data: {json.dumps({'type': 'image.final', 'png': PNG_B64})}\n\n", "data: [DONE]\n\n"]
        )

    return dialect_server({("POST", "/v1/images/generations"): generations}, "unknown-stream server")
