"""The client's check of a request against its model's rules, before sending.

It catches what the server would refuse anyway (dall-e-3 with n=2, a size the model does not
make, a mask of the wrong size) without a round trip, with the rule engine's words. It never
refuses what it cannot know (the engine's lenient mode): a model without rules, or a value no
known model lists, is left for the server to judge.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .contract import ModelCatalog, UploadFacts, violations
from .errors import RequestRulesError, UploadError
from .uploads import PreparedUpload

_NO_MODELS = ModelCatalog(models={})


def check_request(
    operation: str,
    body: Mapping[str, Any],
    uploads: Mapping[str, Sequence[PreparedUpload]] | None = None,
    *,
    catalog: ModelCatalog | None,
) -> None:
    """Raise RequestRulesError (UploadError for an image) for the first rule `body` breaks.

    With `catalog=None` only the rules every server shares are checked (about masks).
    """
    chosen = catalog or _NO_MODELS
    key = None if uploads else _memo_key(operation, body, chosen)
    if key is not None and key in _PASSED:
        return
    facts = [fact for role, items in uploads.items() for fact in _facts(role, items)] if uploads else []
    found = violations(operation, body, facts, catalog=chosen, lenient=True)
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
