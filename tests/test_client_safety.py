"""The key never leaks, bad input is refused before anything is sent, nothing is retried in vain.

Each test is one item of issue 11 (the client and command-line half), against the session's
reference server, a recording server or the installed command.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import socket
import ssl
import subprocess
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from imagegen import (
    APIConnectionError,
    AsyncImagesClient,
    ConfigurationError,
    ConflictError,
    ImagesClient,
    InvalidResponseError,
    RequestRulesError,
    StreamError,
    get_images,
)

from .conftest import REFERENCE_TOKEN
from .support.cli import IMAGEGEN, run_main
from .support.images import png_bytes
from .support.recording_server import recording_server

SECRET = "sk-SECRET-safety-1234567890"
SMALL = {"model": "dall-e-2", "size": "256x256", "response_format": "b64_json"}


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def fault(spec: str) -> dict[str, str]:
    return {"X-Imagegen-Fault": f"{spec}; id={uuid.uuid4().hex}"}


class Counting(httpx.HTTPTransport):
    def __init__(self) -> None:
        super().__init__()
        self.sent = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent += 1
        return super().handle_request(request)


# ---- the key ---------------------------------------------------------------------------------------


def test_a_key_read_from_a_file_with_its_newline_just_works(reference_url: str) -> None:
    with ImagesClient(base_url=reference_url, api_key=REFERENCE_TOKEN + "\n", max_retries=0) as client:
        assert len(client.generate("Otter", **SMALL).images) == 1


@pytest.mark.parametrize(
    "key", [SECRET[:10] + "\x07" + SECRET[10:], SECRET + "é", SECRET[:5] + "\n" + SECRET[5:]]
)
def test_a_key_no_header_can_carry_is_refused_when_the_client_is_made(key: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        ImagesClient(base_url="http://127.0.0.1:9/v1", api_key=key)
    message = str(raised.value)
    assert "which no HTTP header can carry" in message
    assert SECRET[:12] not in message
    assert SECRET[12:] not in message


def test_an_answer_echoing_the_key_is_masked_in_every_error() -> None:
    def echo(request: httpx.Request) -> httpx.Response:
        key = request.headers["authorization"]
        if request.headers.get("accept") == "text/event-stream":
            body = f"event: image_generation.partial_image\ndata: not json {key}\n\n".encode()
            return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})
        return httpx.Response(200, content=f"<html>{key}</html>".encode())

    with ImagesClient(
        base_url="http://x.test/v1", api_key=SECRET, transport=httpx.MockTransport(echo)
    ) as client:
        with pytest.raises(InvalidResponseError) as not_json:
            client.generate("p", model="gpt-image-1.5")
        with pytest.raises(StreamError) as in_stream:
            client.generate("p", model="gpt-image-1.5", stream=True).until_done()
    for error in (not_json.value, in_stream.value):
        assert SECRET not in str(error)
        assert SECRET not in repr(error)
        assert "<the API key>" in str(error)


def test_a_password_in_the_base_url_is_never_shown() -> None:
    url = f"http://user:pw-{SECRET}@127.0.0.1:{closed_port()}/v1"
    with (
        ImagesClient(base_url=url, api_key=SECRET, max_retries=0) as client,
        pytest.raises(APIConnectionError) as raised,
    ):
        client.generate("p", **SMALL)
    assert SECRET not in str(raised.value)
    assert "127.0.0.1" in str(raised.value)


def test_the_generated_client_shows_no_key_and_has_a_timeout() -> None:
    from imagegen_api import AuthenticatedClient

    client = AuthenticatedClient(base_url="http://x.test/v1", token=SECRET)
    client.get_httpx_client()  # puts the key in its headers
    assert SECRET not in repr(client)
    timeout = client.get_httpx_client().timeout
    assert (timeout.connect, timeout.read) == (10.0, 600.0)


@pytest.mark.parametrize("source", ["environment", "token-file", "stdin"])
def test_the_command_line_masks_the_key_whatever_it_came_from(source: str, tmp_path: Path) -> None:
    with recording_server() as server:
        server.reply_json(
            {"error": {"message": f"bad key {SECRET}", "type": "auth", "param": None, "code": None}}, 401
        )
        command = [
            IMAGEGEN,
            "generate",
            "x",
            "--url",
            server.base_url,
            "-o",
            str(tmp_path),
            "-v",
            "--max-retries",
            "0",
        ]
        env = {**os.environ, "OPENAI_API_KEY": SECRET} if source == "environment" else dict(os.environ)
        env.pop("OPENAI_API_KEY", None) if source != "environment" else None
        stdin = None
        if source == "token-file":
            (tmp_path / "key.txt").write_text(SECRET + "\n")
            command += ["--token-file", str(tmp_path / "key.txt")]
        if source == "stdin":
            command += ["--token", "-"]
            stdin = SECRET + "\n"
        done = subprocess.run(
            command, input=stdin, capture_output=True, text=True, env=env, timeout=60, check=False
        )
        sent = server.last.headers["authorization"]
    assert sent == f"Bearer {SECRET}"  # the key did go, as it must
    assert done.returncode == 1
    assert "the server refused: bad key <the API key>" in done.stderr
    assert SECRET not in done.stdout + done.stderr


# ---- options checked when the client is made ----------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("localhost:8000/v1", "is not an http(s) URL with a host"),
        ("http://[::1", "cannot be read"),
        ("ftp://example.com/v1", "is not an http(s) URL"),
        ("", "is not an http(s) URL"),
    ],
)
def test_a_base_url_that_cannot_work_is_refused_at_once(url: str, said: str) -> None:
    with pytest.raises(ConfigurationError, match=r"give one such as https://api\.openai\.com/v1"):
        ImagesClient(base_url=url or " ", api_key="k")
    with pytest.raises(ConfigurationError, match=re.escape(said)):
        ImagesClient(base_url=url or " ", api_key="k")


@pytest.mark.parametrize("timeout", [0, -1, 0.0])
def test_a_timeout_that_cannot_work_is_refused(timeout: float) -> None:
    with pytest.raises(ConfigurationError, match="above 0"):
        ImagesClient(base_url="http://x.test/v1", timeout=timeout)


def test_with_options_takes_an_ssl_context_and_shares_the_connection_pool() -> None:
    context = ssl.create_default_context()
    with ImagesClient(base_url="https://x.test/v1", api_key="k", verify=context) as parent:
        child = parent.with_options(max_retries=5, timeout=30.0)
        assert child._http is parent._http  # one pool
        child.close()
        assert not parent._http.is_closed  # the parent still owns it
        other = parent.with_options(verify=False)
        assert other._http is not parent._http
        other.close()


def test_a_header_no_request_can_carry_is_refused_before_sending() -> None:
    sent: list[httpx.Request] = []
    with (
        ImagesClient(
            base_url="http://x.test/v1", api_key="k", transport=httpx.MockTransport(sent.append)
        ) as client,
        pytest.raises(ConfigurationError, match="the value of X-Trace has a line break"),
    ):
        client.generate("p", extra_headers={"X-Trace": "a\nb"})
    assert sent == []
    with pytest.raises(ConfigurationError, match="default_headers"):
        ImagesClient(base_url="http://x.test/v1", default_headers={"X-Key": f"{SECRET}é"})


# ---- what is retried ------------------------------------------------------------------------------------


def test_a_reused_idempotency_key_is_not_retried(reference_url: str) -> None:
    transport = Counting()
    key = f"reused-{uuid.uuid4().hex}"
    with ImagesClient(
        base_url=reference_url, api_key=REFERENCE_TOKEN, transport=transport, max_retries=3
    ) as client:
        client.generate("first", **SMALL, idempotency_key=key)
        with pytest.raises(ConflictError):
            client.generate("second", **SMALL, idempotency_key=key)
    assert transport.sent == 2  # one each: a conflict no retry can change


def test_a_stream_dropped_before_its_first_byte_is_retried(reference_url: str) -> None:
    transport = Counting()
    stream_body = {"model": "gpt-image-1.5", "size": "1024x1024", "quality": "low"}
    with ImagesClient(
        base_url=reference_url, api_key=REFERENCE_TOKEN, transport=transport, max_retries=2
    ) as client:
        stream = client.generate("Otter", **stream_body, stream=True, extra_headers=fault("drop; times=1"))
        images = stream.until_done()
    assert len(images) == 1
    assert transport.sent == 2


def test_the_seed_counts_attempts_as_the_seed_does(reference_url: str) -> None:
    root = reference_url.removesuffix("/v1")
    description = {"prompt": "Yellow alpaca", "size": "256x256"}
    with pytest.raises(APIConnectionError):  # one attempt, and the connection dropped
        get_images(root, REFERENCE_TOKEN, "dall-e-2", description, fault("drop; times=1"), retries=1)
    done = get_images(root, REFERENCE_TOKEN, "dall-e-2", description, fault("drop; times=1"), retries=2)
    assert done["data"]
    with pytest.raises(ValueError, match="at least 1"):
        get_images(root, REFERENCE_TOKEN, "dall-e-2", description, retries=0)


# ---- values refused before sending ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        ({"n": 0}, "n must be at least 1; it was 0"),
        ({"n": -1}, "n must be at least 1"),
        ({"n": "2"}, "n must be a whole number, not '2' (str)"),
        ({"n": True}, "n must be a whole number, not True (bool)"),
        ({"n": 1.5}, "n must be a whole number, not 1.5 (float)"),
        ({"partial_images": -1}, "partial_images must be at least 0"),
    ],
)
def test_values_that_cannot_mean_anything_are_refused_before_sending(
    fields: dict[str, Any], said: str
) -> None:
    sent: list[httpx.Request] = []
    with ImagesClient(
        base_url="http://x.test/v1", api_key="k", transport=httpx.MockTransport(sent.append)
    ) as client:
        with pytest.raises(RequestRulesError, match=said.replace("(", r"\(").replace(")", r"\)")):
            client.generate("p", **fields)
        with pytest.raises(RequestRulesError, match="prompt must not be empty"):
            client.generate("")
    assert sent == []


def test_a_file_opened_in_text_mode_is_named_with_what_to_do(tmp_path: Path) -> None:
    (tmp_path / "cat.png").write_bytes(png_bytes(8, 8))
    with (
        ImagesClient(base_url="http://x.test/v1", api_key="k") as client,
        open(tmp_path / "cat.png", encoding="latin-1") as text,
        pytest.raises(TypeError, match=r"open it in binary mode \(open\(path, 'rb'\)\)"),
    ):
        client.vary(text)
    with pytest.raises(TypeError, match="binary mode"):
        asyncio.run(
            AsyncImagesClient(base_url="http://x.test/v1", api_key="k").vary(io.StringIO("not bytes"))
        )


# ---- the command line -------------------------------------------------------------------------------------


def imagegen(*args: str) -> subprocess.CompletedProcess[str]:
    """The command, its `main` run in this process (tests/support/cli.py)."""
    return run_main(args)


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--timeout", "0"], "--timeout is in seconds and must be above 0, not 0"),
        (["--timeout", "-1"], "--timeout is in seconds and must be above 0, not -1"),
        (["--stream", "--json"], "--stream shows and saves images as they arrive; it cannot be combined"),
        (["--stream", "--raw"], "cannot be combined with --json or --raw"),
        (["-o", "/proc/x"], "-o /proc/x: cannot create the folder"),
        (["-o", "/proc/1"], "-o /proc/1: cannot write in this folder"),
        (["--url", "localhost:8000/v1"], "the base URL 'localhost:8000/v1' is not an http(s) URL"),
        (["--url", "http://[::1"], "the base URL 'http://[::1' cannot be read"),
        (["--retries", "3"], "--retries is --max-retries here"),
    ],
)
def test_bad_options_are_refused_before_sending_with_exit_2(args: list[str], said: str) -> None:
    with recording_server() as server:
        base = [
            "generate",
            "Yellow alpaca",
            "--url",
            server.base_url,
            "--token",
            SECRET,
            "--model",
            "gpt-image-1.5",
        ]
        done = imagegen(*base, *args) if "--url" not in args else imagegen(*base[:2], *base[4:], *args)
        assert server.requests == []
    assert done.returncode == 2, done.stdout + done.stderr
    assert said in done.stderr
    assert "Traceback" not in done.stderr
    assert SECRET not in done.stderr


def test_the_seed_config_of_the_wrong_kind_is_a_usage_error() -> None:
    done = imagegen(
        "openai", "GetImages", "--url", "http://127.0.0.1:9/", "--token", SECRET, "--model", "m",
        "--descr", "{'prompt':'x'}", "--config", json.dumps({"retries": "x"}),
    )  # fmt: skip
    assert done.returncode == 2
    assert "--config: retries is how many times the request may be sent" in done.stderr
    assert "Traceback" not in done.stderr
