"""Proxy and TLS verification options, over real loopback connections."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import trustme
import uvicorn

from imagegen import APIConnectionError, ImagesClient
from imagegen.server import ServerConfig, create_app

from .support.recording_server import recording_server


@contextmanager
def https_server(cert_file: Path, key_file: Path) -> Iterator[str]:
    """The reference server over TLS on a free loopback port; yields its base URL."""
    config = uvicorn.Config(
        create_app(ServerConfig(auth=False)),
        host="127.0.0.1",
        port=0,
        ssl_certfile=str(cert_file),
        ssl_keyfile=str(key_file),
        log_level="warning",
        lifespan="off",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the TLS server did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"https://127.0.0.1:{port}/v1"
    finally:
        server.should_exit = True
        thread.join(15)


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    folder = tmp_path_factory.mktemp("tls")
    authority = trustme.CA()
    certificate = authority.issue_cert("127.0.0.1")
    cert_file, key_file, ca_file = folder / "cert.pem", folder / "key.pem", folder / "ca.pem"
    certificate.private_key_and_cert_chain_pem.write_to_path(str(cert_file))
    certificate.private_key_pem.write_to_path(str(key_file))
    authority.cert_pem.write_to_path(str(ca_file))
    with https_server(cert_file, key_file) as base_url:
        yield base_url, ca_file


def test_an_unknown_certificate_is_refused_by_default(tls: tuple[str, Path]) -> None:
    base_url, _ = tls
    with (
        ImagesClient(base_url=base_url, max_retries=0) as client,
        pytest.raises(APIConnectionError) as raised,
    ):
        client.generate("p", size="256x256")
    assert "CERTIFICATE_VERIFY_FAILED" in str(raised.value) or "certificate" in str(raised.value).lower()


def test_verify_accepts_a_ca_bundle_or_false(tls: tuple[str, Path]) -> None:
    base_url, ca_file = tls
    with ImagesClient(base_url=base_url, verify=str(ca_file)) as trusting:
        assert trusting.generate("p", size="256x256", response_format="b64_json").images[0].size == (256, 256)
    with ImagesClient(base_url=base_url, verify=False) as careless:
        assert len(careless.generate("p", size="256x256").images) == 1


def test_requests_go_through_the_proxy() -> None:
    with recording_server() as proxy:
        proxy.reply_json({"created": 1, "data": [{"url": "http://images.test/a.png"}]})
        proxy_root = proxy.base_url.removesuffix("/v1")
        with ImagesClient(base_url="http://images.test/v1", api_key="k", proxy=proxy_root) as client:
            result = client.generate("Yellow alpaca")
    assert result.images[0].url == "http://images.test/a.png"
    [forwarded] = proxy.requests
    assert forwarded.headers["host"] == "images.test"
    assert forwarded.json() == {"prompt": "Yellow alpaca"}
