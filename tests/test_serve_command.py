"""`imagegen serve` as a process: its first line, its options, its exits."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from .support.cli import IMAGEGEN
from .support.images import png_bytes

START_TIMEOUT_S = 20


@contextmanager
def serving(*args: str, env: dict[str, str] | None = None) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """Start `imagegen serve --port 0 ARGS`, yield (base URL, process), always stop it."""
    process = subprocess.Popen(
        [IMAGEGEN, "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + START_TIMEOUT_S
        line = ""
        while not line and time.monotonic() < deadline and process.poll() is None:
            line = process.stdout.readline().strip()
        assert line, f"no base URL printed; stderr: {process.stderr.read() if process.stderr else ''}"
        yield line, process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)


def test_the_first_line_is_the_base_url_and_sigterm_stops_it_cleanly() -> None:
    with serving("--token", "s3cret", "--token", "other") as (base_url, process):
        assert base_url.startswith("http://127.0.0.1:")
        assert base_url.endswith("/v1")
        answer = httpx.post(
            f"{base_url}/images/generations",
            json={"prompt": "p", "size": "256x256"},
            headers={"Authorization": "Bearer other"},
        )
        assert answer.status_code == 200
        in_query = httpx.post(
            f"{base_url}/images/generations?api_key=sk-in-the-query-1234",
            json={"prompt": "p", "size": "256x256"},
            headers={"Authorization": "Bearer other"},
        )
        assert in_query.status_code == 200
        assert httpx.get(f"{base_url.removesuffix('/v1')}/health").json() == {"status": "ok"}
        process.send_signal(signal.SIGTERM)
        assert process.wait(15) == 0
        assert process.stderr is not None
        log = process.stderr.read()
    assert '"POST /v1/images/generations HTTP/1.1" 200' in log  # the access log
    assert "s3cret" not in log
    assert "sk-in-the-query" not in log  # query strings are left out of it
    store = log.split("store in ", 1)[1].split(":", 1)[0]  # where the store is, and its bounds
    assert "(a temporary folder, removed at exit)" in log
    assert not Path(store).exists()


def test_tokens_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"IMAGEGEN_SERVER_TOKENS": "env-token", "PATH": "/usr/bin:/bin"}
    with serving("--quiet", env=env) as (base_url, _):
        good = httpx.post(
            f"{base_url}/images/generations",
            json={"prompt": "p", "size": "256x256"},
            headers={"Authorization": "Bearer env-token"},
        )
        bad = httpx.post(f"{base_url}/images/generations", json={"prompt": "p"})
    assert (good.status_code, bad.status_code) == (200, 401)


def test_declared_models_and_a_models_file(tmp_path: Path) -> None:
    rules = json.loads(
        subprocess.run(
            [IMAGEGEN, "models", "dall-e-3", "--json"], capture_output=True, text=True, check=True
        ).stdout
    )["dall-e-3"]
    rules["fields"]["size"] = {"values": ["640x480"], "default": "640x480"}
    models = tmp_path / "models.json"
    models.write_text(json.dumps({"models": {"my-painter": rules}}))

    with serving("--no-auth", "--quiet", "--model", "sd-1.5-ggml", "--models", str(models)) as (base_url, _):
        seed = httpx.post(
            f"{base_url}/images/generations",
            json={"prompt": "Yellow alpaca", "model": "sd-1.5-ggml", "n": 1, "size": "64x64"},
        )
        mine = httpx.post(f"{base_url}/images/generations", json={"prompt": "p", "model": "my-painter"})
        wrong = httpx.post(
            f"{base_url}/images/generations", json={"prompt": "p", "model": "my-painter", "size": "64x64"}
        )
    assert seed.status_code == 200
    assert mine.status_code == 200
    assert wrong.status_code == 400
    assert "my-painter does not take size=64x64; it takes 640x480." in wrong.json()["error"]["message"]


def test_route_faults_from_the_command_line() -> None:
    with serving("--no-auth", "--quiet", "--fault", "generations=status=503;times=1;retry-after=2") as (
        url,
        _,
    ):
        first = httpx.post(f"{url}/images/generations", json={"prompt": "p", "size": "256x256"})
        second = httpx.post(f"{url}/images/generations", json={"prompt": "p", "size": "256x256"})
    assert (first.status_code, first.headers["retry-after"], second.status_code) == (503, "2", 200)


def test_limits_and_store_bounds_from_the_command_line(tmp_path: Path) -> None:
    small = [("image", ("a.png", png_bytes(100, 100), "image/png"))]
    args = ("--no-auth", "--quiet", "--max-request-pixels", "5K", "--image-store", "100K", "--url-ttl", "600")
    with serving(*args, "--data-dir", str(tmp_path / "store")) as (url, process):
        refused = httpx.post(f"{url}/images/edits", files=small, data={"prompt": "p"})
        urls = []
        for number in range(30):  # URL images of 10 to 40 KB each, until the bound forces one out
            body = {"prompt": f"picture {number}", "model": "dall-e-2", "size": "256x256"}
            urls.append(httpx.post(f"{url}/images/generations", json=body).json()["data"][0]["url"])
            usage = httpx.get(f"{url}/debug/store").json()["buckets"]["images"]
            if usage["evicted"]:
                break
        first, last = httpx.get(urls[0]).status_code, httpx.get(urls[-1]).status_code
    assert process.stderr is not None
    log = process.stderr.read()
    assert (refused.status_code, refused.json()["error"]["code"]) == (413, "too_many_pixels")
    assert "at most 5120 pixels per request" in refused.json()["error"]["message"]
    assert (usage["bound"], usage["evicted"]) == (100 * 1024, 1)
    assert usage["used_bytes"] <= 100 * 1024
    assert (first, last) == (404, 200)  # the oldest went first
    assert "the 'images' store reached its bound of 102400 bytes: 1 unexpired entry was evicted" in log
    assert (tmp_path / "store" / "store.sqlite3").exists()  # a given --data-dir is kept


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "no token configured: give --token (or set IMAGEGEN_SERVER_TOKENS), or --no-auth"),
        (("--no-auth", "--workers", "0"), "--workers must be at least 1, not 0"),
        (("--no-auth", "--queue", "-1"), "--queue must be at least 0, not -1"),
        (("--no-auth", "--jobs", "0"), "--jobs must be at least 1, not 0"),
        (("--no-auth", "--max-body", "lots"), "expected a positive number such as 500, 64K, 256M or 1G"),
        (("--no-auth", "--url-ttl", "0"), "--url-ttl must be more than 0 seconds, not 0"),
        (("--no-auth", "--port", "70000"), "--port must be between 0 and 65535"),
        (("--no-auth", "--models", "/nonexistent/models.json"), "cannot read /nonexistent/models.json"),
        (("--no-auth", "--fault", "paint=status=500"), "--fault takes OPERATION=SPEC"),
        (
            ("--no-auth", "--fault", "generations=explode"),
            "the fault for generations: Malformed X-Imagegen-Fault header",
        ),
    ],
)
def test_bad_configuration_exits_2_with_a_message(args: tuple[str, ...], message: str) -> None:
    done = subprocess.run(
        [IMAGEGEN, "serve", *args], capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"}
    )
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_a_data_dir_that_is_not_a_store_exits_1_with_a_message(tmp_path: Path) -> None:
    (tmp_path / "store.sqlite3").write_text("not a database")
    done = subprocess.run(
        [IMAGEGEN, "serve", "--no-auth", "--port", "0", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert f"imagegen serve: cannot keep the store in {tmp_path}: file is not a database" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_port_in_use_exits_1_with_a_message() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [IMAGEGEN, "serve", "--no-auth", "--port", str(port)], capture_output=True, text=True, timeout=60
        )
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr
