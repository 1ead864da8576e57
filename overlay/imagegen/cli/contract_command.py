"""`imagegen contract`: what the contract holds, how two versions differ, and whether it holds together.

imagegen contract                      the operations and models, readable
imagegen contract --json               the whole OpenAPI document
imagegen contract check [FILE]         consistency problems (exit 1 on errors)
imagegen contract diff OLD NEW         changes, each breaking for clients, for servers, or compatible
imagegen contract compare OFFICIAL     what an official OpenAI spec has that ours lacks, and the reverse
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from .output import write_stdout as _write

if TYPE_CHECKING:
    from ..contract import Contract

EXAMPLES = """\
examples:
  imagegen contract                                   the operations and models of the packaged contract
  imagegen contract --json > images.json              the whole contract
  imagegen contract check openapi/images.yaml         is a changed contract consistent?
  imagegen contract diff old.yaml openapi/images.yaml --fail-on client
  imagegen contract compare openai-images-official.yaml
"""
FAIL_ON = ("client", "server", "any", "never")


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    """Declare the options of `imagegen contract` and its subcommands."""
    parser.description = "Show, check and compare OpenAPI contracts of the image endpoints."
    parser.epilog = EXAMPLES
    parser.add_argument("--json", action="store_true", help="print the whole contract as JSON")
    parser.add_argument("--indent", type=int, default=2, help="JSON indentation (default 2)")
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    check = actions.add_parser("check", help="report consistency problems of a contract")
    check.add_argument("file", nargs="?", type=Path, help="a contract file (default: the packaged one)")
    diff = actions.add_parser("diff", help="what changed between two contracts, and who it breaks")
    diff.add_argument("old", type=Path, help="the contract before (YAML or JSON)")
    diff.add_argument("new", type=Path, help="the contract after (YAML or JSON)")
    compare = actions.add_parser("compare", help="compare ours with an official OpenAI spec")
    compare.add_argument("official", type=Path, help="the images part of an official OpenAI spec")
    compare.add_argument("ours", nargs="?", type=Path, help="our contract (default: the packaged one)")
    for sub in (diff, compare):
        sub.add_argument("--json", action="store_true", help="print the changes as JSON")
        sub.add_argument(
            "--fail-on",
            choices=FAIL_ON,
            default="any" if sub is diff else "never",
            help="exit 1 when a change breaks clients, servers, either (any) or never "
            f"(default: {'any' if sub is diff else 'never'})",
        )


def run(args: argparse.Namespace) -> int:
    """Run the chosen action; 2 when a file cannot be read."""
    from ..contract import ContractError

    try:
        if args.action == "check":
            return _check(args.file)
        if args.action == "diff":
            return _diff(args)
        if args.action == "compare":
            return _compare(args)
        return _show(as_json=args.json, indent=args.indent)
    except ContractError as error:
        print(f"imagegen contract: {error}", file=sys.stderr)
        return 2


def _contract(path: Path | None) -> Contract:
    from ..contract import Contract, default_contract

    return Contract.from_file(path) if path is not None else default_contract()


def _show(*, as_json: bool, indent: int) -> int:
    from ..contract import RulesError

    contract = _contract(None)
    if as_json:
        _write(json.dumps(contract.document, indent=indent, ensure_ascii=False) + "\n")
        return 0
    lines = [f"{contract.document.get('info', {}).get('title', 'contract')} {contract.version}", ""]
    width = max(len(operation.label) for operation in contract.operations)
    names = max(len(operation.name) for operation in contract.operations)
    ids = max(len(operation.id) for operation in contract.operations)
    lines.append("operations:")
    for operation in contract.operations:
        bodies = ", ".join(operation.bodies) or "no body"
        streams = "; streams" if operation.streams else ""
        named = f"{operation.name:<{names}}  {operation.id:<{ids}}"
        lines.append(f"  {operation.label:<{width}}  {named}  {bodies}{streams}")
    try:
        catalog = contract.catalog
    except RulesError as error:
        lines += ["", f"models: the rules do not load: {error}"]
    else:
        lines += ["", "models (imagegen models NAME for their rules):"]
        for model in catalog:
            retired = f"  (retired upstream {model.retired_upstream})" if model.retired_upstream else ""
            lines.append(f"  {model.name:<22} {', '.join(model.operations)}{retired}")
    _write("\n".join(lines) + "\n")
    return 0


def _check(path: Path | None) -> int:
    from ..contract.lint import lint

    contract = _contract(path)
    problems = lint(contract)
    for problem in problems:
        print(str(problem))
    errors = sum(1 for problem in problems if problem.severity == "error")
    warnings = len(problems) - errors
    print(f"{contract.source}: {errors} error(s), {warnings} warning(s)")
    return 1 if errors else 0


def _diff(args: argparse.Namespace) -> int:
    from ..contract.diff import breaking, diff_contracts, render_text, to_json

    old, new = _contract(args.old), _contract(args.new)
    changes = diff_contracts(old.document, new.document)
    if args.json:
        _write(json.dumps(to_json(changes), indent=2, ensure_ascii=False, default=str) + "\n")
    else:
        _write(render_text(changes, old_label=str(args.old), new_label=str(args.new)))
    return 1 if args.fail_on != "never" and breaking(changes, args.fail_on) else 0


def _compare(args: argparse.Namespace) -> int:
    from ..contract.diff import breaking, compare_official, comparison_json, render_comparison

    official, ours = _contract(args.official), _contract(args.ours)
    comparison = compare_official(official.document, ours.document)
    if args.json:
        _write(json.dumps(comparison_json(comparison), indent=2, ensure_ascii=False, default=str) + "\n")
    else:
        _write(render_comparison(comparison, official_label=str(args.official), ours_label=ours.source))
    every = [*comparison.ours_lacks, *comparison.official_lacks, *comparison.differs]
    return 1 if args.fail_on != "never" and breaking(every, args.fail_on) else 0
