"""Compare the operations of two contracts: bodies, parameters, answers, streams."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..operations import MULTIPART, operations_of
from ._common import _STATUS, EVENT_STREAM, Impact, _Direction
from ._findings import _Finding, _narrowing, _Report, _widening
from ._shapes import _BOUNDS, _LOWER_BOUNDS, _UPPER_BOUNDS, _covers, _Flattener, _Shape
from ._words import _closed, _key, _plain, _summary, _text, _types_text, _values_text, _yes_no, _yes_no_values

# ---- operations -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Operation:
    label: str
    name: str
    raw: Mapping[str, Any]
    path_item: Mapping[str, Any]


def _operations(document: Mapping[str, Any]) -> dict[str, _Operation]:
    found = {}
    for info in operations_of(document):
        item = document["paths"][info.path]
        found[info.label] = _Operation(info.label, info.name, item[info.method.lower()], item)
    return found


class _Differ:
    """Compares the operations of two documents, reporting into `report`."""

    def __init__(
        self,
        old: Mapping[str, Any],
        new: Mapping[str, Any],
        report: _Report,
        *,
        include_docs: bool,
        official: bool,
    ) -> None:
        self.old, self.new = _Flattener(old), _Flattener(new)
        self.report = report
        self.include_docs = include_docs
        self.official = official

    def operations(self) -> None:
        old_ops, new_ops = _operations(self.old.document), _operations(self.new.document)
        for label, old_op in old_ops.items():
            if label not in new_ops:
                self.report.removed("client", label, "operation", old=old_op.name)
        for label, new_op in new_ops.items():
            if label not in old_ops:
                self.report.added("server", label, "operation", new=new_op.name)
        for label in (label for label in old_ops if label in new_ops):
            self.operation(label, old_ops[label], new_ops[label])

    def operation(self, label: str, old: _Operation, new: _Operation) -> None:
        if self.include_docs:
            for key in ("summary", "description"):
                self._docs(label, key, old.raw.get(key), new.raw.get(key))
        self.parameters(label, old, new)
        self.request(label, old.raw, new.raw)
        self.responses(label, old.raw, new.raw)

    # -- requests --

    def request(self, label: str, old_raw: Mapping[str, Any], new_raw: Mapping[str, Any]) -> None:
        old_body = self.old.expand(old_raw.get("requestBody") or {})
        new_body = self.new.expand(new_raw.get("requestBody") or {})
        if bool(old_body.get("required")) != bool(new_body.get("required")):
            impact: Impact = "client" if new_body.get("required") else "server"
            state = "now required" if new_body.get("required") else "now optional"
            self.report.texts(
                impact, label, "request body required", f"request body {state}", *_yes_no(old_body, new_body)
            )
        old_content, new_content = _content(old_body), _content(new_body)
        for media in old_content:
            if media not in new_content:
                self.report.removed("client", label, f"request media type {media}", old=media)
        for media in new_content:
            if media not in old_content:
                self.report.added("server", label, f"request media type {media}", new=media)
        for media in (media for media in old_content if media in new_content):
            form = media == MULTIPART
            fold = self.official and form
            old_shape = self.old.shape(old_content[media].get("schema") or {}, fold_twins=fold)
            new_shape = self.new.shape(new_content[media].get("schema") or {}, fold_twins=fold)
            self.compare(
                f"{label} {media}", "", old_shape, new_shape, "request", nulls=not (self.official and form)
            )

    def parameters(self, label: str, old: _Operation, new: _Operation) -> None:
        old_params, new_params = self._parameters(self.old, old), self._parameters(self.new, new)
        for key, param in old_params.items():
            if key not in new_params:
                self.report.removed("client", label, f"{_param_label(param)} parameter")
        for key, param in new_params.items():
            if key not in old_params:
                required = bool(param.get("required"))
                impact: Impact = "client" if required else "compatible"
                detail = "required" if required else "optional"
                self.report.added(impact, label, f"{_param_label(param)} parameter", detail=detail)
        for key in (key for key in old_params if key in new_params):
            old_param, new_param = old_params[key], new_params[key]
            where = f"{label} {_param_label(new_param)}"
            self._required(where, bool(old_param.get("required")), bool(new_param.get("required")), "request")
            old_shape = self.old.shape(old_param.get("schema") or {})
            new_shape = self.new.shape(new_param.get("schema") or {})
            self.compare(where, "", old_shape, new_shape, "request")

    def _parameters(self, flat: _Flattener, operation: _Operation) -> dict[tuple[str, str], dict[str, Any]]:
        found: dict[tuple[str, str], dict[str, Any]] = {}
        for node in [*operation.path_item.get("parameters", []), *operation.raw.get("parameters", [])]:
            param = flat.expand(node)
            where, name = str(param.get("in", "")), str(param.get("name", ""))
            found[(where, name.lower() if where == "header" else name)] = param
        return found

    # -- responses --

    def responses(self, label: str, old_raw: Mapping[str, Any], new_raw: Mapping[str, Any]) -> None:
        old_answers = {str(k): v for k, v in (old_raw.get("responses") or {}).items()}
        new_answers = {str(k): v for k, v in (new_raw.get("responses") or {}).items()}
        gone = [status for status in old_answers if status not in new_answers]
        came = [status for status in new_answers if status not in old_answers]
        for status in (s for s in gone if _success(s)):
            self.report.removed("server", label, f"answer {status}", old=status)
        for status in (s for s in came if _success(s)):
            self.report.added("client", label, f"answer {status}", new=status)
        if errors := [s for s in gone if not _success(s)]:
            self.report.removed("compatible", label, f"error answers {', '.join(errors)}", old=errors)
        if errors := [s for s in came if not _success(s)]:
            self.report.added("compatible", label, f"error answers {', '.join(errors)}", new=errors)
        common = [status for status in old_answers if status in new_answers]
        per_status: list[tuple[str, list[_Finding]]] = []
        for status in common:
            sub = _Differ(
                self.old.document,
                self.new.document,
                _Report(),
                include_docs=self.include_docs,
                official=self.official,
            )
            sub.response(f"{label} {_STATUS}", old_answers[status], new_answers[status])
            per_status.append((status, sub.report.found))
        self.report.found.extend(_merge_statuses(per_status))

    def response(self, where: str, old_node: Any, new_node: Any) -> None:
        old_answer, new_answer = self.old.expand(old_node), self.new.expand(new_node)
        self.headers(where, old_answer, new_answer)
        old_content, new_content = _content(old_answer), _content(new_answer)
        for media in old_content:
            if media not in new_content:
                self.report.removed("server", where, f"answer media type {media}", old=media)
        for media in new_content:
            if media not in old_content:
                self.report.added("client", where, f"answer media type {media}", new=media)
        for media in (media for media in old_content if media in new_content):
            old_schema, old_events = self._answer_schema(self.old, old_content[media], media)
            new_schema, new_events = self._answer_schema(self.new, new_content[media], media)
            if old_events is not None and new_events is not None:
                self._values(f"{where} {media}: event", "event", old_events, new_events, "response")
            self.compare(
                f"{where} {media}", "", self.old.shape(old_schema), self.new.shape(new_schema), "response"
            )

    def _answer_schema(
        self, flat: _Flattener, item: Mapping[str, Any], media: str
    ) -> tuple[Any, tuple[Any, ...] | None]:
        """The schema of an answer; for a stream, that of one event's data, and the event names."""
        schema = item.get("schema") or {}
        if media != EVENT_STREAM:
            return schema, None
        properties = flat.expand(schema).get("properties") or {}
        data = flat.expand(properties.get("data") or {})
        if "contentSchema" not in data:
            return schema, None
        events = flat.named_values(properties["event"]) if "event" in properties else None
        return data["contentSchema"], tuple(events) if events is not None else None

    def headers(self, where: str, old_answer: Mapping[str, Any], new_answer: Mapping[str, Any]) -> None:
        old_headers = {str(k).lower(): (str(k), v) for k, v in (old_answer.get("headers") or {}).items()}
        new_headers = {str(k).lower(): (str(k), v) for k, v in (new_answer.get("headers") or {}).items()}
        for key, (name, node) in old_headers.items():
            if key not in new_headers:
                required = bool(self.old.expand(node).get("required"))
                self.report.removed("client" if required else "compatible", where, f"header {name}")
        for key, (name, node) in new_headers.items():
            if key not in old_headers:
                required = bool(self.new.expand(node).get("required"))
                impact: Impact = "server" if required else "compatible"
                self.report.added(impact, where, f"header {name}", detail="required" if required else "")
        for key in (key for key in old_headers if key in new_headers):
            old_header, new_header = (
                self.old.expand(old_headers[key][1]),
                self.new.expand(new_headers[key][1]),
            )
            at = f"{where} header {new_headers[key][0]}"
            self._required(at, bool(old_header.get("required")), bool(new_header.get("required")), "response")
            old_shape = self.old.shape(old_header.get("schema") or {})
            new_shape = self.new.shape(new_header.get("schema") or {})
            self.compare(at, "", old_shape, new_shape, "response")

    # -- shapes --

    def compare(
        self, where: str, path: str, old: _Shape, new: _Shape, direction: _Direction, *, nulls: bool = True
    ) -> None:
        """Report how `new` differs from `old`, for a field at `path` of a request or an answer."""
        at = f"{where}: {path}" if path else where
        self._types(at, old, new, direction)
        if nulls and old.nullable != new.nullable:
            impact = _widening(direction) if new.nullable else _narrowing(direction)
            state = "now nullable" if new.nullable else "no longer nullable"
            self.report.texts(impact, at, "nullable", state, *_yes_no_values(old.nullable, new.nullable))
        self._enum(at, old, new, direction)
        self._bounds(at, old.bounds, new.bounds, direction)
        if (old.properties or new.properties) and old.closed != new.closed:
            impact = _narrowing(direction) if new.closed else _widening(direction)
            state = "unknown properties now refused" if new.closed else "unknown properties now allowed"
            self.report.texts(
                impact, at, "additionalProperties", state, _closed(old.closed), _closed(new.closed)
            )
        if self.include_docs and path:
            self._docs(at, "description", old.description, new.description)
        if old.variants and new.variants:
            # compared variant by variant; the merged properties would repeat each finding
            self._variants(where, path, old, new, direction, nulls)
        else:
            self._properties(where, path, old, new, direction, nulls)
        if old.items is not None and new.items is not None:
            self.compare(where, path + "[]", old.items, new.items, direction, nulls=nulls)

    def _types(self, at: str, old: _Shape, new: _Shape, direction: _Direction) -> None:
        lost = any(not _covers(new.types, kind) for kind in old.types) or (not old.types and bool(new.types))
        gained = any(not _covers(old.types, kind) for kind in new.types) or (
            not new.types and bool(old.types)
        )
        if not lost and not gained:
            return
        was, now = _types_text(old.types), _types_text(new.types)
        if lost and gained:
            self.report.texts("client", at, "type", f"type changed from {was} to {now}", was, now)
        elif lost:
            self.report.texts(
                _narrowing(direction), at, "type", f"type narrowed from {was} to {now}", was, now
            )
        else:
            self.report.texts(_widening(direction), at, "type", f"type widened from {was} to {now}", was, now)

    def _enum(self, at: str, old: _Shape, new: _Shape, direction: _Direction) -> None:
        if old.enum is None and new.enum is None:
            return
        if old.enum is None or new.enum is None:
            limited = new.enum is not None
            impact = _narrowing(direction) if limited else _widening(direction)
            was, now = _values_text(old), _values_text(new)
            what = f"now limited to {now}" if limited else f"no longer limited to {was}"
            self.report.found.append(
                _Finding("changed", impact, at, what, "values", old.enum, new.enum, was, now)
            )
            return
        self._values(at, "enum value", old.enum, new.enum, direction)

    def _values(
        self, at: str, noun: str, old: Sequence[Any], new: Sequence[Any], direction: _Direction
    ) -> None:
        old_keys, new_keys = {_key(v) for v in old}, {_key(v) for v in new}
        for value in old:
            if _key(value) not in new_keys:
                self.report.removed(_narrowing(direction), at, f"{noun} {_text(value)}", old=value)
        for value in new:
            if _key(value) not in old_keys:
                self.report.added(_widening(direction), at, f"{noun} {_text(value)}", new=value)

    def _bounds(self, at: str, old: Mapping[str, Any], new: Mapping[str, Any], direction: _Direction) -> None:
        for key in _BOUNDS:
            was, now = old.get(key), new.get(key)
            if was == now:
                continue
            narrowed, what = _bound_change(key, was, now)
            impact = (
                "client" if narrowed is None else _narrowing(direction) if narrowed else _widening(direction)
            )
            self.report.changed(impact, at, key, what, was, now)

    def _properties(
        self, where: str, path: str, old: _Shape, new: _Shape, direction: _Direction, nulls: bool
    ) -> None:
        old_required, new_required = old.required, new.required
        for name in old.properties:
            if name not in new.properties:
                self._property_removed(_join(where, path, name), name in old_required, new.closed, direction)
        for name, shape in new.properties.items():
            if name not in old.properties:
                self._property_added(
                    _join(where, path, name), name in new_required, old.closed, direction, shape
                )
        for name in (name for name in old.properties if name in new.properties):
            child = f"{path}.{name}" if path else name
            self._required(f"{where}: {child}", name in old_required, name in new_required, direction)
            self.compare(where, child, old.properties[name], new.properties[name], direction, nulls=nulls)

    def _property_removed(self, at: str, required: bool, closed: bool, direction: _Direction) -> None:
        detail = "was required" if required else "was optional"
        if direction == "request":
            impact: Impact = "client"
        else:
            impact = "client" if required else "server" if closed else "compatible"
        self.report.removed(impact, at, "field", detail=detail)

    def _property_added(
        self, at: str, required: bool, closed: bool, direction: _Direction, shape: _Shape
    ) -> None:
        summary = _summary(shape)
        if required:
            impact: Impact = "client" if direction == "request" else "server"
            self.report.added(impact, at, "field", detail=f"required; {summary}", new=summary)
        elif closed:
            # OLD refused unknown fields: its servers refuse the new field, or its clients the new answer
            self.report.added(
                _widening(direction),
                at,
                "field",
                detail=f"optional; OLD refused unknown fields; {summary}",
                new=summary,
            )
        else:
            self.report.added("compatible", at, "field", detail=f"optional; {summary}", new=summary)

    def _required(self, at: str, was: bool, now: bool, direction: _Direction) -> None:
        if was == now:
            return
        if direction == "request":
            impact: Impact = "client" if now else "server"
        else:
            impact = "server" if now else "client"
        what = "now required" if now else "no longer required"
        self.report.texts(impact, at, "required", what, *_yes_no_values(was, now))

    def _variants(
        self, where: str, path: str, old: _Shape, new: _Shape, direction: _Direction, nulls: bool
    ) -> None:
        name = new.discriminator or old.discriminator or "type"
        for value in old.variants:
            if value not in new.variants:
                self.report.removed(
                    _narrowing(direction), f"{where}: {path}" if path else where, f"variant {name}={value}"
                )
        for value in new.variants:
            if value not in old.variants:
                self.report.added(
                    _widening(direction), f"{where}: {path}" if path else where, f"variant {name}={value}"
                )
        for value in (value for value in old.variants if value in new.variants):
            child = f"{path}[{name}={value}]"
            self.compare(where, child, old.variants[value], new.variants[value], direction, nulls=nulls)

    def _docs(self, at: str, key: str, old: Any, new: Any) -> None:
        was, now = str(old or "").strip(), str(new or "").strip()
        if was != now:
            self.report.changed("compatible", at, key, f"{key} changed", was, now)


def _content(node: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    content = node.get("content") or {}
    return {str(media).split(";")[0].strip().lower(): item or {} for media, item in content.items()}


def _success(status: str) -> bool:
    return status.startswith("2") or status.upper() == "2XX"


def _param_label(param: Mapping[str, Any]) -> str:
    return f"{param.get('in', '?')} {param.get('name', '?')}"


def _join(where: str, path: str, name: str) -> str:
    return f"{where}: {path}.{name}" if path else f"{where}: {name}"


def _merge_statuses(per_status: list[tuple[str, list[_Finding]]]) -> list[_Finding]:
    """One finding for the same change under several statuses (errors share one envelope)."""
    groups: dict[_Finding, list[str]] = {}
    for status, findings in per_status:
        for finding in findings:
            groups.setdefault(_hashable_finding(finding), []).append(status)
    merged = []
    for finding, statuses in groups.items():
        merged.append(replace(_unhash(finding), where=finding.where.replace(_STATUS, ",".join(statuses))))
    return merged


def _hashable_finding(finding: _Finding) -> _Finding:
    return replace(finding, old=_Frozen(finding.old), new=_Frozen(finding.new))


def _unhash(finding: _Finding) -> _Finding:
    old, new = finding.old, finding.new
    return replace(
        finding,
        old=old.value if isinstance(old, _Frozen) else old,
        new=new.value if isinstance(new, _Frozen) else new,
    )


class _Frozen:
    """A value hashed and compared by its JSON form (values may be lists or mappings)."""

    def __init__(self, value: Any) -> None:
        self.value = value
        self.key = json.dumps(_plain(value), sort_keys=True, default=str)

    def __hash__(self) -> int:
        return hash(self.key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Frozen) and other.key == self.key


def _bound_change(key: str, was: Any, now: Any) -> tuple[bool | None, str]:
    """(True if narrowed, False if widened, None if both), and the change in words."""
    if was is None:
        return key != "uniqueItems" or bool(now), f"{key} {_text(now)} added"
    if now is None:
        return False, f"{key} {_text(was)} removed"
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (was, now))
    if not numbers and key not in ("pattern", "format", "uniqueItems"):
        return None, f"{key} changed from {_text(was)} to {_text(now)}"  # e.g. a 3.0 boolean exclusiveMinimum
    if key in _LOWER_BOUNDS:
        return (now > was), f"{key} {'raised' if now > was else 'lowered'} from {_text(was)} to {_text(now)}"
    if key in _UPPER_BOUNDS:
        return (now < was), f"{key} {'lowered' if now < was else 'raised'} from {_text(was)} to {_text(now)}"
    if key == "uniqueItems":
        return bool(now), f"{key} {'now' if now else 'no longer'} required"
    if key == "multipleOf" and was and now:
        if now % was == 0:
            return True, f"{key} changed from {_text(was)} to {_text(now)}"
        if was % now == 0:
            return False, f"{key} changed from {_text(was)} to {_text(now)}"
    return None, f"{key} changed from {_text(was)} to {_text(now)}"
