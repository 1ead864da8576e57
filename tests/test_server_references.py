"""A reference server started with --allow-url-fetch fetches the image URLs of JSON edits: from
loopback over http, within its body limit, without following redirects; other URLs are refused
with a 400 that says why, and nothing is fetched from anywhere else."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator

import httpx
import pytest
from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from imagegen.server import ServerConfig, serve_in_background
from imagegen.server.background import serve_app_in_background
from imagegen.server.config import Limits
from tests.support.images import png_bytes

TOKEN = "sk-references-3c8e"
BODY_LIMIT = 200_000


def pictures() -> Starlette:
    """A loopback host of images: one small, one too big, a redirect and a missing one."""
    small, big = png_bytes(48, 48), b"\x89PNG" + b"\0" * (BODY_LIMIT + 10)

    async def picture(request: Request) -> Response:
        name = request.path_params["name"]
        if name == "small.png":
            return Response(small, media_type="image/png")
        if name == "big.png":
            return Response(big, media_type="image/png")
        if name == "moved.png":
            return RedirectResponse("/v1/small.png", status_code=302)
        return Response(b"no", status_code=404)

    return Starlette(routes=[Route("/v1/{name}", picture)])


@pytest.fixture(scope="module")
def hosts() -> Iterator[tuple[httpx.Client, str]]:
    config = ServerConfig(
        tokens=frozenset({TOKEN}), allow_url_fetch=True, limits=Limits(max_body_bytes=BODY_LIMIT)
    )
    with (
        serve_in_background(config) as url,
        serve_app_in_background(pictures()) as images,
        httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60) as http,
    ):
        yield http, images


def edit(http: httpx.Client, image_url: str) -> httpx.Response:
    return http.post(
        "/images/edits",
        json={"prompt": "add a hat", "model": "gpt-image-1.5", "size": "1024x1024",
              "images": [{"image_url": image_url}]},
    )  # fmt: skip


def test_an_image_on_loopback_is_fetched_and_edited(hosts: tuple[httpx.Client, str]) -> None:
    http, images = hosts
    answer = edit(http, f"{images}/small.png")
    assert answer.status_code == 200, answer.text
    image = Image.open(io.BytesIO(base64.b64decode(answer.json()["data"][0]["b64_json"])))
    assert image.size == (1024, 1024)


@pytest.mark.parametrize(
    ("where", "code", "message"),
    [
        ("big.png", None, f"larger than this server's {BODY_LIMIT} bytes"),
        ("moved.png", None, "answered 302"),
        ("missing.png", None, "answered 404"),
        ("http://example.com/a.png", "url_not_allowed", "plain http is fetched from loopback"),
        ("ftp://127.0.0.1/a.png", "url_not_allowed", "only http(s) URLs"),
        ("http://user:pw@127.0.0.1/a.png", "url_not_allowed", "credentials"),
    ],
)
def test_an_image_url_that_cannot_be_used_is_a_400_saying_why(
    hosts: tuple[httpx.Client, str], where: str, code: str | None, message: str
) -> None:
    http, images = hosts
    answer = edit(http, where if "://" in where else f"{images}/{where}")
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert (error["param"], error["code"]) == ("images[0].image_url", code)
    assert message in error["message"]
    assert "pw" not in error["message"]
