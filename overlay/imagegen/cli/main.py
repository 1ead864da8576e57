"""Entry point of the `imagegen` command: parses arguments and dispatches to a subcommand.

Subcommands import what they need when they run, so `imagegen --help` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .._version import __version__

EXAMPLES = """\
examples:
  imagegen serve --no-auth --port 8000
                                      the reference server, for local development
  imagegen models                     which sizes, n and qualities each model takes
  imagegen models gpt-image-2 --json  one model's rules as JSON
  imagegen contract > images.json     the OpenAPI contract, to feed other tools
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the `imagegen` command."""
    parser = argparse.ArgumentParser(
        prog="imagegen",
        description="Generate, edit and vary images on any OpenAI-compatible server.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"imagegen {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    models = commands.add_parser(
        "models",
        help="show what each known model accepts",
        description="Show the per-model rules of the packaged contract (x-imagegen-models).",
    )
    models.add_argument("names", nargs="*", metavar="MODEL", help="only these models (or aliases)")
    models.add_argument("--json", action="store_true", help="print the rules as JSON")

    from .serve_command import add_serve_parser

    add_serve_parser(commands)

    contract = commands.add_parser(
        "contract",
        help="print the OpenAPI contract of the image endpoints",
        description="Print the packaged OpenAPI 3.1 contract (JSON) on standard output.",
    )
    contract.add_argument("--indent", type=int, default=2, help="JSON indentation (default 2)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 2 bad usage)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "models":
        from .models_command import run_models

        return run_models(args.names, as_json=args.json)
    if args.command == "serve":
        from .serve_command import run_serve

        return run_serve(args)
    if args.command == "contract":
        from .contract_command import run_contract

        return run_contract(indent=args.indent)
    parser.print_help(sys.stderr)
    return 2
