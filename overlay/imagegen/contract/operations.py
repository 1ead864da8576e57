"""The operations of a contract and the fields of their request bodies, derived from `paths`.

Nothing here is written for one operation: a path added to the contract shows up as one more
`OperationInfo`, with its method, media types, schema names and fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SCHEMA_REF = "#/components/schemas/"
JSON = "application/json"
MULTIPART = "multipart/form-data"
EVENT_STREAM = "text/event-stream"
NAME_KEY = "x-imagegen-operation"
UPLOAD_KEY = "x-imagegen-upload"


@dataclass(frozen=True)
class FieldInfo:
    """One property of a request body schema, with what a caller needs to know about it."""

    name: str
    required: bool
    kind: str | None
    """The JSON type the field holds ("string", "integer", "boolean", "array", "object"), or None."""
    nullable: bool
    enum: tuple[Any, ...] | None
    """The values the contract allows, when it lists them (through $ref and anyOf too)."""
    description: str
    upload: str | None
    """`image` or `mask` for the fields that carry images (files, or references in JSON)."""
    binary: bool
    """Whether the field is a file part (or an array of file parts) of a multipart body."""
    schema: Mapping[str, Any] = field(repr=False, compare=False, default_factory=dict)
    minimum: float | None = None
    maximum: float | None = None
    min_length: int | None = None
    max_length: int | None = None


IMAGES_TAG = "images"
"""The tag of the operations that make images; the files and batches operations serve them."""


@dataclass(frozen=True)
class OperationInfo:
    """One operation of the contract."""

    id: str
    """The operationId, e.g. createImage."""
    name: str
    """The short name the model rules and the command line use (x-imagegen-operation), e.g.
    generations; the operationId when the contract gives none."""
    method: str
    path: str
    summary: str
    bodies: Mapping[str, str]
    """Request media type -> component schema name, in the contract's order."""
    answer: str | None
    """The component schema of a 200 JSON answer."""
    stream_events: tuple[str, ...]
    """The event names of a 200 `text/event-stream` answer (empty when it does not stream)."""
    stream_schema: str | None
    """The component schema of one stream event's data."""
    headers: tuple[str, ...]
    """The header parameters it takes."""
    tags: tuple[str, ...] = ()
    answer_types: tuple[str, ...] = ()
    """The media types of a 200 answer, in the contract's order."""
    parameter_places: tuple[str, ...] = ()
    """Where each of its parameters goes (`path`, `query`, `header`), in the contract's order."""

    @property
    def label(self) -> str:
        """`POST /images/generations`: how reports and messages name it."""
        return f"{self.method} {self.path}"

    @property
    def makes_images(self) -> bool:
        """Whether it is an image operation (tagged `images`), not a files or batches one."""
        return IMAGES_TAG in self.tags

    @property
    def streams(self) -> bool:
        """Whether it can answer with server-sent events."""
        return bool(self.stream_events)

    def schema_for(self, media_type: str) -> str | None:
        """The request schema of a body of `media_type` (parameters such as boundary ignored)."""
        return self.bodies.get(media_type.split(";")[0].strip().lower())


def operations_of(document: Mapping[str, Any]) -> tuple[OperationInfo, ...]:
    """Every operation under `paths`, in the contract's order."""
    found = []
    for path, item in (document.get("paths") or {}).items():
        shared = item.get("parameters", [])
        for method, operation in item.items():
            if method in ("parameters", "summary", "description", "servers") or not isinstance(
                operation, dict
            ):
                continue
            found.append(_operation(document, path, method, operation, shared))
    return tuple(found)


def _operation(
    document: Mapping[str, Any], path: str, method: str, operation: Mapping[str, Any], shared: list[Any]
) -> OperationInfo:
    operation_id = str(operation.get("operationId") or f"{method} {path}")
    content = (operation.get("requestBody") or {}).get("content") or {}
    bodies = {media: name for media, media_item in content.items() if (name := _ref_name(media_item))}
    ok = resolve(document, (operation.get("responses") or {}).get("200") or {})
    answers = ok.get("content") or {}
    stream = answers.get(EVENT_STREAM, {}).get("schema") or {}
    stream_props = stream.get("properties", {})
    events = tuple(stream_props.get("event", {}).get("enum", ()))
    data = stream_props.get("data", {}).get("contentSchema") or {}
    headers, places = [], []
    for parameter in [*shared, *operation.get("parameters", [])]:
        parameter = resolve(document, parameter)
        places.append(str(parameter.get("in")))
        if parameter.get("in") == "header":
            headers.append(str(parameter["name"]))
    return OperationInfo(
        id=operation_id,
        name=str(operation.get(NAME_KEY) or operation_id),
        method=method.upper(),
        path=path,
        summary=str(operation.get("summary") or "").strip(),
        bodies=bodies,
        answer=_ref_name(answers.get(JSON, {})),
        stream_events=events,
        stream_schema=_schema_name(data.get("$ref")),
        headers=tuple(headers),
        tags=tuple(str(tag) for tag in operation.get("tags", ())),
        answer_types=tuple(str(media) for media in answers),
        parameter_places=tuple(places),
    )


def fields_of(document: Mapping[str, Any], schema_name: str) -> tuple[FieldInfo, ...]:
    """The properties of component schema `schema_name`, resolved, in the contract's order."""
    schema = document["components"]["schemas"][schema_name]
    required = set(schema.get("required", []))
    found = []
    for name, declared in (schema.get("properties") or {}).items():
        if not isinstance(declared, Mapping):  # a boolean schema (true, or false: forbidden)
            declared = {} if declared else {"not": {}}
        resolved = resolve(document, declared)
        found.append(
            FieldInfo(
                name=name,
                required=name in required,
                kind=_kind(document, declared),
                nullable=_nullable(document, declared),
                enum=_enum(document, declared),
                description=_description(document, declared),
                upload=declared.get(UPLOAD_KEY) or resolved.get(UPLOAD_KEY),
                binary=_binary(document, declared),
                schema=declared,
                **_bounds(document, declared),
            )
        )
    return tuple(found)


def resolve(document: Mapping[str, Any], node: Any) -> Any:
    """Follow local `$ref`s until a node without one (its siblings are dropped, as 3.0 tools do)."""
    seen = 0
    while isinstance(node, Mapping) and "$ref" in node and seen < 32:
        target: Any = document
        for part in str(node["$ref"]).removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node, seen = target, seen + 1
    return node


def alternatives(document: Mapping[str, Any], node: Any) -> list[Mapping[str, Any]]:
    """`node` resolved, or each of its anyOf/oneOf alternatives resolved (recursively)."""
    node = resolve(document, node)
    if not isinstance(node, Mapping):
        return []
    options = node.get("anyOf") or node.get("oneOf")
    if not options:
        return [node]
    return [alt for option in options for alt in alternatives(document, option)]


def _kind(document: Mapping[str, Any], node: Any) -> str | None:
    for alternative in alternatives(document, node):
        kind = alternative.get("type")
        kinds = kind if isinstance(kind, list) else [kind]
        for candidate in kinds:
            if isinstance(candidate, str) and candidate != "null":
                return candidate
        for value in [alternative.get("const"), *alternative.get("enum", [])]:
            if value is not None:
                return {bool: "boolean", int: "integer", float: "number", str: "string"}.get(type(value))
    return None


def _nullable(document: Mapping[str, Any], node: Any) -> bool:
    for alternative in alternatives(document, node):
        kind = alternative.get("type")
        if kind == "null" or (isinstance(kind, list) and "null" in kind):
            return True
    return False


def _enum(document: Mapping[str, Any], node: Any) -> tuple[Any, ...] | None:
    values: list[Any] = []
    for alternative in alternatives(document, node):
        if "const" in alternative:
            values.append(alternative["const"])
        values.extend(value for value in alternative.get("enum", []) if value is not None)
        if (
            alternative.get("type") not in (None, "null")
            and "enum" not in alternative
            and "const" not in alternative
        ):
            return None  # an alternative open to any value of its type
    return tuple(dict.fromkeys(values)) or None


def _bounds(document: Mapping[str, Any], node: Any) -> dict[str, Any]:
    """minimum, maximum, minLength and maxLength of the field's (first) non-null alternative."""
    for alternative in alternatives(document, node):
        if alternative.get("type") not in (None, "null") or "enum" in alternative:
            return {
                "minimum": alternative.get("minimum"),
                "maximum": alternative.get("maximum"),
                "min_length": alternative.get("minLength"),
                "max_length": alternative.get("maxLength"),
            }
    return {}


def _description(document: Mapping[str, Any], node: Any) -> str:
    if isinstance(node, Mapping) and node.get("description"):
        return str(node["description"]).strip()
    for alternative in alternatives(document, node):
        if alternative.get("description"):
            return str(alternative["description"]).strip()
    return ""


def _binary(document: Mapping[str, Any], node: Any) -> bool:
    for alternative in alternatives(document, node):
        if alternative.get("format") == "binary":
            return True
        if alternative.get("type") == "array" and _binary(document, alternative.get("items", {})):
            return True
    return False


def _ref_name(media_item: Mapping[str, Any]) -> str | None:
    return _schema_name((media_item.get("schema") or {}).get("$ref"))


def _schema_name(ref: Any) -> str | None:
    if isinstance(ref, str) and ref.startswith(SCHEMA_REF):
        return ref.removeprefix(SCHEMA_REF)
    return None
