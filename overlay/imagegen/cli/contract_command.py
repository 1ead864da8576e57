"""`imagegen contract`: print the packaged OpenAPI contract."""

from __future__ import annotations

import argparse
import json
import sys

from ..contract import load_contract


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    """Declare the options of `imagegen contract`."""
    parser.description = "Print the packaged OpenAPI 3.1 contract (JSON) on standard output."
    parser.epilog = "example:\n  imagegen contract > images.json\n"
    parser.add_argument("--indent", type=int, default=2, help="JSON indentation (default 2)")


def run(args: argparse.Namespace) -> int:
    """Write the contract as JSON to standard output."""
    return print_contract(indent=args.indent)


def print_contract(*, indent: int) -> int:
    """Write the contract as JSON to standard output."""
    json.dump(load_contract(), sys.stdout, indent=indent, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0
