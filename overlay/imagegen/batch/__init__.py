"""Images by the thousand: a resumable batch from a file of requests to a folder of images.

    from imagegen.batch import run_batch

    summary = run_batch("requests.jsonl", "out/", concurrency=16)
    print(summary)
    # batch: 1998 done, 2 failed of 2000; 2000 sent in 2m41s (12.4/s); results in out/results.jsonl, ...

The input is the Batch API's JSONL (`{"custom_id", "method", "url", "body"}` a line), CSV with a
`prompt` column, or one prompt a line. The output folder gets `<custom_id>-<i>.<ext>` images,
`results.jsonl` (the Batch API's output format, each `b64_json` replaced by the file's name),
`errors.jsonl` and `state.sqlite`. Run it again after a crash, a Ctrl-C or a SIGKILL: what is
done is skipped, the rest is sent with the same Idempotency-Keys, nothing is duplicated.

Two engines: "local" (the default: requests from this machine, with adaptive concurrency, see
imagegen.batch.pacing) and "openai-batch" (the server's Batch API: the JSONL uploaded, the batch
created, polled and its output downloaded into the same folder).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from typing import Any

from ..client import AsyncImagesClient
from .local import BatchResult, OnResult
from .runner import (
    DEFAULT_CONCURRENCY,
    BadLinesError,
    BatchError,
    BatchSummary,
    Engine,
    run_batch_async,
)


def run_batch(
    input_path: str | os.PathLike[str],
    output_dir: str | os.PathLike[str],
    *,
    client_options: Mapping[str, Any] | None = None,
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
    """run_batch_async, from synchronous code. `client_options` are AsyncImagesClient's
    (base_url, api_key, timeout, ...); a client is made for the run and closed after it."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise BatchError(
            "run_batch cannot run inside an event loop; await run_batch_async(...) there instead"
        )

    async def run() -> BatchSummary:
        async with AsyncImagesClient(**dict(client_options or {})) as client:
            return await run_batch_async(
                input_path,
                output_dir,
                client=client,
                engine=engine,
                concurrency=concurrency,
                max_rpm=max_rpm,
                defaults=defaults,
                max_attempts=max_attempts,
                skip_bad_lines=skip_bad_lines,
                dry_run=dry_run,
                on_result=on_result,
                progress=progress,
                poll_interval_s=poll_interval_s,
            )

    return asyncio.run(run())


__all__ = [
    "DEFAULT_CONCURRENCY",
    "BadLinesError",
    "BatchError",
    "BatchResult",
    "BatchSummary",
    "run_batch",
    "run_batch_async",
]
