"""Valid requests from the rules: each value the model lists for each field, sent once, so every
property the image checks judge is exercised whatever the random draws were.

On the smallest valid request (bodies.build): each listed value of each field (every size, the
qualities, formats, backgrounds, styles, response formats), two images where the model makes
more than one, a stream with partial images where it streams, JPEG with compression, and for
edits a mask (fitted to the image). A request is sent only when the contract's schemas accept it
and the rule engine finds nothing wrong with it. The runner judges each answer with
schemathesis' response checks and all of imagegen's; this is the run's `rules` phase.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..contract import MASK, Contract, ModelCatalog, ModelRules, violations
from ..contract.operations import JSON
from .bodies import UPLOAD_SIDE, Built
from .strategies import custom_sizes, data_url, mask_for

PHASE = "rules"
# Fields whose values say how an answer is made; others (user, moderation) change nothing checkable.
_SHOWN = ("size", "quality", "response_format", "style", "output_format", "background", "input_fidelity")


def positives(
    contract: Contract, base: Built, rules: ModelRules | None, catalog: ModelCatalog
) -> Iterator[tuple[str, Built]]:
    """(what it exercises, request) for each valid request worth sending once."""
    seen: set[str] = set()
    for what, request in _candidates(contract, base, rules):
        key = repr(sorted(request.fields.items(), key=lambda item: item[0])) + repr(request.files)
        if key in seen or request.contract_problem(contract) is not None:
            continue
        if violations(base.operation.name, dict(request.fields), catalog=catalog):
            continue
        seen.add(key)
        yield what, request


def _candidates(contract: Contract, base: Built, rules: ModelRules | None) -> Iterator[tuple[str, Built]]:
    fields = {info.name: info for info in contract.fields(base.schema_name) if not info.upload}
    yield "the smallest valid request", base
    for name in _SHOWN:
        info = fields.get(name)
        if info is None or (rules is not None and not rules.takes(name)):
            continue
        listed = rules.values(name) if rules is not None else None
        values: tuple[Any, ...] = tuple(listed) if listed else info.enum or ()
        if listed and info.enum:  # a profile may document fewer values than the model lists
            values = tuple(value for value in values if value in info.enum)
        for value in values:
            yield f"{name}={value}", base.with_fields(**{name: value})
        if name == "size" and rules is not None:
            rule = rules.rule(name)
            for size in custom_sizes(rule.custom_sizes if rule is not None else None)[:1]:
                yield f"size={size} (a custom size)", base.with_fields(size=size)
    if "n" in fields and (rules is None or rules.takes("n")):
        most = rules.rule("n").maximum if rules is not None and rules.rule("n") is not None else None  # type: ignore[union-attr]
        if most is None or most >= 2:
            yield "n=2", base.with_fields(n=2)
    if "output_compression" in fields and "output_format" in fields:
        yield (
            "output_format=jpeg, output_compression=50",
            base.with_fields(output_format="jpeg", output_compression=50),
        )
    if base.operation.streams and "stream" in fields:
        streamed = {"stream": True}
        if "partial_images" in fields:
            streamed["partial_images"] = 2  # type: ignore[assignment]
        if "n" in fields:
            streamed["n"] = 2  # type: ignore[assignment]
        yield "stream=true, partial_images=2, n=2", base.with_fields(**streamed)
        yield "stream=true", base.with_fields(stream=True)
    masks = [name for name, role in contract.upload_fields(base.schema_name).items() if role == MASK]
    if masks:
        mask = mask_for(UPLOAD_SIDE, UPLOAD_SIDE)
        if base.media == JSON:
            yield "a mask", base.with_fields(**{masks[0]: {"image_url": data_url(mask)}})
        else:
            yield "a mask", base.with_file(masks[0], "mask.png", mask, "image/png")


def case_body(request: Built) -> dict[str, Any]:
    """The request as schemathesis holds a case's body: fields, and files as their bytes."""
    body: dict[str, Any] = dict(request.fields)
    for name, (_, data, _) in request.files:
        body[name] = data
    return body


__all__ = ["PHASE", "case_body", "positives"]
