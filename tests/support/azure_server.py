"""A loopback server that answers only as Azure OpenAI does: deployment routes, api-version, api-key.

From the Azure OpenAI REST reference (learn.microsoft.com/azure/ai-services/openai/reference,
"Image generation" and "Image edit"): `POST {endpoint}/openai/deployments/{deployment-id}/images/
generations?api-version=...` (and `/images/edits`), authenticated by an `api-key` header or
`Authorization: Bearer` with an Entra ID token; without api-version, or on any other path, the
answer is 404 `{"error": {"code": "404", "message": "Resource not found"}}`; a wrong key is 401.
Answers carry Azure's `content_filter_results` per image and `prompt_filter_results`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from .dialect_servers import PNG, PNG_B64, Seen
from .recording_server import serving

API_VERSION = "2025-04-01-preview"
FILTERS = {
    "hate": {"filtered": False, "severity": "safe"},
    "violence": {"filtered": False, "severity": "safe"},
}


@dataclass
class AzureServer:
    """A running Azure-like server: its endpoint (no /openai), what it was sent, what it accepts."""

    endpoint: str = ""
    key: str = "azure-key-0f3b7c"
    tokens: set[str] = field(default_factory=set)
    storage: str = ""
    """Where image URLs redirect to (another origin), when set."""
    seen: list[Seen] = field(default_factory=list)


def _not_found() -> JSONResponse:
    return JSONResponse({"error": {"code": "404", "message": "Resource not found"}}, status_code=404)


@contextmanager
def azure_server() -> Iterator[AzureServer]:
    """Run the Azure-like server on loopback for the block."""
    state = AzureServer()

    def authorised(request: Request) -> bool:
        if request.headers.get("api-key") == state.key:
            return True
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and token in state.tokens

    async def images(request: Request) -> Response:
        body = await request.body()
        state.seen.append(
            Seen(request.method, request.url.path, dict(request.query_params), dict(request.headers), body)
        )
        if request.query_params.get("api-version") != API_VERSION:
            return _not_found()
        if not authorised(request):
            message = (
                "Access denied due to invalid subscription key or wrong API endpoint. Make sure to "
                "provide a valid key for an active subscription and use a correct regional API endpoint "
                "for your resource."
            )
            return JSONResponse({"error": {"code": "401", "message": message}}, status_code=401)
        deployment = request.path_params["deployment"]
        wants_url = b'"response_format": "url"' in body or b'"response_format":"url"' in body
        item: dict[str, object] = {"content_filter_results": FILTERS, "revised_prompt": f"by {deployment}"}
        if wants_url:
            item["url"] = f"{state.endpoint}/blob/{deployment}.png"
        else:
            item["b64_json"] = PNG_B64
        return JSONResponse(
            {
                "created": int(time.time()),
                "data": [item],
                "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": FILTERS}],
            }
        )

    async def blob(request: Request) -> Response:
        state.seen.append(
            Seen(request.method, request.url.path, dict(request.query_params), dict(request.headers), b"")
        )
        if state.storage and not request.url.path.startswith("/stored/"):
            return RedirectResponse(f"{state.storage}/stored/{request.path_params['name']}", status_code=307)
        return Response(PNG, media_type="image/png")

    async def anything(request: Request) -> Response:
        state.seen.append(
            Seen(
                request.method,
                request.url.path,
                dict(request.query_params),
                dict(request.headers),
                await request.body(),
            )
        )
        return _not_found()

    app = Starlette(
        routes=[
            Route("/openai/deployments/{deployment}/images/generations", images, methods=["POST"]),
            Route("/openai/deployments/{deployment}/images/edits", images, methods=["POST"]),
            Route("/blob/{name}", blob, methods=["GET"]),
            Route("/stored/{name}", blob, methods=["GET"]),
            Route("/{path:path}", anything, methods=["GET", "POST", "DELETE"]),
        ]
    )
    with serving(app, "Azure-like server") as origin:
        state.endpoint = origin
        yield state
