"""`imagegen models`: show the per-model rules of the contract (x-imagegen-models)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from ..contract import FieldRule, ModelRules, UploadRule, default_catalog
from .output import write_stdout


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
        write_stdout(json.dumps({model.name: model.data for model in chosen}, indent=2) + "\n")
        return 0
    write_stdout("\n".join(describe(rules) for rules in chosen))
    return 0


def describe(rules: ModelRules) -> str:
    """A few lines a person can read: what the model does and takes, field by field."""
    title = rules.name + (f" (also {', '.join(rules.aliases)})" if rules.aliases else "")
    lines = [title]
    if rules.retired_upstream:
        lines.append(
            f"  retired by OpenAI in {rules.retired_upstream}; compatible servers still serve it, "
            "and nothing refuses it"
        )
    lines.append(f"  {'operations':<20}{', '.join(rules.operations)}")
    for name, rule in rules.fields.items():
        lines.append(f"  {name:<20}{_field(rule)}")
    for role, upload in rules.uploads.items():
        if upload is not None:
            lines.append(f"  {role:<20}{_upload(upload)}")
    answers = [
        name
        for name, present in (("revised_prompt", rules.revised_prompt), ("usage", rules.usage))
        if present
    ]
    lines.append(f"  {'answers carry':<20}{', '.join(answers) or 'the images only'}")
    return "\n".join(lines) + "\n"


def _field(rule: FieldRule) -> str:
    default = f" (default {_show(rule.default)})" if rule.has_default else ""
    if not rule.taken:
        return f"(not taken; it uses {_show(rule.default)})" if rule.has_default else "(not taken)"
    parts = []
    if rule.values is not None:
        parts.append(", ".join(_show(value) for value in rule.values))
    if rule.custom_sizes is not None:
        parts.append(f"or {rule.custom_sizes.describe()}")
    if rule.minimum is not None:
        parts.append(f"from {rule.minimum:g}")
    if rule.maximum is not None:
        parts.append(f"up to {rule.maximum:g}")
    if rule.max_length is not None:
        parts.append(f"up to {rule.max_length} characters")
    return (" ".join(parts) or "taken") + default


def _upload(rule: UploadRule) -> str:
    size = f"{rule.max_bytes / (1024 * 1024):g} MB"
    count = f", up to {rule.max_count} per request" if rule.max_count > 1 else ", one per request"
    return f"{', '.join(rule.formats)} files up to {size}{count}" + (", square" if rule.square else "")


def _show(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)
