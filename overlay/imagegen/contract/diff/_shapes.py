"""Flatten a schema into a comparable shape: refs followed, alternatives folded, bounds kept."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ._common import MAX_DEPTH
from ._words import _unique

# ---- shapes ---------------------------------------------------------------------------------

_NUMBERS = frozenset({"integer", "number"})
_STRINGS = frozenset({"string"})
_ARRAYS = frozenset({"array"})
_LOWER_BOUNDS = {
    "minimum": _NUMBERS,
    "exclusiveMinimum": _NUMBERS,
    "minLength": _STRINGS,
    "minItems": _ARRAYS,
}
_UPPER_BOUNDS = {
    "maximum": _NUMBERS,
    "exclusiveMaximum": _NUMBERS,
    "maxLength": _STRINGS,
    "maxItems": _ARRAYS,
}
_EXACT_BOUNDS = {
    "multipleOf": _NUMBERS,
    "pattern": _STRINGS,
    "format": _STRINGS | _NUMBERS,
    "uniqueItems": _ARRAYS,
}
_BOUNDS = {**_LOWER_BOUNDS, **_UPPER_BOUNDS, **_EXACT_BOUNDS}


@dataclass(frozen=True)
class _Shape:
    """What a schema allows, in a form two contracts can be compared in."""

    types: frozenset[str]
    """JSON types other than null; empty for any type."""
    nullable: bool = False
    enum: tuple[Any, ...] | None = None
    """The only values taken (null left out), or None when any value of its types is."""
    bounds: Mapping[str, Any] = field(default_factory=dict)
    properties: Mapping[str, _Shape] = field(default_factory=dict)
    required_sets: tuple[frozenset[str], ...] = ()
    """The required properties of each object alternative."""
    closed: bool = False
    """additionalProperties: false."""
    items: _Shape | None = None
    variants: Mapping[str, _Shape] = field(default_factory=dict)
    """The alternatives of a discriminated union, by their discriminator value."""
    discriminator: str | None = None
    description: str = ""

    @property
    def required(self) -> frozenset[str]:
        """The properties every object alternative requires."""
        if not self.required_sets:
            return frozenset()
        return frozenset.intersection(*self.required_sets)


class _Flattener:
    """Turns schema nodes of one document into shapes."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document

    def shape(self, node: Any, depth: int = 0, *, fold_twins: bool = False) -> _Shape:
        expanded = self.expand(node)
        alternatives = self.alternatives(expanded)
        typed = [(alt, *_alt_types(alt)) for alt in alternatives]
        values = [alt for alt, kinds, _, anything in typed if kinds or anything]
        any_type = any(anything for *_, anything in typed)
        objects = [
            alt
            for alt, kinds, _, anything in typed
            if "object" in kinds or (anything and "properties" in alt)
        ]
        arrays = [alt for alt, kinds, _, _ in typed if "array" in kinds and "items" in alt]
        deeper = depth < MAX_DEPTH
        properties, required_sets = self._properties(objects, depth, fold_twins) if deeper else ({}, ())
        return _Shape(
            types=frozenset() if any_type else frozenset(k for _, kinds, _, _ in typed for k in kinds),
            nullable=any(nullable for _, _, nullable, _ in typed),
            enum=_enum(values) if values else (),
            bounds=_bounds(typed),
            properties=properties,
            required_sets=required_sets,
            closed=bool(objects) and all(alt.get("additionalProperties") is False for alt in objects),
            items=self._union([alt["items"] for alt in arrays], depth + 1) if arrays and deeper else None,
            variants=self._variants(expanded, objects, depth) if deeper else {},
            discriminator=_discriminator(expanded),
            description=_description(expanded, alternatives),
        )

    def expand(self, node: Any) -> dict[str, Any]:
        """`node` with `$ref`s followed (their siblings apply too) and `allOf` merged in."""
        siblings: list[dict[str, Any]] = []
        for _ in range(32):
            if not (isinstance(node, Mapping) and "$ref" in node):
                break
            siblings.append({key: value for key, value in node.items() if key != "$ref"})
            node = self._target(str(node["$ref"]))
        if not isinstance(node, Mapping):
            return {}
        merged = dict(node)
        for extra in reversed(siblings):
            merged = _combine(merged, extra)
        for part in merged.pop("allOf", None) or []:
            merged = _combine(merged, self.expand(part))
        return merged

    def alternatives(self, expanded: Mapping[str, Any], hops: int = 0) -> list[dict[str, Any]]:
        """Each anyOf/oneOf alternative, combined with what the node says beside them."""
        options = expanded.get("anyOf") or expanded.get("oneOf")
        if not options or hops > MAX_DEPTH:
            return [dict(expanded)]
        base = {key: value for key, value in expanded.items() if key not in ("anyOf", "oneOf")}
        return [
            _combine(base, alt)
            for option in options
            for alt in self.alternatives(self.expand(option), hops + 1)
        ]

    def named_values(self, node: Any) -> list[Any]:
        """Every value an enum or const of `node` names, even where other values are taken too."""
        found: list[Any] = []
        for alt in self.alternatives(self.expand(node)):
            found.extend(value for value in _listed(alt) or () if value is not None)
        return _unique(found)

    def _target(self, ref: str) -> Any:
        if not ref.startswith("#/"):
            return {}  # a reference to another file: nothing to compare it with
        try:
            return _pointer(self.document, ref)
        except (KeyError, IndexError, TypeError):
            return {}

    def _properties(
        self, objects: list[dict[str, Any]], depth: int, fold_twins: bool
    ) -> tuple[dict[str, _Shape], tuple[frozenset[str], ...]]:
        def name_of(name: str) -> str:
            return name.removesuffix("[]") if fold_twins else name

        declared: dict[str, list[Any]] = {}
        for alt in objects:
            for name, decl in (alt.get("properties") or {}).items():
                declared.setdefault(name_of(str(name)), []).append(decl)
        properties = {name: self._union(decls, depth + 1) for name, decls in declared.items()}
        required_sets = tuple(
            frozenset(name_of(str(n)) for n in alt.get("required") or ()) for alt in objects
        )
        return properties, required_sets

    def _union(self, decls: list[Any], depth: int) -> _Shape:
        unique = list({id(decl): decl for decl in decls}.values())
        return self.shape(unique[0] if len(unique) == 1 else {"anyOf": unique}, depth)

    def _variants(
        self, expanded: Mapping[str, Any], objects: list[dict[str, Any]], depth: int
    ) -> dict[str, _Shape]:
        name = _discriminator(expanded)
        if name is None or len(objects) < 2:
            return {}
        variants: dict[str, _Shape] = {}
        for alt in objects:
            values = self.named_values((alt.get("properties") or {}).get(name, {}))
            if len(values) != 1:
                return {}  # not a union this comparison can key by value
            variants[str(values[0])] = self.shape(alt, depth + 1)
        return variants


def _pointer(document: Mapping[str, Any], ref: str) -> Any:
    target: Any = document
    for part in ref.removeprefix("#/").split("/"):
        key = part.replace("~1", "/").replace("~0", "~")
        target = target[int(key)] if isinstance(target, list) else target[key]
    return target


def _combine(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """Both schemas at once (approximately): properties and required lists merged, the rest `extra` wins."""
    merged = dict(base)
    for key, value in extra.items():
        if key == "properties" and isinstance(merged.get(key), Mapping):
            merged[key] = {**merged[key], **value}
        elif key == "required" and isinstance(merged.get(key), list):
            merged[key] = list(dict.fromkeys([*merged[key], *value]))
        else:
            merged[key] = value
    return merged


def _listed(alt: Mapping[str, Any]) -> list[Any] | None:
    if "const" in alt:
        return [alt["const"]]
    if isinstance(alt.get("enum"), list):
        return list(alt["enum"])
    return None


def _alt_types(alt: Mapping[str, Any]) -> tuple[frozenset[str], bool, bool]:
    """(JSON types but null, whether null is taken, whether any type is) of one alternative."""
    declared = alt.get("type")
    listed = _listed(alt)
    if isinstance(declared, str):
        kinds = {declared}
    elif isinstance(declared, list):
        kinds = {str(kind) for kind in declared}
    elif listed is not None:
        kinds = {_json_type(value) for value in listed}
    elif "properties" in alt or "additionalProperties" in alt:
        kinds = {"object"}
    elif "items" in alt:
        kinds = {"array"}
    else:
        return frozenset(), False, True
    # with an enum, both must let null through: `type: [string, 'null']`, `enum: [a, b]` takes no null
    nullable = "null" in kinds if listed is None else None in listed and (declared is None or "null" in kinds)
    kinds.discard("null")
    return frozenset(kinds), nullable, False


def _enum(values: list[dict[str, Any]]) -> tuple[Any, ...] | None:
    found: list[Any] = []
    for alt in values:
        listed = _listed(alt)
        if listed is None:
            return None
        found.extend(value for value in listed if value is not None)
    return tuple(_unique(found))


def _bounds(typed: list[tuple[dict[str, Any], frozenset[str], bool, bool]]) -> dict[str, Any]:
    """The bounds of a union: each applies only if every alternative of its kind has it (the loosest)."""
    bounds: dict[str, Any] = {}
    for key, domain in _BOUNDS.items():
        applicable = [alt for alt, kinds, _, anything in typed if anything or kinds & domain]
        values: list[Any] = [alt.get(key) for alt in applicable]
        if not values or any(value is None for value in values):
            continue
        if key in _LOWER_BOUNDS:
            bounds[key] = min(values)
        elif key in _UPPER_BOUNDS:
            bounds[key] = max(values)
        elif all(value == values[0] for value in values):
            bounds[key] = values[0]
    return bounds


def _discriminator(expanded: Mapping[str, Any]) -> str | None:
    found = (expanded.get("discriminator") or {}).get("propertyName")
    return str(found) if found else None


def _description(expanded: Mapping[str, Any], alternatives: list[dict[str, Any]]) -> str:
    for node in (expanded, *alternatives):
        if node.get("description"):
            return str(node["description"]).strip()
    return ""


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _covers(types: frozenset[str], kind: str) -> bool:
    return not types or kind in types or (kind == "integer" and "number" in types)
