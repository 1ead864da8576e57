"""The client's optional check of a request against its model's rules, before sending.

It catches what the server would refuse anyway (dall-e-3 with n=2, a size the model does not
make), without a round trip. It never rejects what it does not know: a model without rules, or a
value no known model lists (quality="xhigh" may be new), is left for the server to judge.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from .errors import RequestRulesError
from .rules import ModelCatalog, ModelRules, Operation, default_catalog

# request field: the ModelRules attribute listing the values a model takes
VALUE_FIELDS = {
    "quality": "qualities",
    "style": "styles",
    "response_format": "response_formats",
    "output_format": "output_formats",
    "background": "backgrounds",
    "moderation": "moderations",
}


@cache
def packaged_catalog() -> ModelCatalog:
    """The models of the packaged contract (read once)."""
    return default_catalog()


def check_request(operation: Operation, body: Mapping[str, Any], catalog: ModelCatalog | None = None) -> None:
    """Raise RequestRulesError if `body` breaks a known rule of its (known) model."""
    catalog = catalog or packaged_catalog()
    name = body.get("model")
    rules = catalog.get(name) if isinstance(name, str) else None
    if rules is None:
        return
    if not rules.supports(operation):
        able = ", ".join(model.name for model in catalog if model.supports(operation))
        raise RequestRulesError(
            f"{rules.name} does not serve {operation}; models that do: {able}", param="model"
        )
    n = body.get("n")
    if isinstance(n, int) and not isinstance(n, bool) and n > rules.max_n:
        raise RequestRulesError(
            f"{rules.name} makes at most {rules.max_n} image(s) per request; n={n}", param="n"
        )
    _check_size(rules, body.get("size"), catalog)
    for field, attribute in VALUE_FIELDS.items():
        _check_value(rules, field, body.get(field), getattr(rules, attribute), _known(catalog, attribute))
    if body.get("stream") is True and not rules.streaming:
        raise RequestRulesError(f"{rules.name} does not stream", param="stream")


def _check_size(rules: ModelRules, size: Any, catalog: ModelCatalog) -> None:
    if not isinstance(size, str):
        return
    if size not in _known(catalog, "sizes") and rules.custom_sizes is None:
        return  # a size no model lists: maybe the server knows better
    reason = rules.why_size_not(size)
    if reason is not None:
        raise RequestRulesError(reason, param="size")


def _check_value(
    rules: ModelRules, field: str, value: Any, allowed: tuple[str, ...], known: frozenset[str]
) -> None:
    if not isinstance(value, str) or value not in known:
        return
    if not allowed:
        raise RequestRulesError(f"{rules.name} does not take '{field}'; leave it out", param=field)
    if value not in allowed:
        raise RequestRulesError(
            f"{rules.name} does not take {field}={value!r}; it takes {', '.join(allowed)}", param=field
        )


@cache
def _known(catalog: ModelCatalog, attribute: str) -> frozenset[str]:
    """Every value any model of `catalog` lists for `attribute` (catalogs are immutable: cached)."""
    return frozenset(value for model in catalog for value in getattr(model, attribute))
