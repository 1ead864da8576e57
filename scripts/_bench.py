"""Benchmarks of imagegen (run through scripts/bench).

Every benchmark measures something and, in the same run, a baseline to compare it with, and
reports both, their ratio (measured / baseline) and whether the ratio meets its target:

    server-rps  256x256 png generations, 1 worker: 212.4 req/s; in-process paint+encode floor:
                301.0 images/s; ratio 0.71 (target >= 0.60) PASS

Adding a benchmark: write a function taking `Settings` and returning a list of `Row`s, and
register it with `@benchmark("name", "one line on what it measures")`; it runs after those
above it. Take iteration counts and time limits from `settings.count(full, quick)` and
`settings.seconds(full, quick)`, bound every loop in count and in time, and clean up whatever
it starts in a `finally`. A benchmark that raises is reported as crashed (exit
code 1); a MISS is only reported (exit code 0): these are measurements, not tests.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import json
import os
import selectors
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

import httpx
from PIL import Image

from imagegen import AsyncImagesClient, ImagesClient, ImagesResult
from imagegen.server import ServerConfig
from imagegen.server.painter import PaintSpec, encode, paint
from imagegen.server.policy import Job, resolve
from imagegen.server.render import spec_for

ROOT = Path(__file__).resolve().parent.parent


# ---- results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """How a run was asked for: `quick` means fewer iterations and shorter time limits."""

    quick: bool = False

    def count(self, full: int, quick: int) -> int:
        """An iteration count: `quick` in a quick run, else `full`."""
        return quick if self.quick else full

    def seconds(self, full: float, quick: float) -> float:
        """A time limit: `quick` in a quick run, else `full`."""
        return quick if self.quick else full


@dataclass(frozen=True)
class Measure:
    """One number a benchmark measured, with what it is and its unit."""

    label: str
    value: float
    unit: str

    def __str__(self) -> str:
        return f"{self.label}: {_number(self.value)} {self.unit}"


@dataclass(frozen=True)
class Target:
    """The bound the ratio (measured / baseline) should meet."""

    op: Literal[">=", "<="]
    bound: float

    def met_by(self, ratio: float) -> bool:
        """Whether `ratio` is within the target."""
        return ratio >= self.bound if self.op == ">=" else ratio <= self.bound

    def __str__(self) -> str:
        return f"target {self.op} {self.bound:.2f}"


def at_least(bound: float) -> Target:
    """A target for rates and other higher-is-better ratios."""
    return Target(">=", bound)


def at_most(bound: float) -> Target:
    """A target for times and other lower-is-better ratios."""
    return Target("<=", bound)


@dataclass(frozen=True)
class Row:
    """One result line: the measured number beside its baseline, their ratio and the verdict."""

    name: str
    measured: Measure
    baseline: Measure
    target: Target
    details: str = ""  # printed indented below the line: counts, latencies, limits hit

    @property
    def ratio(self) -> float:
        """measured / baseline (infinite when the baseline is 0)."""
        return self.measured.value / self.baseline.value if self.baseline.value else float("inf")

    @property
    def passed(self) -> bool:
        """Whether the ratio meets the target."""
        return self.target.met_by(self.ratio)

    def line(self, name_width: int) -> str:
        """The result as one line, its name padded to `name_width`."""
        verdict = "PASS" if self.passed else "MISS"
        return (
            f"{self.name:<{name_width}}{self.measured}; {self.baseline}; "
            f"ratio {self.ratio:.2f} ({self.target}) {verdict}"
        )


def _number(value: float) -> str:
    return f"{value:.1f}" if abs(value) >= 10 else f"{value:.3g}"


# ---- the registry ----------------------------------------------------------------------------

BenchmarkFn = Callable[[Settings], list[Row]]


@dataclass(frozen=True)
class Benchmark:
    """A registered benchmark: its name on the command line, a summary and the function."""

    name: str
    summary: str
    run: BenchmarkFn


REGISTRY: dict[str, Benchmark] = {}


def benchmark(name: str, summary: str) -> Callable[[BenchmarkFn], BenchmarkFn]:
    """Register the decorated function as benchmark `name` (run in registration order)."""

    def register(run: BenchmarkFn) -> BenchmarkFn:
        if name in REGISTRY:
            raise ValueError(f"benchmark {name!r} is registered twice")
        REGISTRY[name] = Benchmark(name, summary, run)
        return run

    return register


class BenchError(RuntimeError):
    """A benchmark could not measure what it should (a failed request, a wrong answer)."""


# ---- server-rps: the reference server against painting in-process ---------------------------

RPS_SIZE = "256x256"
RPS_MODEL = "dall-e-2"
RPS_CONCURRENCY = 4
RPS_TARGET = at_least(0.6)
SERVER_START_TIMEOUT_S = 30.0
SERVER_STOP_TIMEOUT_S = 10.0
REQUEST_TIMEOUT_S = 30.0
_SUBJECTS = (
    "a lighthouse on a rocky coast at dusk",
    "three red apples on a wooden table",
    "an astronaut riding a horse across a desert",
    "a watercolour map of an imaginary island",
    "a cat asleep on a stack of old books",
    "a neon city street in the rain",
)
# The server, in its own process: prints its base URL once it listens, and exits when its
# stdin closes, so it cannot outlive the benchmark even if the benchmark is killed.
_SERVER_CODE = """
import os, threading
from imagegen.server import ServerConfig, serve_forever

def _exit_with_parent():
    while os.read(0, 4096):  # the raw fd: a daemon thread must not hold sys.stdin's lock at exit
        pass
    os._exit(0)

threading.Thread(target=_exit_with_parent, daemon=True).start()
token = os.environ.get("IMAGEGEN_BENCH_TOKEN")
config = ServerConfig(tokens=frozenset({token})) if token else ServerConfig(auth=False)
serve_forever(config, "127.0.0.1", 0, on_ready=lambda url: print(url, flush=True))
"""


def rps_prompts(count: int, tag: str) -> list[str]:
    """`count` distinct prompts of varied length, so no two requests draw the same picture."""
    return [f"{_SUBJECTS[i % len(_SUBJECTS)]}, {tag} #{i}" + " in detail" * (i % 4) for i in range(count)]


def rps_body(prompt: str) -> dict[str, str]:
    """The generation request the benchmark sends."""
    return {"prompt": prompt, "model": RPS_MODEL, "size": RPS_SIZE, "response_format": "b64_json"}


@dataclass
class LoadResult:
    """What a load run did: how many answers, in how long, and each request's latency."""

    completed: int = 0
    elapsed_s: float = 0.0
    latencies_s: list[float] = field(default_factory=list)
    sample: bytes = b""  # the first answer's body
    timed_out: bool = False

    @property
    def rate(self) -> float:
        """Answers per second."""
        return self.completed / self.elapsed_s if self.elapsed_s else 0.0


@benchmark("server-rps", "256x256 PNG generations/s of the server (own process) vs painting in-process")
def server_rps(settings: Settings) -> list[Row]:
    """Requests/s of one uvicorn worker over loopback, as a ratio to paint+encode in-process."""
    count = settings.count(400, 100)
    warmup = settings.count(24, 12)
    limit_s = settings.seconds(120.0, 60.0)
    prompts = rps_prompts(count, "measured")
    with server_process() as base_url:
        drive_load(base_url, rps_prompts(warmup, "warm-up"), RPS_CONCURRENCY, limit_s)
        floor = paint_floor(prompts, warmup, limit_s)
        load = drive_load(base_url, prompts, RPS_CONCURRENCY, limit_s)
    check_sample(load.sample, prompts[0])
    return [
        Row(
            "server-rps",
            Measure(f"{RPS_SIZE} png generations, 1 worker", load.rate, "req/s"),
            Measure("in-process paint+encode floor", floor.rate, "images/s"),
            RPS_TARGET,
            details=load_details(load, count, floor),
        )
    ]


def load_details(load: LoadResult, count: int, floor: LoadResult) -> str:
    """Counts and latencies of both sides, and whether a time limit cut a run short."""
    ms = sorted(1000 * s for s in load.latencies_s)
    p95 = ms[min(len(ms) - 1, int(0.95 * len(ms)))]
    parts = [
        f"{load.completed}/{count} requests, {RPS_CONCURRENCY} in flight, "
        f"latency p50 {statistics.median(ms):.1f} ms p95 {p95:.1f} ms",
        f"floor {1000 * floor.elapsed_s / max(1, floor.completed):.2f} ms/image over {floor.completed}",
    ]
    if load.timed_out or floor.timed_out:
        parts.append("stopped by the time limit")
    return "; ".join(parts)


@contextmanager
def server_process(token: str | None = None) -> Iterator[str]:
    """Run the reference server (no auth unless `token`, 127.0.0.1, a free port) in its own
    process; yields its base URL and stops the process when the block ends, however it ends."""
    with tempfile.TemporaryFile() as stderr:
        environment = {**os.environ, **({"IMAGEGEN_BENCH_TOKEN": token} if token else {})}
        process = subprocess.Popen(
            [sys.executable, "-c", _SERVER_CODE],
            cwd=ROOT,
            env=environment,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
        )
        try:
            assert process.stdout is not None
            url = _first_line(process, process.stdout, SERVER_START_TIMEOUT_S)
            if not url.startswith("http://127.0.0.1:"):
                stderr.seek(0)
                log = stderr.read().decode(errors="replace").strip()
                raise BenchError(f"the server did not start (first line {url!r}):\n{log}")
            yield url
        finally:
            stop_process(process)


def _first_line(process: subprocess.Popen[bytes], stream: IO[bytes], timeout_s: float) -> str:
    """The first line `process` writes to `stream`, or what it wrote before exiting or timing out."""
    deadline = time.monotonic() + timeout_s
    buffer = b""
    with selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)
        while b"\n" not in buffer and time.monotonic() < deadline:
            if not selector.select(timeout=min(0.5, max(0.0, deadline - time.monotonic()))):
                if process.poll() is not None:
                    break
                continue
            chunk = os.read(stream.fileno(), 4096)
            if not chunk:
                break
            buffer += chunk
    return buffer.split(b"\n", 1)[0].decode(errors="replace").strip()


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Stop `process`: SIGTERM, then SIGKILL if it is still running after a while."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(SERVER_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(SERVER_STOP_TIMEOUT_S)
    for stream in (process.stdin, process.stdout):
        if stream is not None:
            stream.close()


def drive_load(base_url: str, prompts: Sequence[str], concurrency: int, limit_s: float) -> LoadResult:
    """POST one generation per prompt, `concurrency` in flight, stopping early at `limit_s`."""
    return asyncio.run(_drive_load(base_url, prompts, concurrency, limit_s))


async def _drive_load(base_url: str, prompts: Sequence[str], concurrency: int, limit_s: float) -> LoadResult:
    result = LoadResult()
    pending = iter(range(len(prompts)))  # shared: each prompt is sent once, by whichever worker is free
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=REQUEST_TIMEOUT_S) as client:
        start = time.perf_counter()
        deadline = start + limit_s

        async def worker() -> None:
            for index in pending:
                if time.perf_counter() > deadline:
                    result.timed_out = True
                    return
                sent = time.perf_counter()
                body = await _generate(client, prompts[index])
                result.latencies_s.append(time.perf_counter() - sent)
                result.completed += 1
                if index == 0:
                    result.sample = body

        async with asyncio.TaskGroup() as group:
            for _ in range(concurrency):
                group.create_task(worker())
        result.elapsed_s = time.perf_counter() - start
    return result


async def _generate(client: httpx.AsyncClient, prompt: str) -> bytes:
    """POST one generation for `prompt`; its body, or BenchError unless it answered 200."""
    response = await client.post("/images/generations", json=rps_body(prompt))
    if response.status_code != 200:
        raise BenchError(f"{prompt!r} answered {response.status_code}: {response.text[:300]}")
    return response.content


def paint_floor(prompts: Sequence[str], warmup: int, limit_s: float) -> LoadResult:
    """Paint and encode each prompt's picture in this thread, as the server would, after a warm-up.

    The PaintSpecs come from the same request bodies through the server's own `resolve` and
    `spec_for`, before the clock starts: only paint + encode is timed.
    """
    jobs_and_specs = [_job_and_spec(prompt) for prompt in rps_prompts(warmup, "floor warm-up")]
    for job, spec in jobs_and_specs:
        encode(paint(spec), job.output_format, job.compression)
    jobs_and_specs = [_job_and_spec(prompt) for prompt in prompts]
    result = LoadResult()
    start = time.perf_counter()
    deadline = start + limit_s
    for job, spec in jobs_and_specs:
        if time.perf_counter() > deadline:
            result.timed_out = True
            break
        encode(paint(spec), job.output_format, job.compression)
        result.completed += 1
    result.elapsed_s = time.perf_counter() - start
    return result


def _job_and_spec(prompt: str) -> tuple[Job, PaintSpec]:
    job = resolve("generations", rps_body(prompt), ServerConfig(auth=False).catalog)
    return job, spec_for(job, 0)


def check_sample(body: bytes, prompt: str) -> None:
    """The answer for `prompt` must be one 256x256 PNG, the very bytes painted in-process."""
    if not body:
        raise BenchError("no answer was received for the first prompt")
    data = json.loads(body)["data"]
    if len(data) != 1 or "b64_json" not in data[0]:
        raise BenchError(f"expected one b64_json image, got {body[:300]!r}")
    png = base64.b64decode(data[0]["b64_json"], validate=True)
    with Image.open(io.BytesIO(png)) as image:
        image.load()
        if image.format != "PNG" or image.size != (256, 256):
            raise BenchError(f"expected a 256x256 PNG, got a {image.format} of {image.size}")
    job, spec = _job_and_spec(prompt)
    if png != encode(paint(spec), job.output_format, job.compression):
        raise BenchError("the server's image differs from the in-process one: the comparison is unfair")


# ---- client-overhead: ImagesClient.generate against raw httpx and openai-python -------------

MOCK_BASE_URL = "http://images.invalid/v1"  # never resolved: httpx.MockTransport answers
OVERHEAD_PROMPT = "a lighthouse on a rocky coast at dusk"
OVERHEAD_MODEL = "gpt-image-1.5"
OVERHEAD_SIZE = "1024x1024"
OVERHEAD_RAW_TARGET = at_most(1.15)  # imagegen time / raw httpx time
OVERHEAD_OPENAI_TARGET = at_least(2.0)  # openai-python time / imagegen time


class FixedAnswer:
    """An httpx.MockTransport handler: every request gets the same JSON body (bytes built once).

    It keeps the body of the last request it saw, so a benchmark can check what was sent.
    """

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.headers = {"content-type": "application/json"}
        self.last_request = b""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.last_request = request.content
        return httpx.Response(200, content=self.body, headers=self.headers)


def small_png() -> bytes:
    """A 64x64 RGB PNG with deterministic, varied pixels."""
    buffer = io.BytesIO()
    Image.frombytes("RGB", (64, 64), bytes(range(256)) * 48).save(buffer, "PNG")
    return buffer.getvalue()


def gpt_image_answer(png: bytes, count: int, size: str) -> bytes:
    """A GPT-image-style ImagesResponse: `count` copies of `png` as b64_json, with usage."""
    b64 = base64.b64encode(png).decode("ascii")
    return json.dumps(
        {
            "created": 1_700_000_000,
            "data": [{"b64_json": b64} for _ in range(count)],
            "background": "opaque",
            "output_format": "png",
            "quality": "high",
            "size": size,
            "usage": {
                "input_tokens": 12,
                "input_tokens_details": {"image_tokens": 0, "text_tokens": 12},
                "output_tokens": 4160 * count,
                "total_tokens": 12 + 4160 * count,
            },
        }
    ).encode()


@benchmark("client-overhead", "time per ImagesClient.generate (MockTransport) vs raw httpx and openai-python")
def client_overhead(settings: Settings) -> list[Row]:
    """Per-call time of the three clients on the same canned answer, in interleaved batches."""
    import openai  # here, not at the top: it takes a while to import and only this benchmark needs it

    # Many short interleaved batches: on a shared machine the best batch of each is the one that
    # ran undisturbed, and short batches give each contender more chances of one.
    batch = settings.count(25, 25)
    batches = settings.count(4000, 600) // batch
    warmup = settings.count(200, 50)
    limit_s = settings.seconds(120.0, 30.0)
    png = small_png()
    answer = gpt_image_answer(png, 1, OVERHEAD_SIZE)
    body = {"prompt": OVERHEAD_PROMPT, "model": OVERHEAD_MODEL, "size": OVERHEAD_SIZE}
    url = f"{MOCK_BASE_URL}/images/generations"
    handlers = {name: FixedAnswer(answer) for name in ("imagegen", "httpx", "openai")}
    ours = ImagesClient(
        base_url=MOCK_BASE_URL, api_key="bench", transport=httpx.MockTransport(handlers["imagegen"])
    )
    # Raw httpx authenticates too, as any real call must (the key set once, as a raw user would).
    raw = httpx.Client(
        transport=httpx.MockTransport(handlers["httpx"]), headers={"Authorization": "Bearer bench"}
    )
    # openai 3.x is built on httpx2 and also takes an httpx.Client, as here (what the brief asks for).
    theirs_http = httpx.Client(transport=httpx.MockTransport(handlers["openai"]))
    theirs = openai.OpenAI(base_url=MOCK_BASE_URL, api_key="bench", http_client=theirs_http, max_retries=0)
    try:

        def call_ours() -> ImagesResult:
            return ours.generate(OVERHEAD_PROMPT, model=OVERHEAD_MODEL, size=OVERHEAD_SIZE)

        def call_raw() -> Any:
            return json.loads(raw.post(url, json=body).content)

        def call_theirs() -> openai.types.ImagesResponse:
            return theirs.images.generate(prompt=OVERHEAD_PROMPT, model=OVERHEAD_MODEL, size=OVERHEAD_SIZE)

        # One call each, checked: the same request went out and the same image came back.
        images = {
            "imagegen": call_ours().images[0].bytes(),
            "httpx": base64.b64decode(call_raw()["data"][0]["b64_json"]),
            "openai": base64.b64decode((call_theirs().data or [])[0].b64_json or ""),
        }
        for name, handler in handlers.items():
            if json.loads(handler.last_request) != body:
                raise BenchError(f"{name} sent {handler.last_request[:300]!r}, unlike the others")
            if images[name] != png:
                raise BenchError(f"{name} did not give back the PNG of the answer")
        contenders = {"imagegen": call_ours, "httpx": call_raw, "openai": call_theirs}
        time_batches(contenders, warmup, 1, limit_s)
        per_call = time_batches(contenders, batch, batches, limit_s)
    finally:
        ours.close()
        raw.close()
        theirs.close()
        theirs_http.close()
    best = {name: 1e6 * min(times) for name, times in per_call.items()}
    median = {name: 1e6 * statistics.median(times) for name, times in per_call.items()}
    done = len(per_call["imagegen"])
    details = (
        f"best of {done} interleaved batches of {batch} calls each"
        + (" (cut short by the time limit)" if done < batches else "")
        + f"; medians: imagegen {median['imagegen']:.1f} us, httpx {median['httpx']:.1f} us, "
        f"openai {median['openai']:.1f} us (imagegen/httpx {median['imagegen'] / median['httpx']:.2f}, "
        f"openai/imagegen {median['openai'] / median['imagegen']:.2f}); "
        f"{OVERHEAD_MODEL} {OVERHEAD_SIZE}, one 64x64 PNG ({len(png)} bytes) as b64_json, imagegen defaults "
        "(rule checks, Idempotency-Key)"
    )
    return [
        Row(
            "client-overhead",
            Measure("imagegen ImagesClient.generate", best["imagegen"], "us/call"),
            Measure("raw httpx post + json.loads", best["httpx"], "us/call"),
            OVERHEAD_RAW_TARGET,
            details=details,
        ),
        Row(
            "client-overhead",
            Measure("openai-python images.generate", best["openai"], "us/call"),
            Measure("imagegen ImagesClient.generate", best["imagegen"], "us/call"),
            OVERHEAD_OPENAI_TARGET,
        ),
    ]


def time_batches(
    contenders: Mapping[str, Callable[[], object]], batch: int, batches: int, limit_s: float
) -> dict[str, list[float]]:
    """Seconds per call of each contender, one number per batch of `batch` calls.

    The contenders take turns batch by batch, starting with a different one each round, so that
    drift (frequency scaling, a noisy neighbour) falls on all alike. No new round starts after
    `limit_s`; the first always runs.
    """
    per_call: dict[str, list[float]] = {name: [] for name in contenders}
    names = list(contenders)
    deadline = time.perf_counter() + limit_s
    for round_index in range(batches):
        if round_index and time.perf_counter() > deadline:
            break
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            call = contenders[name]
            start = time.perf_counter()
            for _ in range(batch):
                call()
            per_call[name].append((time.perf_counter() - start) / batch)
    return per_call


# ---- import-time: `import imagegen` in a fresh process against httpx and openai --------------

IMPORT_TARGET = at_most(1.6)  # imagegen import time / httpx import time
IMPORT_TIMEOUT_S = 60.0
# What a bare `import imagegen` must not load (they belong to the server and conformance extras).
HEAVY_MODULES = ("PIL", "yaml", "starlette", "uvicorn", "schemathesis", "hypothesis", "jsonschema")
_LOADED_CODE = "import sys, imagegen; print(' '.join(sorted(sys.modules)))"


@benchmark("import-time", "import imagegen vs import httpx and import openai, each in a fresh process")
def import_time(settings: Settings) -> list[Row]:
    """Median wall time of `python -c "import X"` minus that of `python -c "pass"`."""
    runs = settings.count(7, 3)
    limit_s = settings.seconds(180.0, 60.0)
    codes = {"pass": "pass", **{name: f"import {name}" for name in ("httpx", "openai", "imagegen")}}
    # `import imagegen` loads its names lazily; what a program pays is the import of the client.
    codes["client"] = "from imagegen import ImagesClient"
    for code in codes.values():  # warm-up: bytecode caches written, files in the page cache
        run_python(code)
    seconds: dict[str, list[float]] = {name: [] for name in codes}
    names = list(codes)
    deadline = time.perf_counter() + limit_s
    for run_index in range(runs):
        if run_index and time.perf_counter() > deadline:
            break
        shift = run_index % len(names)
        for name in names[shift:] + names[:shift]:
            seconds[name].append(run_python(codes[name]))
    startup = statistics.median(seconds["pass"])
    ms = {name: 1000 * max(0.0, statistics.median(values) - startup) for name, values in seconds.items()}
    loaded = {name.split(".")[0] for name in run_python_output(_LOADED_CODE).split()}
    heavy = [name for name in HEAVY_MODULES if name in loaded]
    done = len(seconds["pass"])
    return [
        Row(
            "import-time",
            Measure("from imagegen import ImagesClient", ms["client"], "ms"),
            Measure("import httpx", ms["httpx"], "ms"),
            IMPORT_TARGET,
            details=(
                f"bare import imagegen {ms['imagegen']:.1f} ms (its names load on first use); "
                f"import openai {ms['openai']:.1f} ms; medians of {done} fresh processes each, less "
                f"python startup ({1000 * startup:.1f} ms)"
                + ("; stopped by the time limit" if done < runs else "")
                + "; heavy modules loaded by import imagegen: "
                + (", ".join(heavy) + " (it must load none)" if heavy else "none")
                + f" (checked {', '.join(HEAVY_MODULES)})"
            ),
        )
    ]


def run_python(code: str) -> float:
    """Wall seconds of a fresh `python -c code` (this interpreter), which must succeed."""
    start = time.perf_counter()
    run_python_output(code)
    return time.perf_counter() - start


def run_python_output(code: str) -> str:
    """What a fresh `python -c code` prints; BenchError if it fails or outlives IMPORT_TIMEOUT_S."""
    completed = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, timeout=IMPORT_TIMEOUT_S, check=False
    )
    if completed.returncode != 0:
        raise BenchError(f"python -c {code!r} failed:\n{completed.stderr.decode(errors='replace')}")
    return completed.stdout.decode()


# ---- parse-and-save: a 10-image answer through ImagesClient vs json + base64 by hand ---------

SAVE_COUNT = 10
SAVE_WIDTH, SAVE_HEIGHT = 1536, 1024
SAVE_SIZE = f"{SAVE_WIDTH}x{SAVE_HEIGHT}"
SAVE_TIME_TARGET = at_most(1.5)
SAVE_MEMORY_TARGET = at_most(1.5)
# One side of parse-and-save, in a fresh process: argv is the side ("imagegen" or "hand"), the
# big and the small answer files, a work folder, the number of runs, a time limit, the size and
# the image count. It first handles the small answer once (imports, the client's first-call work
# such as loading the model rules), reads the big answer, takes its peak resident set size as the
# baseline, handles the big answer once (the memory run) and reads the peak again, then times
# further runs. Each run saves into a fresh folder, after os.sync(); all but the last folder are
# removed (untimed). It prints one JSON line.
_SAVE_CODE = """
import base64, gc, json, os, resource, shutil, sys, time
from pathlib import Path

side, big_path, small_path, work, runs, limit_s = sys.argv[1:7]
work, runs, limit_s = Path(work), int(runs), float(limit_s)
answer = {"body": Path(small_path).read_bytes()}
if side == "imagegen":
    import httpx
    import imagegen

    def handler(request):
        return httpx.Response(200, content=answer["body"], headers={"content-type": "application/json"})

    client = imagegen.ImagesClient(
        base_url="http://images.invalid/v1", api_key="bench", transport=httpx.MockTransport(handler)
    )

    def handle(folder, n):
        client.generate("bench", model="gpt-image-1.5", size=sys.argv[7], n=n).save_all(folder)

else:

    def handle(folder, n):
        for index, item in enumerate(json.loads(answer["body"])["data"]):
            (folder / f"image-{index + 1}.png").write_bytes(base64.b64decode(item["b64_json"]))

def rss():
    # VmHWM: ru_maxrss also counts the parent's peak, which a child inherits at exec on Linux.
    try:
        with open("/proc/self/status") as status:
            return 1024 * next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)

warm = work / "warm-up"
warm.mkdir()
handle(warm, 1)
shutil.rmtree(warm)
answer["body"] = Path(big_path).read_bytes()
gc.collect()
baseline = rss()
times = []
deadline = time.perf_counter() + limit_s
for run in range(runs):
    if run and time.perf_counter() > deadline:
        break
    folder = work / f"run-{run}"
    folder.mkdir()
    if hasattr(os, "sync"):
        os.sync()  # no run pays for the writeback of files written before it
    start = time.perf_counter()
    handle(folder, int(sys.argv[8]))
    times.append(time.perf_counter() - start)
    if run == 0:
        peak = rss()
    if run + 1 < runs:
        shutil.rmtree(folder)
print(json.dumps({"baseline": baseline, "peak": peak, "times": times, "folder": str(folder)}))
"""


@benchmark("parse-and-save", "time and peak memory to parse + save ten 1536x1024 PNGs: imagegen vs by hand")
def parse_and_save(settings: Settings) -> list[Row]:
    """ImagesClient.generate over MockTransport + save_all, against json.loads + b64decode + write.

    Each side runs in fresh processes, in ABBA order in a full run (AB in a quick one), as the
    disk and the machine's other load make single runs noisy; the time is the best run of all.
    """
    runs = 3
    passes = settings.count(2, 1)
    limit_s = settings.seconds(300.0, 120.0)
    png = noisy_png(SAVE_WIDTH, SAVE_HEIGHT)
    sides: dict[str, list[dict[str, Any]]] = {"hand": [], "imagegen": []}
    with tempfile.TemporaryDirectory(prefix="imagegen-bench-") as temporary:
        folder = Path(temporary)
        big, small = folder / "big.json", folder / "small.json"
        big.write_bytes(gpt_image_answer(png, SAVE_COUNT, SAVE_SIZE))
        small.write_bytes(gpt_image_answer(small_png(), 1, "1024x1024"))
        body_bytes = big.stat().st_size
        for pass_index in range(passes):
            for side in list(sides) if pass_index % 2 == 0 else list(reversed(sides)):
                work = folder / f"{side}-{pass_index}"
                work.mkdir()
                outcome = save_side(side, big, small, work, runs, limit_s)
                sides[side].append(outcome)
                saved = sorted(Path(outcome["folder"]).iterdir())
                if {path.name for path in saved} != {f"image-{i + 1}.png" for i in range(SAVE_COUNT)}:
                    raise BenchError(f"{side} saved {[path.name for path in saved]}")
                if any(path.read_bytes() != png for path in saved):
                    raise BenchError(f"{side} saved files that differ from the PNG of the answer")
                shutil.rmtree(work)
    ms = {side: 1000 * min(min(outcome["times"]) for outcome in outcomes) for side, outcomes in sides.items()}
    mb = {  # the largest growth seen over that side's processes
        side: max(outcome["peak"] - outcome["baseline"] for outcome in outcomes) / 2**20
        for side, outcomes in sides.items()
    }
    timed = min(sum(len(outcome["times"]) for outcome in outcomes) for outcomes in sides.values())
    details = (
        f"{SAVE_COUNT} x {len(png) / 2**20:.1f} MB PNG, a {body_bytes / 2**20:.1f} MB JSON body; "
        f"time: best of {timed} runs in {passes} fresh process(es) per side; memory: growth of the "
        "peak RSS (VmHWM, else ru_maxrss) of a fresh process over its baseline (after imports, a "
        "small warm-up answer and reading the body) in its first run; baselines: "
        f"hand {sides['hand'][0]['baseline'] / 2**20:.1f} MB, "
        f"imagegen {sides['imagegen'][0]['baseline'] / 2**20:.1f} MB"
    )
    return [
        Row(
            "parse-and-save",
            Measure("imagegen generate + save_all", ms["imagegen"], "ms"),
            Measure("json.loads + b64decode + write by hand", ms["hand"], "ms"),
            SAVE_TIME_TARGET,
            details=details,
        ),
        Row(
            "parse-and-save",
            Measure("imagegen peak memory", mb["imagegen"], "MB"),
            Measure("by hand", mb["hand"], "MB"),
            SAVE_MEMORY_TARGET,
        ),
    ]


def noisy_png(width: int, height: int) -> bytes:
    """An RGB PNG of random pixels: it hardly compresses, like a detailed picture."""
    buffer = io.BytesIO()
    Image.frombytes("RGB", (width, height), os.urandom(width * height * 3)).save(buffer, "PNG")
    return buffer.getvalue()


def save_side(side: str, big: Path, small: Path, work: Path, runs: int, limit_s: float) -> dict[str, Any]:
    """Run one side of parse-and-save in a fresh process (killed after `limit_s` plus a margin)."""
    arguments = [side, *map(str, (big, small, work, runs, limit_s)), SAVE_SIZE, str(SAVE_COUNT)]
    completed = subprocess.run(
        [sys.executable, "-c", _SAVE_CODE, *arguments],
        cwd=ROOT,
        capture_output=True,
        timeout=limit_s + 60.0,
        check=False,
    )
    if completed.returncode != 0:
        raise BenchError(f"the {side} side failed:\n{completed.stderr.decode(errors='replace')}")
    outcome: dict[str, Any] = json.loads(completed.stdout.decode().strip().splitlines()[-1])
    return outcome


# ---- async-throughput: AsyncImagesClient against raw httpx.AsyncClient on the server ---------

ASYNC_COUNT = 256
ASYNC_CONCURRENCY = 32
ASYNC_TARGET = at_least(0.9)  # imagegen req/s / raw httpx req/s


@benchmark("async-throughput", "256 generations, 32 in flight, on the server: AsyncImagesClient vs httpx")
def async_throughput(settings: Settings) -> list[Row]:
    """Requests/s of AsyncImagesClient as a ratio to raw httpx.AsyncClient, same server process."""
    rounds = settings.count(4, 2)
    warmup = settings.count(64, 32)
    limit_s = settings.seconds(120.0, 60.0)
    prompts = rps_prompts(ASYNC_COUNT, "async")
    with server_process() as base_url:
        loads = asyncio.run(_async_rounds(base_url, prompts, rounds, rps_prompts(warmup, "warm-up"), limit_s))
    check_sample(loads["httpx"][0].sample, prompts[0])
    if loads["imagegen"][0].sample != _png_of(loads["httpx"][0].sample):
        raise BenchError("imagegen's image for the first prompt differs from raw httpx's")
    best = {side: max(runs, key=lambda load: load.rate) for side, runs in loads.items()}
    parts = [
        f"{side}: {', '.join(f'{load.rate:.1f}' for load in runs)} req/s "
        f"(p50 latency of the best {1000 * statistics.median(best[side].latencies_s):.0f} ms)"
        for side, runs in loads.items()
    ]
    cut = any(load.timed_out or load.completed < ASYNC_COUNT for runs in loads.values() for load in runs)
    return [
        Row(
            "async-throughput",
            Measure("imagegen AsyncImagesClient", best["imagegen"].rate, "req/s"),
            Measure("raw httpx.AsyncClient + json.loads", best["httpx"].rate, "req/s"),
            ASYNC_TARGET,
            details=(
                f"best of {len(loads['httpx'])} alternating rounds of {ASYNC_COUNT} {RPS_SIZE} {RPS_MODEL} "
                f"b64_json generations, {ASYNC_CONCURRENCY} in flight, one server process; "
                + "; ".join(parts)
                + ("; stopped by the time limit" if cut else "")
            ),
        )
    ]


async def _async_rounds(
    base_url: str, prompts: Sequence[str], rounds: int, warmup: Sequence[str], limit_s: float
) -> dict[str, list[LoadResult]]:
    """Warm both clients up, then run `rounds` rounds of each, alternating which goes first."""
    loads: dict[str, list[LoadResult]] = {"httpx": [], "imagegen": []}
    async with (
        AsyncImagesClient(base_url=base_url, api_key="bench", timeout=REQUEST_TIMEOUT_S) as ours,
        httpx.AsyncClient(base_url=base_url, timeout=REQUEST_TIMEOUT_S) as raw,
    ):

        async def send_ours(prompt: str, keep: bool) -> bytes:
            result = await ours.generate(prompt, model=RPS_MODEL, size=RPS_SIZE, response_format="b64_json")
            return await result.images[0].bytes() if keep else b""

        async def send_raw(prompt: str, keep: bool) -> bytes:
            body = await _generate(raw, prompt)
            json.loads(body)
            return body if keep else b""

        senders = {"httpx": send_raw, "imagegen": send_ours}
        for send in senders.values():
            await drive_async(send, warmup, ASYNC_CONCURRENCY, limit_s)
        deadline = time.perf_counter() + limit_s * rounds
        for round_index in range(rounds):
            if round_index and time.perf_counter() > deadline:
                break
            order = list(senders) if round_index % 2 == 0 else list(reversed(senders))
            for side in order:
                loads[side].append(await drive_async(senders[side], prompts, ASYNC_CONCURRENCY, limit_s))
    return loads


async def drive_async(
    send: Callable[[str, bool], Awaitable[bytes]], prompts: Sequence[str], concurrency: int, limit_s: float
) -> LoadResult:
    """Call `send` once per prompt, `concurrency` at a time, stopping early at `limit_s`; the first
    prompt's call is asked to keep what it got (`keep=True`) as the sample."""
    result = LoadResult()
    pending = iter(range(len(prompts)))  # shared: each prompt is sent once, by whichever worker is free
    start = time.perf_counter()
    deadline = start + limit_s

    async def worker() -> None:
        for index in pending:
            if time.perf_counter() > deadline:
                result.timed_out = True
                return
            sent = time.perf_counter()
            kept = await send(prompts[index], index == 0)
            result.latencies_s.append(time.perf_counter() - sent)
            result.completed += 1
            if index == 0:
                result.sample = kept

    async with asyncio.TaskGroup() as group:
        for _ in range(concurrency):
            group.create_task(worker())
    result.elapsed_s = time.perf_counter() - start
    return result


def _png_of(body: bytes) -> bytes:
    """The first image of a JSON answer, decoded."""
    return base64.b64decode(json.loads(body)["data"][0]["b64_json"])


# ---- cli-help: `imagegen --help` against a bare `python -c pass` -----------------------------

HELP_TARGET = at_most(3.0)  # imagegen --help wall time / python -c pass wall time
HELP_TIMEOUT_S = 30.0
IMAGEGEN_EXECUTABLE = Path(sys.executable).parent / "imagegen"


@benchmark("cli-help", "wall time of `imagegen --help` (the installed command) vs `python -c pass`")
def cli_help(settings: Settings) -> list[Row]:
    """Median wall time of the venv's `imagegen --help` and of `python -c pass`, runs interleaved."""
    runs = settings.count(21, 7)
    limit_s = settings.seconds(60.0, 20.0)
    commands = {
        "imagegen --help": [str(IMAGEGEN_EXECUTABLE), "--help"],
        "python -c pass": [sys.executable, "-c", "pass"],
    }
    help_text = run_command(commands["imagegen --help"])
    if not help_text.startswith("usage: imagegen"):
        raise BenchError(f"imagegen --help printed {help_text[:300]!r}, not its usage")
    run_command(commands["python -c pass"])  # warm-up: files in the page cache
    seconds: dict[str, list[float]] = {name: [] for name in commands}
    names = list(commands)
    deadline = time.perf_counter() + limit_s
    for run_index in range(runs):
        if run_index and time.perf_counter() > deadline:
            break
        shift = run_index % len(names)
        for name in names[shift:] + names[:shift]:
            start = time.perf_counter()
            run_command(commands[name])
            seconds[name].append(time.perf_counter() - start)
    ms = {name: 1000 * statistics.median(values) for name, values in seconds.items()}
    done = len(seconds["python -c pass"])
    return [
        Row(
            "cli-help",
            Measure("imagegen --help", ms["imagegen --help"], "ms"),
            Measure("python -c pass", ms["python -c pass"], "ms"),
            HELP_TARGET,
            details=(
                f"medians of {done} fresh processes each, wall time including interpreter startup; "
                f"fastest imagegen --help {1000 * min(seconds['imagegen --help']):.1f} ms"
                + ("; stopped by the time limit" if done < runs else "")
            ),
        )
    ]


CONFORMANCE_BUDGET_S = 120.0


@benchmark("conformance", "the default `imagegen conformance` run on the reference server: time and checks/s")
def conformance_run(settings: Settings) -> list[Row]:
    """Wall time of the default run (model dall-e-2, all operations) against the server in its own
    process, next to the 2-minute budget, and the checks per second it made."""
    model = "dall-e-2" if not settings.quick else "dall-e-3"
    token = "bench-conformance-token"
    with server_process(token) as base_url:
        start = time.perf_counter()
        done = subprocess.run(
            [
                str(IMAGEGEN_EXECUTABLE),
                "conformance",
                "--url",
                base_url,
                "--token",
                token,
                "--model",
                model,
                "-q",
            ],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise BenchError(f"imagegen conformance exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    counted = [line.split()[1] for line in done.stdout.splitlines() if line.startswith("checks ")]
    checks = int(counted[0]) if counted and counted[0].isdigit() else 0
    return [
        Row(
            "conformance",
            Measure(f"default run ({model})", elapsed, "s"),
            Measure("budget", CONFORMANCE_BUDGET_S, "s"),
            at_most(1.0),
            details=f"{checks} checks in {elapsed:.1f} s: {checks / elapsed:.0f} checks/s, start-up included",
        )
    ]


def run_command(command: Sequence[str]) -> str:
    """What `command` prints on stdout; BenchError if it fails or outlives HELP_TIMEOUT_S."""
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, timeout=HELP_TIMEOUT_S, check=False)
    if completed.returncode != 0:
        raise BenchError(f"{' '.join(command)} failed:\n{completed.stderr.decode(errors='replace')}")
    return completed.stdout.decode()


# ---- the command line ------------------------------------------------------------------------


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """The command line: benchmark names, --list, --quick."""
    parser = argparse.ArgumentParser(
        prog="scripts/bench",
        description="Run imagegen's benchmarks; each reports measured vs baseline, the ratio and PASS/MISS.",
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help="benchmarks to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument("--quick", action="store_true", help="fewer iterations and shorter time limits")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in REGISTRY]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(REGISTRY)}")
    return args


def run(names: Sequence[str], settings: Settings) -> int:
    """Run the benchmarks named (all when none), printing each row; 1 if one crashed, else 0."""
    chosen = [REGISTRY[name] for name in dict.fromkeys(names or REGISTRY)]
    width = max(len(name) for name in REGISTRY) + 3
    crashed = 0
    for bench in chosen:
        try:
            rows = bench.run(settings)
        except Exception:
            crashed += 1
            print(f"{bench.name:<{width}}CRASHED", flush=True)
            traceback.print_exc()
            continue
        for row in rows:
            print(row.line(width), flush=True)
            if row.details:
                print(f"{'':<{width}}({row.details})", flush=True)
    return 1 if crashed else 0


def main(argv: Sequence[str] | None = None) -> int:
    """scripts/bench [--quick] [--list] [NAME...]"""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.list:
        width = max(len(name) for name in REGISTRY) + 3
        for bench in REGISTRY.values():
            print(f"{bench.name:<{width}}{bench.summary}")
        return 0
    try:
        return run(args.names, Settings(quick=args.quick))
    except KeyboardInterrupt:
        print("scripts/bench: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
