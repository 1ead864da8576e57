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
    facts = [fact for role, items in uploads.items() for fact in _facts(role, items)] if uploads else []
    found = violations(operation, body, facts, catalog=catalog or _NO_MODELS, lenient=True)
    if not found:
        return
    first = found[0]
    if any(first.field == fact.field for fact in facts):
        raise UploadError(first.message)
    raise RequestRulesError(first.message, param=first.field)


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
