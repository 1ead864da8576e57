"""How values and shapes are written in a comparison's findings."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ._common import IMPACTS, Change

if TYPE_CHECKING:
    from ._shapes import _Shape

# ---- words ----------------------------------------------------------------------------------


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _unique(values: Iterable[Any]) -> list[Any]:
    seen: dict[str, Any] = {}
    for value in values:
        seen.setdefault(_key(value), value)
    return list(seen.values())


def _text(value: Any, limit: int = 80, *, quote: bool = True) -> str:
    """A value as a short phrase: 'hd', 10, [a, b], never a long repr."""
    if isinstance(value, str):
        text = repr(value) if quote else value
    elif value is None:
        text = "none"
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, float):
        text = f"{value:g}"
    elif isinstance(value, list | tuple):
        text = "[" + ", ".join(_text(item, 40, quote=False) for item in value) + "]"
    elif isinstance(value, Mapping):
        text = "{" + ", ".join(f"{k}: {_text(v, 40, quote=False)}" for k, v in value.items()) + "}"
    else:
        text = str(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _types_text(types: frozenset[str]) -> str:
    return "|".join(sorted(types)) if types else "any"


def _values_text(shape: _Shape) -> str:
    if shape.enum is None:
        return f"any {_types_text(shape.types)}"
    return _text(list(shape.enum))


def _summary(shape: _Shape) -> str:
    parts = [_types_text(shape.types)]
    if shape.enum is not None:
        parts.append(_text(list(shape.enum), 50, quote=False))
    return " ".join(parts)


def _closed(closed: bool) -> str:
    return "refused" if closed else "allowed"


def _yes_no_values(was: bool, now: bool) -> tuple[str, str]:
    return ("yes" if was else "no"), ("yes" if now else "no")


def _yes_no(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[str, str]:
    return _yes_no_values(bool(old.get("required")), bool(new.get("required")))


def _plain(value: Any) -> Any:
    """`value` as JSON-ready data (tuples as lists, unknown objects as text)."""
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(item) for item in value]
    return str(value)


def _change_json(change: Change) -> dict[str, Any]:
    return {
        "impact": change.impact,
        "where": change.where,
        "what": change.what,
        "old": _plain(change.old),
        "new": _plain(change.new),
    }


def _counts(changes: Sequence[Change]) -> dict[str, int]:
    counts: dict[str, int] = dict.fromkeys(IMPACTS, 0)
    for change in changes:
        counts[change.impact] += 1
    return {**counts, "total": len(changes)}
