"""A batch from input file to output folder: checks, state, the engine, the summary.

A first run reads and checks every line (nothing is sent if one is bad, unless skip_bad_lines),
records them in DIR/state.sqlite, then runs them. A later run with the same input and folder
resumes: what is done stays done, the rest is sent. A changed input is refused, as it would make
the folder describe two different batches.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..client import AsyncImagesClient
from ..contract import Contract, default_contract
from ..errors import ImagesError
from .inputs import BadLine, read_requests
from .local import LocalRun, OnResult
from .outputs import ERRORS_FILE, RESULTS_FILE, Views, remove_partials
from .pacing import Pacer
from .progress import Progress, duration
from .state import STATE_FILE, BatchState

Engine = Literal["local", "openai-batch"]
DEFAULT_CONCURRENCY = 8
"""In flight at once by default: within the image rate limits of most OpenAI tiers, and the
Pacer lowers it on 429 anyway."""


class BatchError(ImagesError):
    """The batch cannot run as asked (a bad input, a folder of another batch, ...)."""


class BadLinesError(BatchError):
    """Lines of the input cannot be sent; nothing was sent."""

    def __init__(self, bad: list[BadLine], path: Path) -> None:
        shown = "\n".join(f"  {item}" for item in bad[:20])
        more = f"\n  ... and {len(bad) - 20} more" if len(bad) > 20 else ""
        super().__init__(
            f"{len(bad)} line(s) of {path} cannot be sent, so nothing was sent:\n{shown}{more}\n"
            "Fix them, or pass skip_bad_lines=True (--skip-bad-lines) to send the rest and list "
            "these in errors.jsonl."
        )
        self.bad = bad


@dataclass(frozen=True)
class BatchSummary:
    """How a batch ended."""

    folder: Path
    total: int
    done: int
    failed: int
    skipped_lines: int
    already_done: int
    """Requests done before this run (a resumed batch)."""
    elapsed_s: float
    dry_run: bool = False
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """Whether every request has a result (done or failed for good)."""
        return self.done + self.failed == self.total

    def __str__(self) -> str:
        if self.dry_run:
            skipped = f", {self.skipped_lines} bad" if self.skipped_lines else ""
            return f"dry run: {self.total} request(s) checked{skipped}; nothing was sent"
        sent = self.done + self.failed - self.already_done
        rate = sent / self.elapsed_s if self.elapsed_s > 0 else 0.0
        parts = [f"{self.done} done", f"{self.failed} failed"]
        if self.skipped_lines:
            parts.append(f"{self.skipped_lines} bad line(s) skipped")
        if self.already_done:
            parts.append(f"{self.already_done} already done before this run")
        where = f"results in {self.folder / RESULTS_FILE}"
        if self.failed or self.skipped_lines:
            where += f", failures in {self.folder / ERRORS_FILE}"
        took = f"{sent} sent in {duration(self.elapsed_s)} ({rate:.1f}/s)" if sent else "nothing left to send"
        return f"batch: {', '.join(parts)} of {self.total}; {took}; {where}"


async def run_batch_async(
    input_path: str | os.PathLike[str],
    output_dir: str | os.PathLike[str],
    *,
    client: AsyncImagesClient | None = None,
    engine: Engine = "local",
    concurrency: int = DEFAULT_CONCURRENCY,
    max_rpm: int | None = None,
    defaults: Mapping[str, Any] | None = None,
    max_attempts: int = 6,
    skip_bad_lines: bool = False,
    dry_run: bool = False,
    on_result: OnResult | None = None,
    progress: bool = True,
    poll_interval_s: float = 10.0,
) -> BatchSummary:
    """Run every request of `input_path` (JSONL in the Batch API's format, CSV or one prompt a
    line) and write the images, results.jsonl, errors.jsonl and state.sqlite to `output_dir`.

    Running it again with the same input and folder resumes. `client` (an AsyncImagesClient,
    default: one from the environment) says where to send. `engine="openai-batch"` hands the
    requests to the server's Batch API instead. `on_result(result)` (sync or async) is called as
    each request ends. See imagegen.batch for the rest.
    """
    started = time.monotonic()
    source = Path(input_path).expanduser()
    folder = Path(output_dir).expanduser()
    _check_input(source)
    _check_options(concurrency, max_rpm, max_attempts)
    own_client = client is None
    chosen = client or AsyncImagesClient()
    contract = chosen.options.contract or default_contract()
    try:
        if dry_run:
            return _dry_run(source, contract, defaults, chosen.options.check_rules, started)
        state = _open_state(folder, source, engine)
        try:
            fresh = not state.ingested
            if fresh:
                lines = read_requests(
                    source, contract, defaults=defaults, check_rules=chosen.options.check_rules
                )
                bad = state.ingest(lines, keep_bad=skip_bad_lines)
                if bad and not skip_bad_lines:
                    state.close()
                    _forget(folder)
                    raise BadLinesError(bad, source)
            remove_partials(folder)
            views = Views(folder, state)
            views.rewrite()
            before = state.counts()
            shown = Progress(enabled=progress)
            try:
                if engine == "local":
                    pacer = Pacer(concurrency, max_rpm=max_rpm)
                    run = LocalRun(state, folder, chosen, pacer, views, shown, max_attempts, on_result)
                    await run.run()
                    details: dict[str, Any] = {
                        "concurrency_cuts": pacer.cuts,
                        "final_concurrency": pacer.concurrency,
                    }
                else:
                    from .openai_batch import OpenAIBatchRun

                    batch_run = OpenAIBatchRun(
                        state, folder, chosen, views, shown, on_result, poll_interval_s
                    )
                    details = await batch_run.run()
            finally:
                shown.close()
                views.rewrite()
                views.close()
            counts = state.counts()
            return BatchSummary(
                folder,
                counts.total,
                counts.done,
                counts.failed,
                len(state.bad_lines()),
                before.done + before.failed,
                time.monotonic() - started,
                details=details,
            )
        finally:
            state.close()
    finally:
        if own_client:
            await chosen.close()


def _check_input(source: Path) -> None:
    if not source.is_file():
        raise BatchError(f"the batch input {source} is not a file")


def _check_options(concurrency: int, max_rpm: int | None, max_attempts: int) -> None:
    if concurrency < 1:
        raise BatchError(f"concurrency must be at least 1, not {concurrency}")
    if max_rpm is not None and max_rpm < 1:
        raise BatchError(f"max_rpm must be at least 1 request a minute, not {max_rpm}")
    if max_attempts < 1:
        raise BatchError(f"max_attempts must be at least 1, not {max_attempts}")


def _fingerprint(source: Path) -> str:
    digest = hashlib.sha256()
    with source.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _open_state(folder: Path, source: Path, engine: str) -> BatchState:
    """The state of the batch in `folder`: new in an empty or new folder, resumed from the same input."""
    existing = folder / STATE_FILE
    if folder.exists() and not folder.is_dir():
        raise BatchError(f"{folder} is a file; the batch's output goes in a folder")
    if folder.is_dir() and not existing.exists() and any(folder.iterdir()):
        raise BatchError(
            f"{folder} has files and no batch state ({STATE_FILE}); give a new or empty folder "
            "(a batch's folder holds only its own results)"
        )
    folder.mkdir(parents=True, exist_ok=True)
    state = BatchState(folder)
    fingerprint = _fingerprint(source)
    recorded = state.meta("input_sha256")
    if recorded is None:
        state.set_meta({"input": str(source.resolve()), "input_sha256": fingerprint, "engine": engine})
        return state
    if recorded != fingerprint:
        was = state.meta("input") or "?"
        state.close()
        raise BatchError(
            f"{folder} holds a batch of another input (its input was {was}, and "
            f"{source} is not that file as it was); give a new folder to run this one"
        )
    used = state.meta("engine")
    if used != engine:
        state.close()
        raise BatchError(f"{folder} is a batch run with engine {used}; resume it with the same engine")
    return state


def _forget(folder: Path) -> None:
    """Remove the state of a batch that never started (its input was refused)."""
    for name in (STATE_FILE, STATE_FILE + "-wal", STATE_FILE + "-shm"):
        (folder / name).unlink(missing_ok=True)


def _dry_run(
    source: Path, contract: Contract, defaults: Mapping[str, Any] | None, check_rules: bool, started: float
) -> BatchSummary:
    with tempfile.TemporaryDirectory(prefix="imagegen-dry-run-") as scratch:
        state = BatchState(Path(scratch))
        try:
            lines = read_requests(source, contract, defaults=defaults, check_rules=check_rules)
            bad = state.ingest(lines, keep_bad=True)
            total = state.counts().total
        finally:
            state.close()
    if bad:
        raise BadLinesError(bad, source)
    return BatchSummary(Path(), total, 0, 0, len(bad), 0, time.monotonic() - started, dry_run=True)
