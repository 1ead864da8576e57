"""`imagegen models`: show the per-model rules."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Sequence

from ..rules import ModelRules, default_catalog


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    """Declare the options of `imagegen models`."""
    parser.description = "Show the per-model rules of the packaged contract (x-imagegen-models)."
    parser.epilog = "examples:\n  imagegen models\n  imagegen models gpt-image-2 --json\n"
    parser.add_argument("names", nargs="*", metavar="MODEL", help="only these models (or aliases)")
    parser.add_argument("--json", action="store_true", help="print the rules as JSON")


def run(args: argparse.Namespace) -> int:
    """Print the rules of the named models (all when none are named)."""
    return show_models(args.names, as_json=args.json)


def show_models(names: Sequence[str], *, as_json: bool) -> int:
    """Print the rules of the named models (all when none are named)."""
    catalog = default_catalog()
    chosen: list[ModelRules] = []
    for name in names:
        rules = catalog.get(name)
        if rules is None:
            known = ", ".join(model.name for model in catalog)
            print(f"imagegen models: unknown model {name!r}; known: {known}", file=sys.stderr)
            return 2
        chosen.append(rules)
    chosen = chosen or list(catalog)
    if as_json:
        print(json.dumps({m.name: dataclasses.asdict(m) for m in chosen}, indent=2))
        return 0
    for rules in chosen:
        print(describe(rules))
    return 0


def describe(rules: ModelRules) -> str:
    """A few lines a person can read: what the model does and takes."""

    def listed(values: tuple[str, ...]) -> str:
        return ", ".join(values) if values else "(not taken)"

    sizes = f"{listed(rules.sizes)} (default {rules.default_size})"
    if rules.custom_sizes is not None:
        sizes += f"; or {rules.custom_sizes.describe()}"
    lines = [
        rules.name + (f" (also {', '.join(rules.aliases)})" if rules.aliases else ""),
        f"  operations       {', '.join(rules.operations)}",
        f"  n                1 to {rules.max_n}",
        f"  sizes            {sizes}",
        f"  quality          {listed(rules.qualities)}",
        f"  style            {listed(rules.styles)}",
        f"  response_format  {listed(rules.response_formats)} (returns {rules.default_response_format})",
        f"  output_format    {listed(rules.output_formats)}",
        f"  background       {listed(rules.backgrounds)}",
        f"  streaming        {'yes' if rules.streaming else 'no'}",
        f"  prompt           up to {rules.prompt_max_length} characters",
    ]
    return "\n".join(lines) + "\n"
