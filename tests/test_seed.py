"""get_images: the seed's GetImages, against the reference server over loopback."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path

import httpx
import pytest
from PIL import Image

from imagegen import AuthenticationError, BadRequestError, describe, get_images
from imagegen.seed import api_base, proxy_url
from imagegen.server import ServerConfig, declared_model, serve_in_background

TOKEN = "12We34-seed"


@pytest.fixture(scope="module")
def root() -> Iterator[str]:
    """The server root, as the seed's examples give it (without /v1)."""
    config = ServerConfig(tokens=frozenset({TOKEN}), faults_enabled=True).with_models(
        declared_model("sd-1.5-ggml")
    )
    with serve_in_background(config) as base_url:
        yield base_url.removesuffix("v1")


def test_the_seed_example_with_a_description(root: str) -> None:
    description = describe("Yellow alpaca", 1, None, "64x64")

    result = get_images(root, TOKEN, "sd-1.5-ggml", description)

    assert set(result) == {"created", "data"}
    url = result["data"][0]["url"]
    assert Image.open(io.BytesIO(httpx.get(url).content)).size == (64, 64)


@pytest.mark.parametrize(
    "description",
    [
        "{'prompt':'Yellow alpaca','n':'1','size':'1024x1024'}",
        "{'prompt':'Yellow alpaca','n':1,'size':'1024x1024'}",
        {"prompt": "Yellow alpaca", "n": "1", "size": "1024x1024"},
    ],
)
def test_the_seed_cli_descriptions_work(root: str, description: object) -> None:
    result = get_images(root, TOKEN, "dall-e-3", description)  # type: ignore[arg-type]
    [image] = result["data"]
    assert image["revised_prompt"].startswith("Yellow alpaca")
    assert image["url"].startswith(root)


def test_a_description_file_and_headers_file(root: str, tmp_path: Path) -> None:
    (tmp_path / "descr.json").write_text(json.dumps({"prompt": "otter", "size": "256x256"}))
    (tmp_path / "headers.json").write_text(json.dumps({"OpenAI-Project": "proj-1"}))

    result = get_images(
        root + "v1", TOKEN, "dall-e-2", tmp_path / "descr.json", str(tmp_path / "headers.json")
    )

    assert len(result["data"]) == 1


def test_adv_response_returns_code_headers_and_body_even_for_errors(root: str) -> None:
    ok = get_images(root, TOKEN, "dall-e-2", describe("p", 1, None, "256x256"), adv_response=True)
    refused = get_images(root, TOKEN, "dall-e-3", describe("p", 2), adv_response=True)

    assert ok["code"] == 200
    assert ok["headers"]["content-type"] == "application/json"
    assert "data" in ok["body"]
    assert refused["code"] == 400
    assert refused["body"]["error"]["param"] == "n"


def test_errors_raise_without_adv_response(root: str) -> None:
    with pytest.raises(BadRequestError, match="n was 2"):
        get_images(root, TOKEN, "dall-e-3", describe("p", 2))
    with pytest.raises(AuthenticationError) as raised:
        get_images(root, "wrong-token", "dall-e-2", describe("p"))
    assert "wrong-token" not in str(raised.value)


def test_dontwait_returns_a_future(root: str) -> None:
    future = get_images(root, TOKEN, "dall-e-2", describe("p", 1, None, "256x256"), dontwait=True)
    assert isinstance(future, Future)
    assert len(future.result(timeout=60)["data"]) == 1


def test_retries_count_the_attempts(root: str) -> None:
    fault = json.dumps({"X-Imagegen-Fault": "status=503; times=2; retry-after-ms=10; id=seed-retries"})
    with pytest.raises(Exception, match="503"):
        get_images(root, TOKEN, "dall-e-2", describe("p", 1, None, "256x256"), fault, retries=2)
    result = get_images(root, TOKEN, "dall-e-2", describe("p", 1, None, "256x256"), fault, retries=3)
    assert len(result["data"]) == 1


def test_timeout_in_seconds(root: str) -> None:
    from imagegen import APITimeoutError

    headers = {"X-Imagegen-Fault": "latency=2; times=5; id=seed-timeout"}
    with pytest.raises(APITimeoutError):
        get_images(root, TOKEN, "dall-e-2", describe("p"), headers, timeout=0.3, retries=1)


@pytest.mark.parametrize(
    ("url", "base"),
    [
        ("https://hut.openintegrations.dev/localai/", "https://hut.openintegrations.dev/localai/v1"),
        ("https://bothub.chat/api/v2/openai/", "https://bothub.chat/api/v2/openai/v1"),
        ("https://api.openai.com/v1", "https://api.openai.com/v1"),
        ("http://127.0.0.1:8000/v1/", "http://127.0.0.1:8000/v1"),
        ("http://localhost:8080", "http://localhost:8080/v1"),
    ],
)
def test_the_server_root_becomes_the_api_base(url: str, base: str) -> None:
    assert api_base(url) == base


def test_a_url_without_scheme_is_refused() -> None:
    with pytest.raises(ValueError, match="must start with http"):
        api_base("bothub.chat/api")


def test_the_seed_proxy_structure_becomes_a_url() -> None:
    proxy = {"Protocol": "http", "Host": "proxy.local", "Port": 3128, "User": "me", "Password": "p@ss"}
    assert proxy_url(proxy) == "http://me:p%40ss@proxy.local:3128"
    assert proxy_url("http://proxy.local:3128") == "http://proxy.local:3128"
    assert proxy_url(None) is None
    with pytest.raises(ValueError, match="Host"):
        proxy_url({"Port": 1})
