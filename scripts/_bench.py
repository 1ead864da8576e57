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
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Literal

import httpx
from PIL import Image

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
serve_forever(ServerConfig(auth=False), "127.0.0.1", 0, on_ready=lambda url: print(url, flush=True))
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
def server_process() -> Iterator[str]:
    """Run the reference server (no auth, 127.0.0.1, a free port) in its own process; yields its
    base URL and stops the process when the block ends, however it ends."""
    with tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(
            [sys.executable, "-c", _SERVER_CODE],
            cwd=ROOT,
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
