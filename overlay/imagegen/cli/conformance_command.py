"""`imagegen conformance`: test any image server against the contract, property by property."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .common import EXIT_OK, EXIT_SERVER, EXIT_USAGE, UsageError, check_token, token_of

EXAMPLES = """\
examples:
  imagegen conformance --url http://127.0.0.1:8000/v1 --token "$TOKEN" --model dall-e-2
  imagegen conformance --url http://localhost:8080/v1 --model sd-1.5-ggml --operations generations
  imagegen conformance --url https://proxy.example/v1 --token-file key.txt --model gpt-image-1.5 \\
      --max-examples 50 --seed 7 --report-dir conformance-report

What runs: schemathesis with the contract narrowed to the model's rules (examples, coverage and
fuzzing phases; valid and invalid data; all its default checks), plus imagegen's probes (routes
not implemented, streaming, a mask of the wrong size). Exit status: 0 conforms, 1 does not,
2 could not run. --report-dir writes report.md, report.html and junit.xml; to reproduce a finding,
run its curl command with IMAGEGEN_TOKEN set.
"""


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    """Declare the options of `imagegen conformance`."""
    parser.description = "Test an OpenAI-compatible image server against the contract."
    parser.epilog = EXAMPLES
    parser.add_argument(
        "--url", required=True, metavar="BASE", help="the server's API base, e.g. http://host/v1"
    )
    parser.add_argument(
        "--token", metavar="TOKEN", help="the API key (default: OPENAI_API_KEY; '-' reads stdin)"
    )
    parser.add_argument("--token-file", type=Path, metavar="FILE", help="read the API key from FILE")
    parser.add_argument("--model", required=True, help="the model to test; its rules narrow the contract")
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
        help="schemathesis phases, comma-separated: examples, coverage, fuzzing (default: all)",
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
        "--max-time", type=int, default=600, metavar="SECONDS", help="stop after (default 600)"
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
    from ..conformance import SetupError, run_conformance
    from ..conformance.report import summary, write_reports
    from ..contract import Contract, ContractError, RulesError, default_contract

    try:
        contract = Contract.from_file(args.contract) if args.contract else default_contract()
        contract.catalog  # noqa: B018  (malformed model rules are reported before anything runs)
    except (ContractError, RulesError) as error:
        raise UsageError(str(error)) from None
    operations = (
        None
        if args.operations == "all"
        else [name.strip() for name in args.operations.split(",") if name.strip()]
    )
    checks = (
        None if args.checks == "all" else [name.strip() for name in args.checks.split(",") if name.strip()]
    )
    if args.max_examples < 1 or args.workers < 1 or args.max_time < 1:
        raise UsageError("--max-examples, --workers and --max-time must be at least 1")
    if not args.url.startswith(("http://", "https://")):
        raise UsageError(f"--url must start with http:// or https://, got {args.url!r}")
    token = token_of(args)
    check_token(token)
    progress = _Progress(enabled=not args.quiet and sys.stderr.isatty())
    try:
        outcome = run_conformance(
            model=args.model,
            base_url=args.url.rstrip("/"),
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
            phases=None if args.phases == "all" else [p.strip() for p in args.phases.split(",") if p.strip()],
        )
    except SetupError as error:
        progress.clear()
        print(f"imagegen conformance: could not run: {error}", file=sys.stderr)
        return EXIT_USAGE
    progress.clear()
    print(summary(outcome, color=sys.stdout.isatty()))
    if args.report_dir is not None:
        written = write_reports(outcome, args.report_dir)
        shown = [str(path) for path in written if path.suffix in (".md", ".html", ".xml")]
        print(f"reports: {', '.join(shown)}")
    return EXIT_OK if outcome.conforms else EXIT_SERVER


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
