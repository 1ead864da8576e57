"""`imagegen batch`: run a file of requests into a folder of images, resumably."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .common import EXIT_OK, EXIT_SERVER, UsageError, add_connection_options, async_client_of, guarded, say

EXAMPLES = """\
examples:
  imagegen batch requests.jsonl -o out/                         the Batch API's JSONL format
  imagegen batch prompts.txt -o out/ --model gpt-image-1.5 --size 1024x1024 --quality low
  imagegen batch catalogue.csv -o out/ --concurrency 32 --max-rpm 250
  imagegen batch requests.jsonl --dry-run                       check every line, send nothing
  imagegen batch requests.jsonl -o out/ --engine openai-batch   through the server's Batch API
  imagegen batch status batch_abc123                            a Batch API batch, as it is now
  imagegen batch cancel batch_abc123

Run the same command again after a crash, a Ctrl-C or a kill: what is done is skipped and the
rest is sent, with the same Idempotency-Keys. DIR gets <custom_id>-<i>.<ext> images,
results.jsonl, errors.jsonl and state.sqlite.
"""
ACTIONS = ("status", "cancel")


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    """Declare the options of `imagegen batch`."""
    from .images_command import add_field_options

    parser.description = "Run a file of image requests (JSONL, CSV or one prompt a line) into a folder."
    parser.epilog = EXAMPLES
    parser.add_argument("target", metavar="INPUT", help="the requests file (or: status ID, cancel ID)")
    parser.add_argument("batch_id", nargs="?", metavar="ID", help=argparse.SUPPRESS)
    run = parser.add_argument_group("running")
    run.add_argument(
        "-o", "--output", type=Path, metavar="DIR", help="the batch's folder (new, or one to resume)"
    )
    run.add_argument(
        "--engine", choices=("local", "openai-batch"), default="local", help="who runs the requests"
    )
    run.add_argument(
        "--concurrency", type=int, default=8, metavar="N", help="requests in flight at most (default 8)"
    )
    run.add_argument("--max-rpm", type=int, metavar="N", help="requests started per minute at most")
    run.add_argument(
        "--max-attempts", type=int, default=6, metavar="N", help="attempts per request, retries included (6)"
    )
    run.add_argument(
        "--skip-bad-lines", action="store_true", help="send the good lines, list the bad in errors.jsonl"
    )
    run.add_argument(
        "--dry-run", action="store_true", help="check every line against the contract; send nothing"
    )
    run.add_argument(
        "--poll", type=float, default=10.0, metavar="SECONDS", help="openai-batch: seconds between polls"
    )
    run.add_argument("--json", action="store_true", help="status/cancel: print the batch object as JSON")
    fields = parser.add_argument_group("fields of CSV and text lines (what a line leaves out)")
    add_field_options(fields, "generate")
    add_connection_options(parser, raw=False)


def run(args: argparse.Namespace) -> int:
    """Run the batch, or show or cancel a Batch API batch."""
    return guarded(lambda: _run(args), secret=args)


def _run(args: argparse.Namespace) -> int:
    import asyncio

    if args.target in ACTIONS and args.batch_id:
        return asyncio.run(_batch_action(args))
    if args.batch_id:
        raise UsageError(f"unexpected argument {args.batch_id!r}; give one INPUT file (and -o DIR)")
    if args.output is None and not args.dry_run:
        raise UsageError("give the batch's folder: -o DIR (a new folder, or the folder of a batch to resume)")
    return asyncio.run(_batch(args))


async def _batch(args: argparse.Namespace) -> int:
    from ..batch import BatchError, run_batch_async
    from .images_command import field_values

    async with async_client_of(args) as client:
        try:
            summary = await run_batch_async(
                args.target,
                args.output or Path("."),
                client=client,
                engine=args.engine,
                concurrency=args.concurrency,
                max_rpm=args.max_rpm,
                defaults=field_values(args, "generate"),
                max_attempts=args.max_attempts,
                skip_bad_lines=args.skip_bad_lines,
                dry_run=args.dry_run,
                progress=not args.quiet,
                poll_interval_s=args.poll,
            )
        except BatchError as error:
            raise UsageError(str(error)) from None
    print(summary, file=sys.stderr if not args.quiet else sys.stdout)
    return EXIT_OK if summary.dry_run or summary.failed == 0 else EXIT_SERVER


async def _batch_action(args: argparse.Namespace) -> int:
    async with async_client_of(args) as client:
        if args.target == "status":
            batch = await client.batches.get(args.batch_id)
        else:
            batch = await client.batches.cancel(args.batch_id)
    if args.json:
        print(json.dumps(dict(batch.raw), indent=2))
        return EXIT_OK
    counts = batch.request_counts
    print(
        f"{batch.id}: {batch.status} ({counts.completed} completed, {counts.failed} failed of {counts.total})"
    )
    for name, value in (("output file", batch.output_file_id), ("error file", batch.error_file_id)):
        if value:
            print(f"  {name}: {value}")
    for error in batch.errors[:10]:
        say(args, f"  line {error.get('line', '?')}: {error.get('message', error)}")
    return EXIT_OK
