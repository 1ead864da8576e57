"""Azure OpenAI deployments (tests/support/azure_server.py answers only Azure's routes and header)."""

from __future__ import annotations

import asyncio
import logging
import subprocess
from pathlib import Path

import pytest

from imagegen import (
    AsyncAzureImagesClient,
    AuthenticationError,
    AzureImagesClient,
    ConfigurationError,
    ImagesClient,
    NotFoundError,
)
from tests.support.azure_server import API_VERSION, azure_server
from tests.support.dialect_servers import PNG
from tests.support.images import png_bytes

from .support.cli import IMAGEGEN


@pytest.fixture(autouse=True)
def _no_ambient_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_AD_TOKEN",
                 "AZURE_OPENAI_ENDPOINT", "OPENAI_API_VERSION"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)


def test_a_deployment_url_with_api_version_and_api_key_is_reached() -> None:
    with azure_server() as server:
        client = AzureImagesClient(
            azure_endpoint=server.endpoint,
            azure_deployment="pictures",
            api_version=API_VERSION,
            api_key=server.key,
        )
        with client:
            result = client.generate("Yellow alpaca", model="gpt-image-1", size="1024x1024")
        assert result.images[0].bytes() == PNG
        assert result.images[0].revised_prompt == "by pictures"
        assert result.body["data"][0]["content_filter_results"]["hate"]["filtered"] is False
        seen = server.seen[-1]
        assert (seen.path, seen.query) == (
            "/openai/deployments/pictures/images/generations",
            {"api-version": API_VERSION},
        )
        assert seen.headers["api-key"] == server.key
        assert "authorization" not in seen.headers
        assert seen.json()["prompt"] == "Yellow alpaca"


def test_without_a_deployment_the_model_names_it_as_in_the_official_sdk() -> None:
    with azure_server() as server:
        with AzureImagesClient(
            azure_endpoint=server.endpoint, api_version=API_VERSION, api_key=server.key
        ) as client:
            client.generate("otter", model="gpt-image-1")
            client.edit(png_bytes(), "a hat", model="gpt-image-1")
        assert [seen.path for seen in server.seen] == [
            "/openai/deployments/gpt-image-1/images/generations",
            "/openai/deployments/gpt-image-1/images/edits",
        ]
        assert "multipart/form-data" in server.seen[1].headers["content-type"]


def test_settings_come_from_the_environment_and_never_from_openai_api_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with azure_server() as server:
        monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", server.endpoint)
        monkeypatch.setenv("AZURE_OPENAI_API_KEY", server.key)
        monkeypatch.setenv("OPENAI_API_VERSION", API_VERSION)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-not-for-azure-1")
        with AzureImagesClient(azure_deployment="pictures") as client:
            client.generate("otter", model="gpt-image-1")
        assert server.seen[-1].headers["api-key"] == server.key
        assert "sk-openai-not-for-azure-1" not in str(server.seen[-1].headers)


def test_an_entra_id_token_provider_is_called_for_every_request() -> None:
    tokens = iter(["token-one-9a8b", "token-two-7c6d"])
    with azure_server() as server:
        server.tokens.update({"token-one-9a8b", "token-two-7c6d"})
        client = AzureImagesClient(
            azure_endpoint=server.endpoint,
            azure_deployment="pictures",
            api_version=API_VERSION,
            azure_ad_token_provider=lambda: next(tokens),
        )
        with client:
            client.generate("otter", model="gpt-image-1")
            client.generate("otter", model="gpt-image-1")
        assert [seen.headers["authorization"] for seen in server.seen] == [
            "Bearer token-one-9a8b",
            "Bearer token-two-7c6d",
        ]
        assert all("api-key" not in seen.headers for seen in server.seen)


def test_a_wrong_key_is_an_authentication_error_without_the_key(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="imagegen")
    with azure_server() as server:
        wrong = "azure-wrong-key-5e5e5e"
        client = AzureImagesClient(
            azure_endpoint=server.endpoint,
            azure_deployment="d",
            api_version=API_VERSION,
            api_key=wrong,
            max_retries=0,
        )
        with client, pytest.raises(AuthenticationError, match="Access denied") as caught:
            client.generate("otter", model="gpt-image-1")
    assert wrong not in str(caught.value) + repr(client) + caplog.text


@pytest.mark.parametrize(
    ("arguments", "said"),
    [
        ({"azure_endpoint": "https://r.openai.azure.com", "api_key": "k-1"}, "api_version"),
        ({"api_version": API_VERSION, "api_key": "k-1"}, "azure_endpoint"),
        ({"azure_endpoint": "https://r.openai.azure.com", "api_version": API_VERSION}, "credential"),
        ({"azure_endpoint": "https://r.openai.azure.com", "api_version": API_VERSION, "api_key": "k-1",
          "azure_ad_token": "t-1"}, "not api_key and azure_ad_token"),
        ({"azure_endpoint": "https://r.openai.azure.com", "base_url": "https://r.openai.azure.com/openai",
          "api_version": API_VERSION, "api_key": "k-1"}, "not both"),
    ],
)  # fmt: skip
def test_what_is_missing_is_said(arguments: dict[str, str], said: str) -> None:
    with pytest.raises(ConfigurationError, match=said):
        AzureImagesClient(**arguments)  # type: ignore[arg-type]


def test_the_plain_client_reaches_azure_with_a_query_in_base_url_and_auth_header() -> None:
    with azure_server() as server:
        base_url = f"{server.endpoint}/openai/deployments/pictures?api-version={API_VERSION}"
        with ImagesClient(base_url=base_url, api_key=server.key, auth_header="api-key") as client:
            assert client.options.base_url == f"{server.endpoint}/openai/deployments/pictures"
            assert client.options.default_query == {"api-version": API_VERSION}
            client.generate("otter", model="gpt-image-1", extra_query={"trace": "on"})
        assert server.seen[-1].path == "/openai/deployments/pictures/images/generations"
        assert server.seen[-1].query == {"api-version": API_VERSION, "trace": "on"}


def test_with_options_keeps_the_azure_routes() -> None:
    with azure_server() as server:
        client = AzureImagesClient(
            azure_endpoint=server.endpoint, api_version=API_VERSION, api_key=server.key
        )
        changed = client.with_options(timeout=30.0)
        assert isinstance(changed, AzureImagesClient)
        changed.generate("otter", model="gpt-image-1")
        assert server.seen[-1].path == "/openai/deployments/gpt-image-1/images/generations"
        client.close()


def test_a_path_that_is_not_a_deployment_route_goes_under_openai() -> None:
    with azure_server() as server:
        client = AzureImagesClient(
            azure_endpoint=server.endpoint,
            azure_deployment="pictures",
            api_version=API_VERSION,
            api_key=server.key,
            max_retries=0,
        )
        with client, pytest.raises(NotFoundError):
            client.request("createImageVariation", body={"model": "dall-e-2"}, files={"image": png_bytes()})
        assert server.seen[-1].path == "/openai/images/variations"


def test_the_api_key_is_not_sent_on_a_redirect_to_another_origin() -> None:
    with azure_server() as storage, azure_server() as server:
        server.storage = storage.endpoint
        client = AzureImagesClient(
            azure_endpoint=server.endpoint,
            azure_deployment="pictures",
            api_version=API_VERSION,
            api_key=server.key,
        )
        with client:
            result = client.generate("otter", model="dall-e-3", response_format="url")
            assert result.images[0].bytes() == PNG
        download = server.seen[-1]
        assert download.path == "/blob/pictures.png"
        assert download.headers["api-key"] == server.key
        assert [seen.path for seen in storage.seen] == ["/stored/pictures.png"]
        assert "api-key" not in storage.seen[0].headers
        assert "authorization" not in storage.seen[0].headers


def test_the_async_twin() -> None:
    async def run(endpoint: str, key: str) -> bytes:
        async with AsyncAzureImagesClient(
            azure_endpoint=endpoint, azure_deployment="pictures", api_version=API_VERSION, api_key=key
        ) as client:
            result = await client.edit(png_bytes(), "a hat", model="gpt-image-1")
            return await result.images[0].bytes()

    with azure_server() as server:
        assert asyncio.run(run(server.endpoint, server.key)) == PNG
        assert server.seen[-1].path == "/openai/deployments/pictures/images/edits"


def test_the_command_line_reaches_a_deployment(tmp_path: Path) -> None:
    with azure_server() as server:
        done = subprocess.run(
            [IMAGEGEN, "generate", "otter", "--model", "gpt-image-1", "-o", str(tmp_path),
             "--url", f"{server.endpoint}/openai/deployments/pictures",
             "--query", f"api-version={API_VERSION}", "--auth-header", "api-key"],
            capture_output=True, text=True, timeout=60, check=False,
            env={"OPENAI_API_KEY": server.key, "PATH": "/usr/bin:/bin"},
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert server.seen[-1].headers["api-key"] == server.key
    assert [path.read_bytes() for path in tmp_path.iterdir()] == [PNG]
    assert server.key not in done.stdout + done.stderr
