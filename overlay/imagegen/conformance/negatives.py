"""Negative cases no schema generator makes: requests the contract allows but the model's rules
refuse, and uploads that are not what they claim. Each must be refused with a 4xx in the error
envelope whose `param` names the field at fault.

From the rules (`model_rule_rejection`), one field at a time, on a request that is otherwise
valid (bodies.build): each value the contract allows and the model does not list (a size of
another model, `300x200` for dall-e-2, a quality, a style), a field the model refuses
(`response_format` for GPT models), a number past the model's bound, a prompt one character over
its length, and each cross-field constraint broken (a transparent background with JPEG). A
candidate is sent only when the contract's schemas accept it and the rule engine refuses it; the
engine's own message says which rule, and the engine's `field` is the `param` expected.

Uploads (`upload_rejection`): a text file as the image, a truncated PNG, a PNG declared as JPEG,
an image over the model's byte limit, a mask without an alpha channel.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from ..contract import IMAGE, MASK, Contract, FieldInfo, ModelCatalog, ModelRules, UploadFacts, violations
from ..contract.operations import MULTIPART
from .bodies import UPLOAD_SIDE, Built, square_png

RULE_CHECK = "model_rule_rejection"
UPLOAD_CHECK = "upload_rejection"
# A size of the plain WIDTHxHEIGHT pattern that no model lists: the classic "any size" defect.
ODD_SIZE = "300x200"
VALUES_PER_FIELD = 6
# Past this, an over-size upload costs more to send than it is worth (GPT models take 50 MB).
MAX_OVERSIZE_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class Negative:
    """One request that must be refused."""

    check: str
    request: Built
    rule: str
    """The rule it breaks, in words (the engine's, for model rules)."""
    trigger: str
    """The one thing changed, as `field=value`."""
    params: frozenset[str]
    """The `param` values that name the field at fault."""


def negatives(
    contract: Contract, base: Built, rules: ModelRules | None, catalog: ModelCatalog
) -> Iterator[Negative]:
    """Every negative case for the operation of `base` (rules first, then uploads)."""
    if rules is not None:
        yield from rule_negatives(contract, base, rules, catalog)
    yield from upload_negatives(base, rules)


def rule_negatives(
    contract: Contract, base: Built, rules: ModelRules, catalog: ModelCatalog
) -> Iterator[Negative]:
    """One negative per value (or constraint) the contract allows and the model's rules refuse."""
    operation = base.operation.name
    if violations(operation, dict(base.fields), catalog=catalog):
        return  # the base itself breaks a rule: nothing can be changed one thing at a time
    fields = {info.name: info for info in contract.fields(base.schema_name) if not info.upload}
    for name, info in fields.items():
        if name == "model" or rules.rule(name) is None:
            continue
        sent = 0
        for value in _candidates(info, rules, catalog):
            negative = _judged(
                contract, base.with_fields(**{name: value}), catalog, f"{name}={_shown(value)}"
            )
            if negative is not None:
                yield negative
                sent += 1
                if sent >= VALUES_PER_FIELD:
                    break
    for constraint in (*catalog.constraints, *rules.constraints):
        if not all(name in fields and rules.takes(name) for name in constraint.when):
            continue
        for name, allowed in constraint.require.items():
            required = fields.get(name)
            if required is None or not rules.takes(name):
                continue
            refused = [
                value
                for value in required.enum or ()
                if value not in allowed and _listed_or_open(rules, name, value)
            ]
            if refused:
                changed = {**constraint.when, name: refused[0]}
                shown = ", ".join(f"{key}={_shown(value)}" for key, value in changed.items())
                negative = _judged(
                    contract, base.with_fields(**changed), catalog, shown, extra_params=set(changed)
                )
                if negative is not None:
                    yield negative


def _listed_or_open(rules: ModelRules, name: str, value: Any) -> bool:
    listed = rules.values(name)
    return listed is None or value in listed


def _candidates(info: FieldInfo, rules: ModelRules, catalog: ModelCatalog) -> list[Any]:
    """Values of `info` to try: the contract lets them through, the model's rule may refuse them."""
    rule = rules.rule(info.name)
    assert rule is not None
    if not rule.taken:
        return [_a_valid_value(info)]
    found: list[Any] = []
    if rule.values is not None:
        if info.enum:
            found += [value for value in info.enum if value not in rule.values]
        elif info.kind == "boolean":
            found += [value for value in (True, False) if value not in rule.values]
        else:
            known = sorted(
                (value for value in catalog.known_values(info.name) if value not in rule.values), key=str
            )
            found += known
            if info.name == "size" and ODD_SIZE not in rule.values:
                found.append(ODD_SIZE)
    if rule.maximum is not None and info.kind in ("integer", "number"):
        found.append(int(rule.maximum) + 1 if info.kind == "integer" else rule.maximum + 0.5)
    if rule.minimum is not None and info.kind in ("integer", "number"):
        found.append(int(rule.minimum) - 1 if info.kind == "integer" else rule.minimum - 0.5)
    if rule.max_length is not None and info.kind == "string":
        found.append(_text_of(rule.max_length + 1))
    return found


def _a_valid_value(info: FieldInfo) -> Any:
    """A value the contract takes for `info`, to send where the model takes no value at all."""
    if info.enum:
        return info.enum[0]
    if info.kind == "boolean":
        return True
    if info.kind == "integer":
        return 1
    if info.kind == "number":
        return 1.0
    return "x"


def _text_of(length: int) -> str:
    sentence = "A yellow alpaca in a green field. "
    return (sentence * (length // len(sentence) + 1))[:length]


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return f"{value[:24]}... ({len(value)} characters)" if len(value) > 40 else value
    return json.dumps(value)


def _judged(
    contract: Contract,
    request: Built,
    catalog: ModelCatalog,
    trigger: str,
    extra_params: set[str] | None = None,
) -> Negative | None:
    """A negative of `request` when the contract takes it and the engine refuses it."""
    if request.contract_problem(contract) is not None:
        return None
    found = violations(request.operation.name, dict(request.fields), catalog=catalog)
    if not found:
        return None
    params = {violation.field for violation in found} | (extra_params or set())
    return Negative(RULE_CHECK, request, found[0].message, trigger, frozenset(params))


def upload_negatives(base: Built, rules: ModelRules | None) -> Iterator[Negative]:
    """Uploads that must be refused, in the image field (and the mask field) of a multipart `base`."""
    if base.media != MULTIPART or base.image_field is None:
        return
    image = base.image_field
    params = frozenset({image, image.removesuffix("[]"), f"{image.removesuffix('[]')}[]"})
    png = square_png()
    yield Negative(
        UPLOAD_CHECK,
        base.with_file(image, "notes.txt", b"This is a text file, not an image.\n", "text/plain"),
        "An upload that is not an image (here a text file) must be refused.",
        f"{image}: a text file (text/plain)",
        params,
    )
    yield Negative(
        UPLOAD_CHECK,
        base.with_file(image, "image.png", png[: len(png) // 2], "image/png"),
        "An image cut short (the first half of a PNG) must be refused.",
        f"{image}: the first {len(png) // 2} of {len(png)} bytes of a PNG",
        params,
    )
    yield Negative(
        UPLOAD_CHECK,
        base.with_file(image, "image.jpg", png, "image/jpeg"),
        "An upload whose declared type is not what its bytes are (PNG bytes as image/jpeg) must be refused.",
        f"{image}: PNG bytes declared image/jpeg",
        params,
    )
    rule = rules.upload(IMAGE) if rules is not None else None
    if (
        rules is not None
        and rule is not None
        and rule.taken
        and "png" in rule.formats
        and rule.max_bytes < MAX_OVERSIZE_BYTES
    ):
        big = oversized_png(rule.max_bytes)
        facts = UploadFacts(IMAGE, image, "image.png", "png", *_side_of(big), len(big), True)
        found = [
            v
            for v in violations(base.operation.name, dict(base.fields), [facts], catalog=_only(rules))
            if v.field == image
        ]
        if found:
            yield Negative(
                UPLOAD_CHECK,
                base.with_file(image, "image.png", big, "image/png"),
                found[0].message,
                f"{image}: a PNG of {len(big):,} bytes (the limit is {rule.max_bytes:,})",
                params,
            )
    masks = [name for name, role in base.roles.items() if role == MASK]
    mask_rule = rules.upload(MASK) if rules is not None else None
    if masks and (mask_rule is None or mask_rule.taken):
        flat = square_png(UPLOAD_SIDE, alpha=False)
        yield Negative(
            UPLOAD_CHECK,
            base.with_file(masks[0], "mask.png", flat, "image/png"),
            "A mask needs an alpha channel (alpha 0 where it repaints); a mask without one must be refused.",
            f"{masks[0]}: an RGB PNG, no alpha channel",
            frozenset({masks[0]}),
        )


def _only(rules: ModelRules) -> ModelCatalog:
    return ModelCatalog(models={rules.name: rules})


def _side_of(data: bytes) -> tuple[int, int]:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        return image.size


@cache
def oversized_png(limit: int) -> bytes:
    """A square, valid PNG just over `limit` bytes (stored without compression)."""
    from PIL import Image

    side = int(((limit + 1) / 3) ** 0.5) + 16
    stripes = bytes(range(256)) * (side * side * 3 // 256 + 1)
    image = Image.frombytes("RGB", (side, side), stripes[: side * side * 3])
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=0)
    return buffer.getvalue()


__all__ = [
    "ODD_SIZE",
    "RULE_CHECK",
    "UPLOAD_CHECK",
    "Negative",
    "negatives",
    "oversized_png",
    "rule_negatives",
    "upload_negatives",
]
