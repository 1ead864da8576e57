"""Our client through a real LiteLLM proxy in front of the reference server (run by scripts/interop).

LiteLLM (`litellm[proxy]`, pinned in scripts/interop) is installed in its own environment on
first use, `imagegen serve` starts on a free loopback port, and the proxy in front of it with a
model list naming it (LITELLM_LOCAL_MODEL_COST_MAP=True, so it downloads nothing). Each case
then goes through the proxy; each says PASS, or KNOWN for what LiteLLM is known to do otherwise
(checked too: if LiteLLM changes, the case says so), or FAIL. Both processes are stopped (by
their PIDs) however the run ends, and the whole run is bounded by --timeout.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from imagegen import APIStatusError, ImagesClient
from imagegen.errors import ImagesError

UPSTREAM_TOKEN = "sk-interop-upstream-7d1e"
MASTER_KEY = "sk-interop-litellm-3c9a"
MODELS = ("dall-e-2", "gpt-image-1.5")
START_TIMEOUT_S = 120.0


class Unexpected(Exception):
    """An answer that is not what it should be."""


def expect(condition: object, message: str) -> None:
    """Unexpected(message) unless `condition` holds."""
    if not condition:
        raise Unexpected(message)


@dataclass
class Case:
    """One thing sent through the proxy, and what came of it."""

    name: str
    verdict: str = "FAIL"
    detail: str = ""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def process(command: list[str], env: dict[str, str], ready: Callable[[], bool], log: Path) -> Iterator[int]:
    """Run `command` until the block ends; wait until `ready()`; stop it by its PID after."""
    with log.open("wb") as output:
        child = subprocess.Popen(
            command, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not ready():
            if child.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{command[0]} did not start; its log:\n{log.read_text()[-2000:]}")
            time.sleep(0.25)
        yield child.pid
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGTERM)
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()


def answers(url: str) -> Callable[[], bool]:
    def probe() -> bool:
        try:
            return httpx.get(url, timeout=2.0).status_code < 500
        except httpx.HTTPError:
            return False

    return probe


def png_bytes(width: int = 64, height: int = 64) -> bytes:
    """A real RGBA PNG to edit."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGBA", (width, height), (200, 40, 40, 255)).save(buffer, format="PNG")
    return buffer.getvalue()


def run_cases(base_url: str) -> list[Case]:
    client = ImagesClient(base_url=base_url, api_key=MASTER_KEY, max_retries=0, timeout=60.0)
    cases: list[Case] = []

    def case(name: str, action: Callable[[], str], known: str | None = None) -> None:
        found = Case(name)
        try:
            found.detail = action()
            found.verdict = "PASS"
        except (ImagesError, Unexpected) as error:
            found.detail = str(error).splitlines()[0][:160]
            found.verdict = "KNOWN" if known is not None and known in str(error) else "FAIL"
        cases.append(found)

    def generation() -> str:
        result = client.generate("otter", model="dall-e-2", size="256x256", response_format="b64_json")
        expect(result.images[0].size == (256, 256), f"the image is {result.images[0].size}")
        extra = sorted(set(result.body) - {"created", "data"})
        return f"{result.images[0].format} {result.images[0].size}, extra fields {extra}"

    def urls() -> str:
        result = client.generate("otter", model="dall-e-2", size="256x256", n=2)
        expect(all(image.bytes() for image in result.images), "an image URL gave no bytes")
        return f"{len(result.images)} images by URL, downloaded from the upstream server"

    def gpt_image() -> str:
        result = client.generate("otter", model="gpt-image-1.5", size="1024x1024", quality="low")
        usage = result.usage
        expect(usage is not None and usage.total_tokens, "no usage in the answer")
        return f"usage {usage.total_tokens if usage else 0} tokens"

    def multipart_edit() -> str:
        result = client.edit(png_bytes(), "a red hat", model="gpt-image-1.5", size="1024x1024")
        return f"{result.images[0].size}"

    def json_edit() -> str:
        result = client.edit(png_bytes(), "a red hat", model="gpt-image-1.5", size="1024x1024", form="json")
        return f"{result.images[0].size}"

    def stream() -> str:
        with client.generate("otter", model="gpt-image-1.5", stream=True, partial_images=1) as events:
            kinds = [event.type for event in events]
        return ", ".join(kinds)

    def wrong_key() -> str:
        try:
            client.with_options(api_key="sk-interop-wrong-1").generate("otter", model="dall-e-2")
        except APIStatusError as error:
            expect(error.status_code == 401, f"a wrong key was answered {error.status_code}: {error.message}")
            return "401"
        raise Unexpected("a wrong key was accepted")

    case("generation, b64_json", generation)
    case("generation, url answers", urls)
    case("GPT image model, usage passed on", gpt_image)
    case("edit, multipart", multipart_edit)
    case("edit, JSON form", json_edit, known="application/x-www-form-urlencoded")
    case("stream", stream, known="model_dump")
    case("wrong key", wrong_key, known="a wrong key was answered 400")
    client.close()
    return cases


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--litellm", required=True, help="the litellm executable of its environment")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds for the whole run")
    args = parser.parse_args()
    timer = threading.Timer(args.timeout, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.daemon = True
    timer.start()
    upstream_port, proxy_port = free_port(), free_port()
    with tempfile.TemporaryDirectory(prefix="imagegen-interop-") as scratch:
        config = Path(scratch) / "litellm.yaml"
        models = [
            {
                "model_name": name,
                "litellm_params": {
                    "model": f"openai/{name}",
                    "api_base": f"http://127.0.0.1:{upstream_port}/v1",
                    "api_key": UPSTREAM_TOKEN,
                },
            }
            for name in MODELS
        ]
        config.write_text(json.dumps({"model_list": models, "general_settings": {"master_key": MASTER_KEY}}))
        imagegen = str(Path(sys.executable).parent / "imagegen")
        serve = [
            imagegen,
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(upstream_port),
            "--token",
            UPSTREAM_TOKEN,
        ]
        proxy = [args.litellm, "--config", str(config), "--host", "127.0.0.1", "--port", str(proxy_port)]
        env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_TELEMETRY": "False"}
        started = time.monotonic()
        with (
            process(
                serve,
                env,
                answers(f"http://127.0.0.1:{upstream_port}/v1/models"),
                Path(scratch) / "serve.log",
            ),
            process(
                proxy,
                env,
                answers(f"http://127.0.0.1:{proxy_port}/health/liveliness"),
                Path(scratch) / "proxy.log",
            ),
        ):
            print(f"interop: imagegen serve on {upstream_port}, LiteLLM proxy on {proxy_port} "
                  f"(ready in {time.monotonic() - started:.0f} s)")  # fmt: skip
            cases = run_cases(f"http://127.0.0.1:{proxy_port}/v1")
    width = max(len(case.name) for case in cases) + 2
    for case in cases:
        print(f"  {case.verdict:<6}{case.name:<{width}}{case.detail}")
    failed = [case for case in cases if case.verdict == "FAIL"]
    print(
        f"interop: {len(cases) - len(failed)} of {len(cases)} as expected"
        + (f", {len(failed)} FAILED" if failed else "")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
