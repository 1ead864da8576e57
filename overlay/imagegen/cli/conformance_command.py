"""`imagegen conformance`: test any image server against the contract, check by check."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from .common import EXIT_USAGE, UsageError, check_token, token_of

EXAMPLES = """\
examples:
  imagegen conformance --url http://127.0.0.1:8000/v1 --token "$TOKEN" --model dall-e-2
  imagegen conformance --url http://localhost:8080/v1 --model sd-1.5-ggml --profile localai
  imagegen conformance --app myserver.main:app --model my-model --report-dir report
  imagegen conformance --url https://proxy.example/v1 --token-file key.txt --model gpt-image-1.5 \\
      --max-examples 50 --seed 7 --max-time 300 --report-dir conformance-report

What runs: schemathesis with the contract narrowed to the model's rules (examples, coverage,
fuzzing and stateful phases; valid and invalid data; all its default checks), imagegen's checks of
the images of every successful answer (base64, format, size, count, transparency, URLs, masks,
usage, echoed fields, streams), a valid request for each value the model lists, the values and
uploads its rules refuse, and probes (routes not implemented, authentication, streaming,
idempotency, mask size). The files and batches operations are checked against their schemas;
files a run uploads are deleted when it ends.
Exit status: 0 conforms, 1 does not, 2 incomplete or could not run (the time limit, Ctrl-C, a bad
URL). --report-dir writes report.md, report.html and junit.xml, even when the run is cut short;
to reproduce a finding, run its curl command with IMAGEGEN_TOKEN set.
"""


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    """Declare the options of `imagegen conformance`."""
    parser.description = "Test an OpenAI-compatible image server against the contract."
    parser.epilog = EXAMPLES
    parser.add_argument(
        "--url",
        metavar="BASE",
        help="the server's API base, e.g. http://host/v1 (with --app: the address the app is given)",
    )
    parser.add_argument(
        "--app",
        metavar="MODULE:ATTR",
        help="test this ASGI application in-process (no port, no network), e.g. myserver.main:app",
    )
    parser.add_argument(
        "--factory", action="store_true", help="with --app: call ATTR to make the application"
    )
    parser.add_argument(
        "--token", metavar="TOKEN", help="the API key (default: OPENAI_API_KEY; '-' reads stdin)"
    )
    parser.add_argument("--token-file", type=Path, metavar="FILE", help="read the API key from FILE")
    parser.add_argument("--model", required=True, help="the model to test; its rules narrow the contract")
    parser.add_argument(
        "--profile",
        metavar="NAME|FILE",
        help="test what a kind of server documents (localai, vllm-omni, openai, or a YAML file)",
    )
    parser.add_argument(
        "--operations",
        default="all",
        help="which operations, comma-separated, by name (default: every operation of the contract)",
    )
    parser.add_argument(
        "--contract",
        type=Path,
        metavar="FILE",
        help="the contract to test against (YAML or JSON; default: the packaged one)",
    )
    parser.add_argument(
        "--max-examples", type=int, default=20, metavar="N", help="examples per operation (default 20)"
    )
    parser.add_argument("--seed", type=int, default=0, help="the same seed gives the same run (default 0)")
    parser.add_argument("--checks", default="all", help="checks to run, comma-separated (default: all)")
    parser.add_argument(
        "--phases",
        default="all",
        help="schemathesis phases, comma-separated: examples, coverage, fuzzing, stateful (default: all)",
    )
    parser.add_argument(
        "--mode", choices=("all", "positive", "negative"), default="all", help="which data to send"
    )
    parser.add_argument(
        "--report-dir", type=Path, metavar="DIR", help="write report.md, report.html, junit.xml"
    )
    parser.add_argument(
        "--workers", type=int, default=1, metavar="N", help="requests in parallel (default 1)"
    )
    parser.add_argument(
        "--max-time",
        type=float,
        default=600,
        metavar="SECONDS",
        help="end the run after this long, even in the middle of a request (default 600)",
    )
    parser.add_argument(
        "--request-timeout", type=float, default=60.0, metavar="SECONDS", help="per request (default 60)"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="only the verdict and findings")


def run(args: argparse.Namespace) -> int:
    """Run the conformance tests; print the summary; write the reports."""
    from ..relaxed_json import JsonInputError

    try:
        return _run(args)
    except (UsageError, JsonInputError, ValueError) as error:
        print(f"imagegen conformance: {error}", file=sys.stderr)
        return EXIT_USAGE


def _run(args: argparse.Namespace) -> int:
    from ..conformance import ConformanceInterrupted, SetupError, run_conformance
    from ..conformance.apps import load_app
    from ..conformance.profiles import load_profile
    from ..contract import Contract, ContractError, RulesError, default_contract

    try:
        contract = Contract.from_file(args.contract) if args.contract else default_contract()
        contract.catalog  # noqa: B018  (malformed model rules are reported before anything runs)
    except (ContractError, RulesError) as error:
        raise UsageError(str(error)) from None
    operations = None if args.operations == "all" else _listed(args.operations)
    checks = None if args.checks == "all" else _listed(args.checks)
    if args.max_examples < 1 or args.workers < 1 or args.max_time <= 0:
        raise UsageError("--max-examples and --workers must be at least 1, --max-time more than 0")
    if args.url is None and args.app is None:
        raise UsageError("give --url (a server) or --app (an ASGI application to test in-process)")
    if args.url is not None and not args.url.startswith(("http://", "https://")):
        raise UsageError(f"--url must start with http:// or https://, got {args.url!r}")
    if args.factory and args.app is None:
        raise UsageError("--factory goes with --app")
    profile = load_profile(args.profile) if args.profile else None
    app: Any = load_app(args.app, factory=args.factory) if args.app else None
    token = token_of(args)
    check_token(token)
    progress = _Progress(enabled=not args.quiet and sys.stderr.isatty())
    try:
        outcome = run_conformance(
            model=args.model,
            base_url=args.url.rstrip("/") if args.url else None,
            app=app,
            token=token,
            operations=operations,
            max_examples=args.max_examples,
            seed=args.seed,
            mode=args.mode,
            checks=checks,
            request_timeout_s=args.request_timeout,
            max_time_s=args.max_time,
            workers=args.workers,
            progress=progress,
            contract=contract,
            phases=None if args.phases == "all" else _listed(args.phases),
            profile=profile,
        )
    except SetupError as error:
        progress.clear()
        print(f"imagegen conformance: could not run: {error}", file=sys.stderr)
        return EXIT_USAGE
    except ConformanceInterrupted as interrupted:
        outcome = interrupted.outcome
    progress.clear()
    return _finish(outcome, args.report_dir)


def _finish(outcome: Any, report_dir: Path | None) -> int:
    from ..conformance.report import summary, write_reports

    print(summary(outcome, color=sys.stdout.isatty()))
    if report_dir is not None:
        written = write_reports(outcome, report_dir)
        shown = [str(path) for path in written if path.suffix in (".md", ".html", ".xml")]
        print(f"reports: {', '.join(shown)}")
    status: int = outcome.exit_status
    if outcome.incomplete:
        # A request may still be waiting for a slow server in a worker thread; nothing it could
        # add is wanted any more, and waiting for it would break the time limit.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    return status


def _listed(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


class _Progress:
    """One line on stderr, rewritten in place, only on a terminal."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        self._width = 0

    def __call__(self, message: str) -> None:
        if self.enabled:
            line = message[:100]
            sys.stderr.write("\r" + line.ljust(self._width))
            sys.stderr.flush()
            self._width = len(line)

    def clear(self) -> None:
        if self.enabled and self._width:
            sys.stderr.write("\r" + " " * self._width + "\r")
            sys.stderr.flush()
