"""The client's check of a request against its model's rules, before sending.

It catches what the server would refuse anyway (dall-e-3 with n=2, a size the model does not
make, a mask of the wrong size) without a round trip, with the rule engine's words. It never
refuses what it cannot know (the engine's lenient mode): a model without rules, or a value no
known model lists, is left for the server to judge.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from .contract import FieldInfo, ModelCatalog, UploadFacts, violations
from .errors import RequestRulesError, UploadError
from .uploads import PreparedUpload

_NO_MODELS = ModelCatalog(models={})


def check_request(
    operation: str,
    body: Mapping[str, Any],
    uploads: Mapping[str, Sequence[PreparedUpload]] | None = None,
    *,
    catalog: ModelCatalog | None,
    fields: Sequence[FieldInfo] = (),
) -> None:
    """Raise RequestRulesError (UploadError for an image) for the first rule `body` breaks.

    `fields` are the operation's request fields (from the contract): values of the wrong JSON
    type or outside the contract's bounds (n=0, an empty prompt) are refused first. With
    `catalog=None` only the rules every server shares are checked (about masks).
    """
    chosen = catalog or _NO_MODELS
    key = None if uploads else _memo_key(operation, body, chosen)
    if key is not None and key in _PASSED:
        return
    check_fields(body, fields)
    facts = [fact for role, items in uploads.items() for fact in _facts(role, items)] if uploads else []
    declared = _names(fields) if fields else None
    found = violations(operation, body, facts, catalog=chosen, lenient=True, fields=declared)
    if not found:
        if key is not None:
            if len(_PASSED) >= _MEMO_SIZE:
                _PASSED.clear()
            _PASSED.add(key)
        return
    first = found[0]
    if any(first.field == fact.field for fact in facts):
        raise UploadError(first.message)
    raise RequestRulesError(first.message, param=first.field)


# Requests known to pass, so that a loop of calls with the same settings checks them once: the
# rules are immutable and the check is a pure function of (catalog, operation, body).
_PASSED: set[tuple[Any, ...]] = set()
_MEMO_SIZE = 4096
_MEMO_TEXT = 256  # longer strings (prompts) make the request skip the memo: hashing them costs more


def _memo_key(operation: str, body: Mapping[str, Any], catalog: ModelCatalog) -> tuple[Any, ...] | None:
    items = []
    for name, value in body.items():
        if type(value) not in (str, int, float, bool) or (type(value) is str and len(value) > _MEMO_TEXT):
            return None
        items.append((name, type(value), value))  # the type too: True and 1 are equal in Python
    return (catalog, operation, tuple(items))


@cache
def _names(fields: Sequence[FieldInfo]) -> frozenset[str]:
    return frozenset(field.name for field in fields)


def check_fields(body: Mapping[str, Any], fields: Sequence[FieldInfo]) -> None:
    """RequestRulesError for a value of a field the contract types or bounds below, that breaks it.

    Lenient where the client must be: values outside an enum and above a maximum are left to
    the server (a new quality, a server making more images); fields the contract does not list
    are not judged."""
    declared = {field.name: field for field in fields}
    for name, value in body.items():
        field = declared.get(name)
        if field is None or value is None or field.upload or field.binary:
            continue
        problem = _type_problem(field, value) or _bound_problem(field, value)
        if problem is not None:
            raise RequestRulesError(f"{name} {problem}", param=name)


_TYPES: dict[str, tuple[type, ...]] = {
    "integer": (int,),
    "number": (int, float),
    "string": (str,),
    "boolean": (bool,),
    "array": (list, tuple),
    "object": (Mapping,),
}
_NAMES = {"integer": "a whole number", "number": "a number", "string": "text", "boolean": "true or false",
          "array": "a list", "object": "a mapping"}  # fmt: skip


def _type_problem(field: FieldInfo, value: Any) -> str | None:
    expected = _TYPES.get(field.kind or "")
    if expected is None:
        return None
    wrong = not isinstance(value, expected) or (isinstance(value, bool) and field.kind != "boolean")
    if not wrong:
        return None
    return f"must be {_NAMES[field.kind or '']}, not {value!r} ({type(value).__name__})"


def _bound_problem(field: FieldInfo, value: Any) -> str | None:
    # Lower bounds only: below them a value cannot mean anything (n=0, an empty prompt); upper
    # bounds grow (a server may make more images or take longer prompts than OpenAI's).
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if number and field.minimum is not None and value < field.minimum:
        return f"must be at least {field.minimum:g}; it was {value}"
    if isinstance(value, str) and field.min_length and len(value) < field.min_length:
        return (
            "must not be empty" if field.min_length == 1 else f"needs at least {field.min_length} characters"
        )
    return None


def _facts(role: str, items: Sequence[PreparedUpload]) -> list[UploadFacts]:
    return [
        UploadFacts(
            role=role,
            field=f"{role}[{index}]" if len(items) > 1 else role,
            label=item.label,
            format=item.info.format,
            width=item.info.width,
            height=item.info.height,
            size_bytes=len(item.data),
            has_alpha=item.info.has_alpha,
        )
        for index, item in enumerate(items)
    ]
