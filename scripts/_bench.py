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
import multiprocessing
import os
import selectors
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
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
RPS_CONCURRENCY = 8  # connections; with two workers, half on each
RPS_TARGET = at_least(0.9)  # one worker's req/s / in-process paint+encode images/s
WORKERS_TARGET = at_least(1.7)  # two workers' req/s / one worker's, each worker one job (one core)
SERVER_START_TIMEOUT_S = 60.0
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
# stdin closes, so it cannot outlive the benchmark even if the benchmark is killed (its worker
# processes, if any, stop within a second of their parent).
_SERVER_CODE = """
import dataclasses, os, threading
from imagegen.server import ServerConfig, serve_forever

def _exit_with_parent():
    while os.read(0, 4096):  # the raw fd: a daemon thread must not hold sys.stdin's lock at exit
        pass
    os._exit(0)

threading.Thread(target=_exit_with_parent, daemon=True).start()
token = os.environ.get("IMAGEGEN_BENCH_TOKEN")
config = ServerConfig(tokens=frozenset({token})) if token else ServerConfig(auth=False)
if os.environ.get("IMAGEGEN_BENCH_QUEUE"):
    config = dataclasses.replace(config, queue=int(os.environ["IMAGEGEN_BENCH_QUEUE"]))
if os.environ.get("IMAGEGEN_BENCH_FAULTS"):
    config = dataclasses.replace(config, faults_enabled=True)
if os.environ.get("IMAGEGEN_BENCH_JOBS"):
    config = dataclasses.replace(config, jobs=int(os.environ["IMAGEGEN_BENCH_JOBS"]))
workers = int(os.environ.get("IMAGEGEN_BENCH_WORKERS", "1"))
serve_forever(config, "127.0.0.1", 0, on_ready=lambda url: print(url, flush=True), workers=workers)
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

    def add(self, other: LoadResult) -> None:
        """Count `other`'s run as part of this one."""
        self.completed += other.completed
        self.elapsed_s += other.elapsed_s
        self.latencies_s += other.latencies_s
        self.sample = self.sample or other.sample
        self.timed_out = self.timed_out or other.timed_out


@benchmark(
    "server-rps",
    "256x256 PNG generations/s: one worker vs painting in-process, two workers vs one (own processes)",
)
def server_rps(settings: Settings) -> list[Row]:
    """Requests/s of one uvicorn worker over loopback (the defaults: two jobs), as a ratio to
    paint+encode in one thread in-process, and of `--workers 2` as a ratio to one worker, with
    one job each (a worker of one job uses one core: that ratio is how processes scale), in
    alternating rounds (so every side sees the same noise).

    With the default two jobs, one worker compresses one picture (zlib, without the interpreter
    lock) while it draws the next, so it already uses part of the second core, and a second
    worker has less left to add: the two default servers' rates are printed beside the ratio.
    Each round also paints in two processes at once, in-process: how much the machine's two
    cores give at that moment (a shared or throttled machine gives less than 2x).
    """
    rounds = settings.count(10, 4)  # short rounds, so that a change of load hits every side alike
    count = settings.count(120, 60)
    warmup = settings.count(48, 24)
    limit_s = settings.seconds(60.0, 30.0)
    floor, single, double, pair = LoadResult(), LoadResult(), LoadResult(), LoadResult()
    single_job, double_job = LoadResult(), LoadResult()
    with (
        server_process() as one,
        server_process(workers=2) as two,
        server_process(jobs=1) as one_job,
        server_process(workers=2, jobs=1) as two_jobs,
        ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as painters,
    ):
        servers = ((one, 1, single), (two, 2, double), (one_job, 1, single_job), (two_jobs, 2, double_job))
        for url, workers, _ in servers:
            drive_load(url, rps_prompts(warmup, "warm-up"), RPS_CONCURRENCY, limit_s, workers)
        list(painters.map(_floor_rate, [(rps_prompts(warmup, "pair warm-up"), limit_s)] * 2))
        for number in range(rounds):
            prompts = rps_prompts(count, f"round {number}")
            floor.add(paint_floor(prompts, warmup if number == 0 else 0, limit_s))
            for url, workers, load in servers:
                load.add(drive_load(url, prompts, RPS_CONCURRENCY, limit_s, workers))
            started = time.perf_counter()
            halves = [(prompts[: count // 2], limit_s), (prompts[count // 2 :], limit_s)]
            pair.completed += sum(done for done, _ in painters.map(_floor_rate, halves))
            pair.elapsed_s += time.perf_counter() - started
    for load in (single, double, single_job, double_job):
        check_sample(load.sample, rps_prompts(count, "round 0")[0])
    machine = pair.rate / floor.rate if floor.rate else 0.0
    return [
        Row(
            "server-rps",
            Measure(f"{RPS_SIZE} png generations, 1 worker", single.rate, "req/s"),
            Measure("in-process paint+encode floor", floor.rate, "images/s"),
            RPS_TARGET,
            details=load_details(single, floor, rounds),
        ),
        Row(
            "server-rps",
            Measure("the same, --workers 2 --jobs 1", double_job.rate, "req/s"),
            Measure("1 worker, --jobs 1", single_job.rate, "req/s"),
            WORKERS_TARGET,
            details=load_details(double_job, floor, rounds)
            + f"; the machine meanwhile: two processes painting in-process made {pair.rate:.1f} "
            f"images/s, {machine:.2f}x one (two workers reached "
            f"{double_job.rate / single_job.rate / machine if machine else 0:.0%} of that scaling); "
            f"with the default two jobs: --workers 2 {double.rate:.1f} req/s, 1 worker "
            f"{single.rate:.1f} req/s ({double.rate / single.rate if single.rate else 0:.2f}x: one "
            f"worker already uses part of the second core)",
        ),
    ]


def _floor_rate(job: tuple[Sequence[str], float]) -> tuple[int, float]:
    """In a painter process: paint+encode each prompt (after a short warm-up); (count, seconds)."""
    prompts, limit_s = job
    result = paint_floor(prompts, 0, limit_s)
    return result.completed, result.elapsed_s


def load_details(load: LoadResult, floor: LoadResult, rounds: int) -> str:
    """Counts and latencies of both sides, and whether a time limit cut a run short."""
    ms = sorted(1000 * s for s in load.latencies_s)
    p95 = ms[min(len(ms) - 1, int(0.95 * len(ms)))]
    parts = [
        f"{load.completed} requests in {rounds} rounds, {RPS_CONCURRENCY} in flight, "
        f"latency p50 {statistics.median(ms):.1f} ms p95 {p95:.1f} ms",
        f"floor {1000 * floor.elapsed_s / max(1, floor.completed):.2f} ms/image over {floor.completed}",
    ]
    if load.timed_out or floor.timed_out:
        parts.append("stopped by the time limit")
    return "; ".join(parts)


@contextmanager
def server_process(
    token: str | None = None,
    workers: int = 1,
    queue: int | None = None,
    faults: bool = False,
    jobs: int | None = None,
) -> Iterator[str]:
    """Run the reference server (no auth unless `token`, 127.0.0.1, a free port, `workers`
    processes, `queue` requests waiting and `jobs` painting per worker, faults on demand if
    `faults`) in its own process; yields its base URL and stops it when the block ends, however
    it ends."""
    environment = {
        "IMAGEGEN_BENCH_WORKERS": str(workers),
        **({"IMAGEGEN_BENCH_JOBS": str(jobs)} if jobs else {}),
        **({"IMAGEGEN_BENCH_TOKEN": token} if token else {}),
        **({"IMAGEGEN_BENCH_QUEUE": str(queue)} if queue else {}),
        **({"IMAGEGEN_BENCH_FAULTS": "1"} if faults else {}),
    }
    with _server_running(_SERVER_CODE, environment) as url:
        yield url


@contextmanager
def _server_running(code: str, environment: dict[str, str]) -> Iterator[str]:
    """`python -c code` (a server that prints its URL first) with `environment` added, stopped
    when the block ends; yields the URL, or BenchError with the server's log if it did not start."""
    with tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env={**os.environ, **environment},
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


def server_pid(url: str) -> int:
    """The pid of the (one) worker process answering at `url`."""
    return int(httpx.get(url.removesuffix("/v1") + "/health").headers["x-imagegen-worker"])


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


def drive_load(
    base_url: str, prompts: Sequence[str], concurrency: int, limit_s: float, workers: int = 1
) -> LoadResult:
    """POST one generation per prompt over `concurrency` kept-alive connections, spread evenly
    over the server's `workers` processes, stopping early at `limit_s`.

    The load comes from a minimal HTTP/1.1 client (a request's bytes, then the status line,
    the headers and Content-Length bytes of body), as wrk would: on a 2-core machine a full
    client's own CPU time would be taken from the server it measures.
    """
    return asyncio.run(_drive_load(base_url, prompts, concurrency, limit_s, workers))


async def _drive_load(
    base_url: str, prompts: Sequence[str], concurrency: int, limit_s: float, workers: int
) -> LoadResult:
    result = LoadResult()
    pending = iter(range(len(prompts)))  # shared: each prompt is sent once, by whichever worker is free
    host, port = base_url.removeprefix("http://").split("/", 1)[0].rsplit(":", 1)
    connections = await _balanced(host, int(port), concurrency, workers)
    start = time.perf_counter()
    deadline = start + limit_s

    async def worker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for index in pending:
            if time.perf_counter() > deadline:
                result.timed_out = True
                return
            sent = time.perf_counter()
            body = await _exchange(reader, writer, "POST", "/v1/images/generations", rps_body(prompts[index]))
            result.latencies_s.append(time.perf_counter() - sent)
            result.completed += 1
            if index == 0:
                result.sample = body

    try:
        async with asyncio.TaskGroup() as group:
            for reader, writer in connections:
                group.create_task(worker(reader, writer))
    finally:
        for _, writer in connections:
            writer.close()
    result.elapsed_s = time.perf_counter() - start
    return result


async def _balanced(
    host: str, port: int, count: int, workers: int
) -> list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    """`count` connections, as many to each worker process (the kernel picks the process that
    accepts each connection: open more, keep an even share of them)."""
    by_worker: dict[str, list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]] = {}
    share = max(1, count // workers)
    for _ in range(50 * count):
        if len(by_worker) == workers and all(len(held) >= share for held in by_worker.values()):
            break
        reader, writer = await asyncio.open_connection(host, port)
        _, headers = await _exchange_headers(reader, writer, "GET", "/health", None)
        held = by_worker.setdefault(headers.get("x-imagegen-worker", ""), [])
        if len(held) < share:
            held.append((reader, writer))
        else:
            writer.close()
    chosen = [connection for held in by_worker.values() for connection in held]
    if len(by_worker) < workers:
        raise BenchError(f"connections reached {len(by_worker)} of the {workers} worker processes")
    return chosen


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, method: str, path: str, body: Any
) -> bytes:
    """One request on a kept-alive connection; the answer's body, or BenchError unless 200."""
    content, _ = await _exchange_headers(reader, writer, method, path, body)
    return content


async def _exchange_headers(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, method: str, path: str, body: Any
) -> tuple[bytes, dict[str, str]]:
    payload = json.dumps(body).encode() if body is not None else b""
    head = f"{method} {path} HTTP/1.1\r\nhost: bench\r\ncontent-length: {len(payload)}\r\n"
    if body is not None:
        head += "content-type: application/json\r\n"
    writer.write(head.encode() + b"\r\n" + payload)
    status, _, rest = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").partition("\r\n")
    headers = dict(
        (name.strip().lower(), value.strip())
        for name, _, value in (line.partition(":") for line in rest.split("\r\n") if line)
    )
    content = await reader.readexactly(int(headers.get("content-length", "0")))
    if not status.startswith("HTTP/1.1 200"):
        raise BenchError(f"{method} {path} answered {status}: {content[:300]!r}")
    return content, headers


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


# ---- server-memory: bounded RSS and a free event loop under heavy requests -----------------

MEMORY_BUDGET_MB = 400.0  # RSS the 16x4096x4096 edit may take (or be refused at once)
HEALTH_BUDGET_MS = 50.0  # /health p99 while heavy edits run
GROWTH_TARGET = at_most(2.0)  # RSS after the mixed requests / RSS after the first 100
BIG_EDGE = 4096
MIXED_CONCURRENCY = 4


def zeros_png(edge: int = BIG_EDGE) -> bytes:
    """A PNG of zeros: 65 KB on the wire, 67 MB once decoded (the issue's case)."""
    buffer = io.BytesIO()
    Image.new("RGBA", (edge, edge)).save(buffer, format="PNG")
    return buffer.getvalue()


def rss_mb(pid: int, field_name: str = "VmRSS") -> float:
    """A process's resident memory (VmRSS), or its peak so far (VmHWM), in MB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(f"{field_name}:"):
                return int(line.split()[1]) / 1024
    raise BenchError(f"no {field_name} for process {pid}")


@benchmark(
    "server-memory", "RSS and /health latency under 16x4096x4096 edits; RSS growth over mixed requests"
)
def server_memory(settings: Settings) -> list[Row]:
    """The issue's measured cases, each in a fresh server process: sixteen 4096x4096 PNGs of
    zeros to /v1/images/edits, three such requests at once (refused at once or bounded: peak RSS
    next to 400 MB), /health polled all along (and during heavy edits the server accepts:
    p99 next to 50 ms), then RSS after many mixed requests next to RSS after the first 100."""
    big = zeros_png()
    with server_process() as url:
        pid = server_pid(url)
        idle = rss_mb(pid)
        health = HealthPoller(url)
        with health:
            started = time.perf_counter()
            statuses = _heavy_edits(url, big, 16, at_once=3, repeat=1)
            refused_s = time.perf_counter() - started
            peak = rss_mb(pid, "VmHWM")
            accepted = _heavy_edits(url, big, 2, at_once=2, repeat=settings.count(3, 1))
        peak_accepted = rss_mb(pid, "VmHWM")
    count = settings.count(2000, 500)
    with server_process() as url:
        pid = server_pid(url)
        after_100, after_all, mixed_s = _mixed_requests(url, pid, count)
    p99 = health.percentile(0.99)
    return [
        Row(
            "server-memory",
            Measure("peak RSS, 3 x 16 4096x4096 edits at once", peak, "MB"),
            Measure("budget", MEMORY_BUDGET_MB, "MB"),
            at_most(1.0),
            details=(
                f"answered {sorted(set(statuses))} in {refused_s:.2f} s for all three "
                f"(idle RSS {idle:.0f} MB); then {len(accepted)} edits of two 4096x4096 images, "
                f"two at once, which the budget takes (answered {sorted(set(accepted))}): "
                f"peak {peak_accepted:.0f} MB (VmHWM)"
            ),
        ),
        Row(
            "server-memory",
            Measure("/health p99 during those edits", p99, "ms"),
            Measure("budget", HEALTH_BUDGET_MS, "ms"),
            at_most(1.0),
            details=f"{len(health.latencies_ms)} polls, p50 {health.percentile(0.5):.1f} ms, "
            f"max {max(health.latencies_ms):.1f} ms",
        ),
        Row(
            "server-memory",
            Measure(f"RSS after {count} mixed requests", after_all, "MB"),
            Measure("RSS after 100", after_100, "MB"),
            GROWTH_TARGET,
            details=f"{count} generations/edits/variations with a new Idempotency-Key each, b64 and URL "
            f"answers, 1 in 20 of ten 1024x1024 images, {MIXED_CONCURRENCY} in flight, in {mixed_s:.0f} s",
        ),
    ]


class HealthPoller:
    """GET /health every 10 ms on a kept-alive connection while the block runs."""

    def __init__(self, url: str) -> None:
        self.url = url.removesuffix("/v1") + "/health"
        self.latencies_ms: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> HealthPoller:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("inf")

    def _run(self) -> None:
        with httpx.Client(timeout=30) as client:
            while not self._stop.is_set():
                started = time.perf_counter()
                client.get(self.url).raise_for_status()
                self.latencies_ms.append(1000 * (time.perf_counter() - started))
                self._stop.wait(0.01)


def _heavy_edits(url: str, image: bytes, images: int, *, at_once: int, repeat: int) -> list[int]:
    """`repeat` times, `at_once` concurrent edits of `images` copies of `image`; the statuses."""
    files = [("image[]", (f"{i}.png", image, "image/png")) for i in range(images)]
    data = {"prompt": "a heavy edit", "model": "gpt-image-1", "quality": "low", "size": "1536x1024"}

    def send(_: int) -> int:
        answer = httpx.post(f"{url}/images/edits", files=files, data=data, timeout=300)
        if answer.status_code not in (200, 413, 503):
            raise BenchError(f"a heavy edit answered {answer.status_code}: {answer.text[:300]}")
        return answer.status_code

    with ThreadPoolExecutor(at_once) as pool:
        return [status for _ in range(repeat) for status in pool.map(send, range(at_once))]


def _mixed_bodies(count: int) -> Iterator[tuple[str, dict[str, Any], list[Any] | None]]:
    small, mask = png_of_size(256, (40, 90, 200, 255)), png_of_size(256, (0, 0, 0, 0))
    for number in range(count):
        prompt = f"mixed request {number}"
        kind = number % 20
        if kind == 0:
            yield "generations", {"prompt": prompt, "model": "dall-e-2", "size": "1024x1024", "n": 10}, None
        elif kind < 8:
            fmt = "url" if kind % 2 else "b64_json"
            yield "generations", {**rps_body(prompt), "response_format": fmt}, None
        elif kind < 11:
            body = {"prompt": prompt, "model": "gpt-image-1-mini", "quality": "low", "size": "1024x1024"}
            yield "generations", body, None
        elif kind < 16:
            files = [("image", ("i.png", small, "image/png")), ("mask", ("m.png", mask, "image/png"))]
            yield "edits", {"prompt": prompt, "model": "dall-e-2", "size": "256x256"}, files
        else:
            files = [("image", ("i.png", small, "image/png"))]
            yield "variations", {"model": "dall-e-2", "size": "256x256", "n": "2"}, files


def png_of_size(edge: int, colour: tuple[int, int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (edge, edge), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def _mixed_requests(url: str, pid: int, count: int) -> tuple[float, float, float]:
    """Send `count` mixed requests; RSS after the first 100, RSS at the end, and the time taken."""
    marks: dict[str, float] = {}

    async def run() -> None:
        pending = iter(enumerate(_mixed_bodies(count)))
        async with httpx.AsyncClient(base_url=url, timeout=REQUEST_TIMEOUT_S * 4) as client:

            async def worker() -> None:
                for number, (operation, body, files) in pending:
                    headers = {"Idempotency-Key": f"bench-{number}-{os.urandom(8).hex()}"}
                    if files is None:
                        answer = await client.post(f"/images/{operation}", json=body, headers=headers)
                    else:
                        answer = await client.post(
                            f"/images/{operation}", data=body, files=files, headers=headers
                        )
                    if answer.status_code != 200:
                        raise BenchError(f"{operation} answered {answer.status_code}: {answer.text[:300]}")
                    if number == 100:
                        marks["after_100"] = rss_mb(pid)

            async with asyncio.TaskGroup() as group:
                for _ in range(MIXED_CONCURRENCY):
                    group.create_task(worker())

    started = time.perf_counter()
    asyncio.run(run())
    return marks["after_100"], rss_mb(pid), time.perf_counter() - started


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
    # A queue for every request in flight: this measures the clients, not the server's admission.
    with server_process(queue=ASYNC_CONCURRENCY) as base_url:
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


CONFORMANCE_BUDGET_S = 60.0  # the default run against the reference server, image checks on
CONFORMANCE_MIN_RATE = 300.0  # checks per second, start-up included
CONFORMANCE_TOKEN = "bench-conformance-token"
LIMIT_GRACE_S = 15.0  # --max-time N must end the run within N + this
_SLOW_SERVER_CODE = """
import asyncio, os, threading, time, uvicorn
from imagegen.server import ServerConfig, create_app

def _exit_with_parent():
    while os.read(0, 4096):
        pass
    os._exit(0)

threading.Thread(target=_exit_with_parent, daemon=True).start()
delay = float(os.environ["IMAGEGEN_BENCH_DELAY"])
app = create_app(ServerConfig(tokens=frozenset({os.environ["IMAGEGEN_BENCH_TOKEN"]})))

async def slow(scope, receive, send):
    if scope["type"] == "http":
        await asyncio.sleep(delay)
    await app(scope, receive, send)

server = uvicorn.Server(uvicorn.Config(slow, host="127.0.0.1", port=0, log_level="warning", lifespan="off"))
thread = threading.Thread(target=server.run, daemon=True)
thread.start()
while not server.started:
    time.sleep(0.01)
print(f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}/v1", flush=True)
thread.join()
"""


def _conformance(
    base_url: str, model: str, *extra: str
) -> tuple[float, int, subprocess.CompletedProcess[str]]:
    """Run `imagegen conformance` once: (wall seconds, checks counted, the process)."""
    start = time.perf_counter()
    done = subprocess.run(
        [str(IMAGEGEN_EXECUTABLE), "conformance", "--url", base_url, "--token", CONFORMANCE_TOKEN,
         "--model", model, "-q", *extra],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )  # fmt: skip
    elapsed = time.perf_counter() - start
    counted = [line.split()[1] for line in done.stdout.splitlines() if line.startswith("checks ")]
    return elapsed, int(counted[0]) if counted and counted[0].isdigit() else 0, done


def _without_image_checks() -> str:
    """Every check but imagegen's checks of images and streams, for --checks."""
    from schemathesis.checks import CHECKS, load_all_checks

    from imagegen.conformance.image_checks import IMAGE_CHECKS
    from imagegen.conformance.runner import OWN_CHECKS
    from imagegen.conformance.stream_checks import STREAM_CHECKS

    load_all_checks()
    names = [*CHECKS.get_all_names(), *OWN_CHECKS]
    return ",".join(dict.fromkeys(n for n in names if n not in (*IMAGE_CHECKS, *STREAM_CHECKS)))


@benchmark(
    "conformance",
    "the default `imagegen conformance` run on the reference server with the image checks: time, checks/s, "
    "and the time the image checks add",
)
def conformance_run(settings: Settings) -> list[Row]:
    """Wall time of the default run (model dall-e-2, all operations, image checks on) against the
    server in its own process, next to its budget; its checks per second; and, side by side, the
    same run without imagegen's image and stream checks, for the time they add."""
    model = "dall-e-2" if not settings.quick else "dall-e-3"
    bare_checks = _without_image_checks()
    timed: dict[bool, list[tuple[float, int]]] = {True: [], False: []}
    with server_process(CONFORMANCE_TOKEN) as base_url:
        # Side by side, in alternating order (without, with, with, without): the machine is shared.
        order = [False, True] if settings.quick else [False, True, True, False]
        for with_images in order:
            extra = () if with_images else ("--checks", bare_checks)
            seconds, counted, finished = _conformance(base_url, model, *extra)
            if finished.returncode != 0:
                shown = f"{finished.stdout}\n{finished.stderr}"
                raise BenchError(f"imagegen conformance exited {finished.returncode}:\n{shown}")
            timed[with_images].append((seconds, counted))
    elapsed, checks = min(timed[True])
    bare, bare_counted = min(timed[False])
    rate = checks / elapsed if elapsed else 0.0
    return [
        Row(
            "conformance",
            Measure(f"default run ({model})", elapsed, "s"),
            Measure("budget", CONFORMANCE_BUDGET_S, "s"),
            at_most(1.0),
            details=(
                f"{checks} checks in {elapsed:.1f} s, start-up included (the faster of "
                f"{len(timed[True])} runs); the image checks add {elapsed - bare:+.1f} s "
                f"({bare:.1f} s and {bare_counted} checks without them)"
            ),
        ),
        Row(
            "conformance",
            Measure("checks per second", rate, "/s"),
            Measure("floor", CONFORMANCE_MIN_RATE, "/s"),
            at_least(1.0),
        ),
    ]


@contextmanager
def slow_server_process(delay_s: float) -> Iterator[str]:
    """The reference server, answering every request after `delay_s`, in its own process."""
    environment = {"IMAGEGEN_BENCH_DELAY": str(delay_s), "IMAGEGEN_BENCH_TOKEN": CONFORMANCE_TOKEN}
    with _server_running(_SLOW_SERVER_CODE, environment) as url:
        yield url


@benchmark(
    "conformance-limit",
    "`imagegen conformance --max-time 60` against a server that answers after 30 s: within 75 s, incomplete",
)
def conformance_limit(settings: Settings) -> list[Row]:
    """Wall time of a run whose --max-time is reached while a request waits for a slow server,
    next to the limit plus LIMIT_GRACE_S; the run must exit 2 with a report marked incomplete."""
    limit_s, delay_s = (6, 3.0) if settings.quick else (60, 30.0)
    with slow_server_process(delay_s) as base_url, tempfile.TemporaryDirectory() as folder:
        elapsed, _, done = _conformance(
            base_url, "dall-e-2", "--max-time", str(limit_s), "--report-dir", folder
        )
        report = (Path(folder) / "report.md").read_text(encoding="utf-8")
    if done.returncode != 2 or "**Incomplete.**" not in report:
        raise BenchError(f"expected exit 2 and an incomplete report, got {done.returncode}:\n{done.stdout}")
    warned = "The server is slow" in report
    return [
        Row(
            "conformance-limit",
            Measure(f"--max-time {limit_s} vs {delay_s:g} s answers", elapsed, "s"),
            Measure(f"limit + {LIMIT_GRACE_S:g} s", limit_s + LIMIT_GRACE_S, "s"),
            at_most(1.0),
            details=f"exit {done.returncode}, report marked incomplete"
            + (", slow-server warning" if warned else ""),
        )
    ]


def run_command(command: Sequence[str]) -> str:
    """What `command` prints on stdout; BenchError if it fails or outlives HELP_TIMEOUT_S."""
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, timeout=HELP_TIMEOUT_S, check=False)
    if completed.returncode != 0:
        raise BenchError(f"{' '.join(command)} failed:\n{completed.stderr.decode(errors='replace')}")
    return completed.stdout.decode()


# ---- benchmarks kept in their own modules ----------------------------------------------------

import _bench_batch  # noqa: E402  (registers against the helpers above)

_bench_batch.register(sys.modules[__name__])


# ---- the command line ------------------------------------------------------------------------


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """The command line: benchmark names, --list, --quick."""
    parser = argparse.ArgumentParser(
        prog="scripts/bench",
        description="Run imagegen's benchmarks; each reports measured vs baseline, the ratio and PASS/MISS.",
    )
    parser.add_argument(
        "names", nargs="*", metavar="NAME", help="benchmarks, or a group such as 'batch' (default: all)"
    )
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument("--quick", action="store_true", help="fewer iterations and shorter time limits")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if not expand(name)]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(REGISTRY)}")
    args.names = [chosen for name in args.names for chosen in expand(name)]
    return args


def expand(name: str) -> list[str]:
    """The benchmarks a command-line name stands for: itself, or the group `name-*` ("batch")."""
    if name in REGISTRY:
        return [name]
    return [known for known in REGISTRY if known.startswith(f"{name}-")]


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
