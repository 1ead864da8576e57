"""Compare two contracts, or ours with the official OpenAI spec, and say whom each change breaks.

    changes = diff_contracts(old_document, new_document)
    print(render_text(changes, old_label="main", new_label="my-branch"))
    breaking(changes, "client")        # the changes a reviewer must not miss

    comparison = compare_official(official_document, our_document)
    print(render_comparison(comparison, official_label="openai", ours_label="images.yaml"))

Documents are plain mappings, as loaded from YAML or JSON. Everything is keyed by operation
(method and path), media type and field path, never by the name of a component schema: two
contracts may name their schemas differently (our `CreateImageEditJsonRequest` is the official
`EditImageBodyJsonParam`). Each field is first flattened into a comparable shape: `$ref`s
followed (their siblings kept), `allOf` merged, `anyOf`/`oneOf` alternatives and
`type: [x, 'null']` folded into its JSON types, nullability and listed values (`enum`,
`const`); its bounds (minimum, maximum, exclusive bounds, multipleOf, minLength, maxLength,
pattern, format, minItems, maxItems, uniqueItems); whether it is required; and its properties,
items and discriminated variants, to a bounded depth. Defaults, examples and `x-` keys are
not compared; descriptions and summaries only with `include_docs=True`.

Whom a change breaks (`Change.impact`):

- "client": a client built to OLD is refused by NEW, or NEW answers what an OLD client may not
  expect. An operation, request media type, request field or parameter removed; a request
  field added as required or made required; a request value narrowed (enum value removed,
  minimum or minLength raised, maximum or maxLength lowered, bound or pattern added, type or
  nullability taken away, unknown fields refused); an answer widened (enum value, type,
  nullability, media type, 2xx status or stream event added); an answer field that was required
  removed or made optional. In the model rules: a model or alias removed, an operation no
  longer served, a field now refused, a value removed, a min raised or a max lowered, custom
  sizes or upload limits tightened, a constraint added, a default changed or removed, an answer
  no longer carrying `revised_prompt` or `usage`.
- "server": a server conforming to OLD fails against NEW. The mirror images: an operation,
  request media type or request value added (enum value, wider bound, type, nullability); a
  required request field made optional; an optional request field added where OLD refuses
  unknown fields; an answer field newly required; an answer narrowed (enum value removed,
  bound tightened). In the model rules: a value added, a bound widened, a field now taken, an
  operation newly served, a constraint removed or relaxed, a default added, answers newly
  carrying `revised_prompt` or `usage`.
- "compatible": anything else: an optional request field added, an optional answer field added
  or removed, an error status added or removed, a model added, `retired_upstream` changed,
  descriptions (with `include_docs=True`).

Most rules follow from one: in a request, narrowing what a field takes breaks clients and
widening it breaks servers; in an answer it is the reverse. A change that does both at once (a
pattern or format replaced, one type swapped for another) is counted as breaking clients.

`compare_official` runs the same comparison with the official spec as OLD and ours as NEW, and
sorts its findings into what ours lacks, what the official lacks, and what both have but
differently. It takes the official multipart convention into account (one `image` field that
is a file or an array of files, sent as `image[]` parts: ours spells these as two fields, and
both are compared as one), ignores nullability in multipart bodies (a form part cannot be
null), and checks that every model the official names in an operation's `model` enums has
rules in our `x-imagegen-models` that list that operation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..models import RULES_KEY
from ._common import _HEADINGS, _METHODS, IMPACTS, Change, Comparison, FailOn, Impact, _Kind
from ._findings import _Report
from ._models import _diff_models, _model_coverage
from ._operations import _Differ
from ._words import _change_json, _counts


def diff_contracts(
    old: Mapping[str, Any], new: Mapping[str, Any], *, include_docs: bool = False
) -> list[Change]:
    """Every difference between contract documents `old` and `new`, in contract order."""
    report = _Report()
    _Differ(old, new, report, include_docs=include_docs, official=False).operations()
    _diff_models(report, old.get(RULES_KEY) or {}, new.get(RULES_KEY) or {})
    return [finding.change() for finding in report.found]


def breaking(changes: Iterable[Change], fail_on: FailOn) -> list[Change]:
    """The changes that break clients (`"client"`), servers (`"server"`) or either (`"any"`)."""
    wanted = {"client", "server"} if fail_on == "any" else {fail_on}
    return [change for change in changes if change.impact in wanted]


def render_text(changes: list[Change], *, old_label: str, new_label: str) -> str:
    """A report for people: the changes grouped by whom they break, then a line of counts."""
    if not changes:
        return f"{old_label} -> {new_label}: no differences\n"
    lines = [f"{old_label} -> {new_label}"]
    for impact in IMPACTS:
        group = [change for change in changes if change.impact == impact]
        if group:
            lines.append("")
            lines.append(f"{_HEADINGS[impact]} ({len(group)}):")
            lines.extend(f"  {change}" for change in group)
    counts = _counts(changes)
    lines.append("")
    lines.append(
        f"{counts['client']} breaking for clients, {counts['server']} breaking for servers, "
        f"{counts['compatible']} compatible"
    )
    return "\n".join(lines) + "\n"


def to_json(changes: Sequence[Change]) -> dict[str, Any]:
    """`{"changes": [...], "summary": {"client": n, "server": n, "compatible": n, "total": n}}`."""
    return {"changes": [_change_json(change) for change in changes], "summary": _counts(changes)}


def compare_official(official: Mapping[str, Any], ours: Mapping[str, Any]) -> Comparison:
    """What our contract lacks, adds and does differently compared with the official spec."""
    report = _Report()
    _Differ(official, ours, report, include_docs=False, official=True).operations()
    _model_coverage(report, official, ours)
    sorted_changes: dict[_Kind, list[Change]] = {"removed": [], "added": [], "changed": []}
    for finding in report.found:
        sorted_changes[finding.kind].append(finding.compared())
    return Comparison(
        ours_lacks=sorted_changes["removed"],
        official_lacks=sorted_changes["added"],
        differs=sorted_changes["changed"],
    )


def render_comparison(comparison: Comparison, *, official_label: str, ours_label: str) -> str:
    """A report for people: what ours lacks, what the official lacks, what differs; then counts."""
    sections = [
        (f"Ours lacks: in {official_label}, not in {ours_label}", comparison.ours_lacks),
        (f"The official lacks: in {ours_label}, not in {official_label}", comparison.official_lacks),
        ("Differs: in both, differently", comparison.differs),
    ]
    lines = [f"{ours_label} compared with {official_label}"]
    for heading, changes in sections:
        lines.append("")
        lines.append(f"{heading} ({len(changes)}):")
        lines.extend(_by_operation(changes) or ["  nothing"])
    lines.append("")
    lines.append(
        f"ours lacks {len(comparison.ours_lacks)}, the official lacks {len(comparison.official_lacks)}, "
        f"{len(comparison.differs)} differ"
    )
    return "\n".join(lines) + "\n"


def _by_operation(changes: Sequence[Change]) -> list[str]:
    """Lines under a heading per operation (and one for the model rules), the operation said once."""
    groups: dict[str, list[str]] = {}
    for change in changes:
        head, rest = _split_where(change.where)
        groups.setdefault(head, []).append(f"{rest}: {change.what}" if rest else change.what)
    lines = []
    for head, items in groups.items():
        lines.append(f"  {head}:")
        lines.extend(f"    {item}" for item in items)
    return lines


def _split_where(where: str) -> tuple[str, str]:
    method, _, rest = where.partition(" ")
    if method.upper() not in _METHODS or not rest.startswith("/"):
        return "models", where
    path, _, rest = rest.partition(" ")
    if path.endswith(":"):
        return f"{method} {path[:-1]}", rest.strip()
    return f"{method} {path}", rest.strip()


def comparison_json(comparison: Comparison) -> dict[str, Any]:
    """The comparison as JSON-ready data, with a summary of counts."""
    return {
        "ours_lacks": [_change_json(change) for change in comparison.ours_lacks],
        "official_lacks": [_change_json(change) for change in comparison.official_lacks],
        "differs": [_change_json(change) for change in comparison.differs],
        "summary": {
            "ours_lacks": len(comparison.ours_lacks),
            "official_lacks": len(comparison.official_lacks),
            "differs": len(comparison.differs),
        },
    }


__all__ = [
    "Change",
    "Comparison",
    "FailOn",
    "Impact",
    "breaking",
    "compare_official",
    "comparison_json",
    "diff_contracts",
    "render_comparison",
    "render_text",
    "to_json",
]
