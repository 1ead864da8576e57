"""What imagegen's own checks need to know about the run they are part of, and what a case asked.

Schemathesis calls a registered check with (context, response, case) only, for every run in the
process; the runner binds its `RunContext` to the schemathesis schema it loads, and a check finds
it from the case (`context_of`). A check of another run (or of a schema loaded elsewhere) finds
none and stays out of the way.

`asked(run, case)` reads what a valid request asked for: how many images, their size, format and
background, whether to stream, the uploads of an edit, with the model's defaults for what the
request left out (from its rules, the engine's source of truth).
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from ..contract import IMAGE, MASK, Contract, ModelCatalog, ModelRules, OperationInfo, parse_size
from .session import Http

_CONTEXTS: dict[int, RunContext] = {}
_LOCK = threading.Lock()


@dataclass
class RunContext:
    """One run: the oracle, the model and its rules, how to reach the server, what was probed."""

    contract: Contract
    model: str
    rules: ModelRules | None
    catalog: ModelCatalog
    http: Http
    token: str | None
    streams: bool = True
    """False once the probe found that the server does not stream: cases then ask for no stream."""
    known_valid: set[int] = field(default_factory=set)
    """The cases the runner built itself from the rules (no generation metadata), known valid."""
    _cache: dict[tuple[str, int], Any] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def promises_streaming(self) -> bool:
        """Whether the model's rules say it streams (a server that does not is a finding)."""
        return promises_streaming(self.rules)

    def memo(self, kind: str, key: object, make: Any) -> Any:
        """`make()` once per (kind, key) while the key object is the latest few of its kind."""
        slot = (kind, id(key))
        with self._lock:
            if slot in self._cache and self._cache[slot][0] is key:
                return self._cache[slot][1]
        value = make()
        with self._lock:
            mine = [entry for entry in self._cache if entry[0] == kind]
            for stale in mine[: max(0, len(mine) - 7)]:
                del self._cache[stale]
            self._cache[slot] = (key, value)
        return value


def promises_streaming(rules: ModelRules | None) -> bool:
    """Whether `rules` let the model stream: it takes `stream` and `true` is one of its values."""
    if rules is None or not rules.takes("stream"):
        return False
    values = rules.values("stream")
    return values is None or True in values


def bind(schema: Any, context: RunContext) -> None:
    """Make `context` the one the checks find for cases of `schema`."""
    with _LOCK:
        _CONTEXTS[id(schema)] = context


def unbind(schema: Any) -> None:
    with _LOCK:
        _CONTEXTS.pop(id(schema), None)


def context_of(case: Any) -> RunContext | None:
    """The run a case belongs to, if the runner bound one."""
    operation = getattr(case, "operation", None)
    schema = getattr(operation, "schema", None)
    return _CONTEXTS.get(id(schema)) if schema is not None else None


@cache
def mask_promising_models() -> frozenset[str]:
    """The models whose edits promise to keep what the mask keeps (promises.yaml)."""
    import yaml

    text = resources.files("imagegen.conformance").joinpath("promises.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text) or {}
    return frozenset(str(name) for name in data.get("mask_keeps_unmasked_pixels", {}).get("models", []))


@dataclass(frozen=True)
class Asked:
    """What one valid request asked for, with the model's defaults for what it left out."""

    operation: OperationInfo
    body: Mapping[str, Any]
    rules: ModelRules | None
    """The rules of the model the request used (the server's default when it named none)."""
    n: int
    size: str | None
    """WIDTHxHEIGHT or auto; None when neither the request nor the rules say."""
    output_format: str | None
    background: str | None
    stream: bool
    partial_images: int
    first_image: bytes | None = None
    mask: bytes | None = None

    def given(self, name: str) -> Any:
        """The value the request itself gave for `name` (None when it left the field out)."""
        value = self.body.get(name)
        return None if value in (None, "") else value


def asked(run: RunContext, case: Any) -> Asked | None:
    """What `case` asked for, when it is a valid request (a positive case) with an object body."""
    from schemathesis import GenerationMode

    meta = case.meta
    if id(case) not in run.known_valid and (
        meta is None or meta.generation.mode is not GenerationMode.POSITIVE
    ):
        return None
    operation = run.contract.find(case.operation.method, case.operation.path)
    body = case.body
    if operation is None or not operation.makes_images:
        return None  # the files and batches operations make no images to judge
    if not isinstance(body, Mapping) or not case.media_type:
        return None
    schema_name = operation.schema_for(case.media_type)
    roles = run.contract.upload_fields(schema_name) if schema_name else {}
    named = body.get("model")
    if named == run.model:
        rules = run.rules
    elif isinstance(named, str):
        rules = run.catalog.get(named)
    else:
        rules = run.catalog.default_for(operation.name)

    def value(name: str) -> Any:
        given = body.get(name)
        if given is not None and given != "":
            return given
        return rules.default(name) if rules is not None else None

    size = value("size")
    output_format = value("output_format")
    background = value("background")
    return Asked(
        operation=operation,
        body=body,
        rules=rules,
        n=_integer(body.get("n"), 1),
        size=str(size) if size is not None else None,
        output_format=str(output_format) if output_format is not None else None,
        background=str(background) if background is not None else None,
        stream=_flag(body.get("stream")),
        partial_images=_integer(body.get("partial_images"), 0),
        first_image=_first_upload(body, [name for name, role in roles.items() if role == IMAGE]),
        mask=_first_upload(body, [name for name, role in roles.items() if role == MASK]),
    )


def sizes_allowed(rules: ModelRules | None, size: str | None) -> tuple[set[str], Any] | None:
    """For a requested size: (exact sizes allowed, custom-size bounds or None); None for any size.

    A WIDTHxHEIGHT asks for itself; `auto` (or nothing) for a size the model can make: one it
    lists, or one within its custom-size bounds.
    """
    if size is not None and parse_size(size) is not None:
        return {size}, None
    if rules is None:
        return None
    rule = rules.rule("size")
    if rule is None or rule.values is None:
        return None
    listed = {str(value) for value in rule.values if parse_size(str(value)) is not None}
    return listed, rule.custom_sizes


def _integer(value: Any, fallback: int) -> int:
    if isinstance(value, bool):
        return fallback
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return fallback


def _flag(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def _first_upload(body: Mapping[str, Any], fields: list[str]) -> bytes | None:
    for name in fields:
        value = body.get(name)
        item = value[0] if isinstance(value, list) and value else value
        data = _upload_bytes(item)
        if data is not None:
            return data
    return None


def _upload_bytes(item: Any) -> bytes | None:
    if isinstance(item, bytes):
        return item
    data = getattr(item, "data", None)
    if isinstance(data, bytes):
        return data
    if isinstance(item, Mapping) and isinstance(item.get("image_url"), str):
        url = item["image_url"]
        header, comma, payload = url.partition(",")
        if url.startswith("data:") and comma and header.endswith(";base64"):
            try:
                return base64.b64decode(payload)
            except ValueError:
                return None
    return None


__all__ = [
    "Asked",
    "RunContext",
    "asked",
    "bind",
    "context_of",
    "mask_promising_models",
    "promises_streaming",
    "sizes_allowed",
    "unbind",
]
