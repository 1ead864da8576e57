"""The rule engine: what a request breaks of its model's rules, in one place and in one wording.

    violations("generations", {"model": "dall-e-3", "n": 2}, catalog=catalog)
    -> [Violation(field="n", value=2, message="dall-e-3 takes n up to 1; n was 2.")]

The client raises the first violation before sending, the reference server answers it as a 400
naming `field`, and the conformance runner narrows the contract with the same rules and sends
their violations as negative cases. A request is checked against the contract's schemas first
(elsewhere); this engine only knows the model rules of `x-imagegen-models`.

`lenient=True` is the client's mode: it never refuses what it cannot know. A request without a
model, or naming a model without rules, is left to the server (but for the rules every server
shares, about masks); so is a value that no model of the catalog lists (quality="xhigh" may be new).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .models import IMAGE, MASK, Constraint, FieldRule, ModelCatalog, ModelRules, UploadRule, parse_size


@dataclass(frozen=True)
class Violation:
    """One broken rule: the request field at fault, its value, and the rule in words."""

    field: str
    value: Any
    message: str
    code: str | None = None


@dataclass(frozen=True)
class UploadFacts:
    """What the engine needs to know of one uploaded (or referenced) image."""

    role: str
    """`image` or `mask`."""
    field: str
    """The request field it came in: image, image[], images[0], mask, ..."""
    label: str
    """How messages name it: a path, a file name, or the field."""
    format: str | None
    width: int | None = None
    height: int | None = None
    size_bytes: int = 0
    has_alpha: bool | None = None


def violations(
    operation: str,
    body: Mapping[str, Any],
    uploads: Sequence[UploadFacts] = (),
    *,
    catalog: ModelCatalog,
    lenient: bool = False,
    fields: Collection[str] | None = None,
) -> list[Violation]:
    """Every rule `body` (and its `uploads`) breaks for its model, in the order they are checked.

    `fields` are the fields the operation's request declares (the contract's): a rule is about
    a field of the request, so a body field the operation does not have (a `style` sent to an
    edit) is left to the contract's own schema, which takes unknown fields.
    """
    if fields is not None:
        body = {name: value for name, value in body.items() if name in fields or name == "model"}
    found = _shared_upload_rules(uploads) if uploads else []
    name = body.get("model")
    model = catalog.get(name) if isinstance(name, str) else None
    if model is None and not lenient:
        model = catalog.default_for(operation) if name is None else None
        if model is None:
            return [_unknown_model(operation, name, catalog), *found]
    if model is None:
        return found
    if not model.supports(operation):
        able = ", ".join(m.name for m in catalog.serving(operation)) or "none"
        return [Violation("model", name, f"{model.name} does not serve {operation}; models that do: {able}.")]
    rules = model.fields
    for field, value in body.items():
        rule = rules.get(field)
        if rule is None or value is None:
            continue
        problem = _field_problem(model, field, rule, value)
        if problem is not None and not (lenient and not _knowable(catalog, model, field, rule, value)):
            found.append(problem)
    for constraints in (catalog.constraints, model.constraints):
        for constraint in constraints:
            broken = _constraint_problem(model, constraint, body)
            if broken is not None:
                found.append(broken)
    if uploads:
        found.extend(_model_upload_rules(model, uploads))
    return found


def value_problem(model: ModelRules, field: str, value: Any) -> str | None:
    """The sentence saying why `model` refuses `value` for `field`, or None if it takes it."""
    rule = model.rule(field)
    if rule is None:
        return None
    problem = _field_problem(model, field, rule, value)
    return problem.message if problem is not None else None


def _unknown_model(operation: str, name: Any, catalog: ModelCatalog) -> Violation:
    known = ", ".join(model.name for model in catalog.serving(operation)) or "none"
    if name is None:
        return Violation(
            "model", None, f"Name a model: this server has no default for {operation} ({known})."
        )
    return Violation(
        "model",
        name,
        f"The model '{name}' does not exist on this server. Models for {operation}: {known}.",
        "model_not_found",
    )


def _knowable(catalog: ModelCatalog, model: ModelRules, field: str, rule: FieldRule, value: Any) -> bool:
    """Whether the client may judge `value` (True unless only a value list could refuse it, and no
    model of the catalog lists the value)."""
    if not rule.taken or rule.values is None:
        return True
    if field == "size" and rule.custom_sizes is not None and isinstance(value, str) and parse_size(value):
        return True
    try:
        return value in catalog.known_values(field)
    except TypeError:  # an unhashable value: the server will judge it
        return False


def _field_problem(model: ModelRules, field: str, rule: FieldRule, value: Any) -> Violation | None:
    name = model.name
    if not rule.taken:
        always = f" (it always uses {_show(rule.default)})" if rule.has_default else ""
        return Violation(field, value, f"{name} does not take '{field}'{always}; leave it out.")
    if rule.values is not None and not _listed(value, rule.values):
        message = _not_listed(model, field, rule, value)
        if message is not None:
            return Violation(field, value, message)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if rule.maximum is not None and value > rule.maximum:
            return Violation(
                field, value, f"{name} takes {field} up to {rule.maximum:g}; {field} was {value}."
            )
        if rule.minimum is not None and value < rule.minimum:
            return Violation(
                field, value, f"{name} takes {field} from {rule.minimum:g}; {field} was {value}."
            )
    if isinstance(value, str) and rule.max_length is not None and len(value) > rule.max_length:
        return Violation(
            field,
            value,
            f"The {field} is {len(value)} characters; {name} takes at most {rule.max_length}.",
            "string_above_max_length",
        )
    return None


def _listed(value: Any, values: tuple[Any, ...]) -> bool:
    if type(value) is str:  # the common case: a string is never equal to a number or a boolean
        return value in values
    # `True in (1,)` holds in Python; in JSON a boolean is never a number.
    return any(value == v and isinstance(value, bool) == isinstance(v, bool) for v in values)


def _not_listed(model: ModelRules, field: str, rule: FieldRule, value: Any) -> str | None:
    listed = ", ".join(_show(v) for v in rule.values or ())
    custom = rule.custom_sizes
    parsed = parse_size(value) if isinstance(value, str) else None
    if custom is not None and parsed is not None:
        reason = custom.why_not(*parsed)
        if reason is None:
            return None
        return f"{model.name} does not take {field} {value}: {reason}."
    if custom is not None:
        return (
            f"{model.name} does not take {field}={_show(value)}; it takes {listed}, or {custom.describe()}."
        )
    return f"{model.name} does not take {field}={_show(value)}; it takes {listed}."


def _constraint_problem(
    model: ModelRules, constraint: Constraint, body: Mapping[str, Any]
) -> Violation | None:
    for field, wanted in constraint.when.items():
        if body.get(field) != wanted:
            return None
    for field, allowed in constraint.require.items():
        if not model.takes(field):
            continue
        value = body.get(field)
        effective = value if value is not None else model.default(field)
        if effective is not None and effective not in allowed:
            param = next(iter(constraint.when))
            shown = f"{field} is {_show(effective)}" + ("" if value is not None else " (the default)")
            return Violation(param, body.get(param), f"{constraint.message}; {shown}.")
    return None


_REPAINT = "save the mask as a PNG with transparency (alpha 0) where the image should change"
_FORMAT_NAMES = {"png": "PNG", "jpeg": "JPEG", "webp": "WebP", "gif": "GIF"}


def _shared_upload_rules(uploads: Sequence[UploadFacts]) -> list[Violation]:
    """The rules every server has: a mask is a PNG with alpha, of the first image's size."""
    found = []
    images = [upload for upload in uploads if upload.role == IMAGE]
    for mask in (upload for upload in uploads if upload.role == MASK):
        if mask.format is not None and mask.format != "png":
            message = (
                f"{mask.label} is a {_name(mask.format)}, but a mask must be a PNG with an alpha channel"
            )
            found.append(Violation(mask.field, mask.label, f"{message}; {_REPAINT}.", "invalid_image_format"))
        elif mask.has_alpha is False:
            found.append(
                Violation(
                    mask.field,
                    mask.label,
                    f"{mask.label} has no alpha channel, which a mask needs; {_REPAINT}.",
                )
            )
        elif images and None not in (mask.width, images[0].width):
            first = images[0]
            if (mask.width, mask.height) != (first.width, first.height):
                size = f"{first.width}x{first.height}"
                found.append(
                    Violation(
                        mask.field,
                        mask.label,
                        f"{mask.label} is {mask.width}x{mask.height} but the first image {first.label} is "
                        f"{size}; a mask must be the size of the first image: resize the mask to {size}.",
                    )
                )
    return found


def _model_upload_rules(model: ModelRules, uploads: Sequence[UploadFacts]) -> list[Violation]:
    found = []
    images = [upload for upload in uploads if upload.role == IMAGE]
    image_rule = model.upload(IMAGE)
    if image_rule is not None and image_rule.taken and len(images) > image_rule.max_count:
        most = image_rule.max_count
        found.append(
            Violation(
                images[most].field,
                len(images),
                f"{model.name} takes at most {most} image{'s' if most != 1 else ''} per request and "
                f"{len(images)} were given ({images[most].label} is the first one too many); "
                f"send at most {most}.",
            )
        )
    for upload in uploads:
        rule = model.upload(upload.role)
        if rule is not None:
            problem = _upload_problem(model.name, upload, rule)
            if problem is not None:
                found.append(problem)
    return found


def _upload_problem(model: str, upload: UploadFacts, rule: UploadRule) -> Violation | None:
    label, kind = upload.label, "masks" if upload.role == MASK else "images"
    if not rule.taken:
        return Violation(upload.field, label, f"{model} takes no {upload.role}; leave {label} out.")
    if upload.format is not None and upload.format not in rule.formats:
        names = [_name(name) for name in rule.formats]
        listed = f"{', '.join(names[:-1])} or {names[-1]}" if len(names) > 1 else names[0]
        return Violation(
            upload.field,
            label,
            f"{label} is a {_name(upload.format)}, and {model} takes {listed} {kind} only; "
            f"convert it to {names[0]}.",
            "invalid_image_format",
        )
    if upload.size_bytes > rule.max_bytes:
        return Violation(
            upload.field,
            label,
            f"{label} is {_megabytes(upload.size_bytes)}, and {model} takes {kind} of at most "
            f"{_megabytes(rule.max_bytes)}; make it smaller (fewer pixels, or more compression).",
            "image_too_large",
        )
    if (
        rule.square
        and upload.width is not None
        and upload.height is not None
        and upload.width != upload.height
    ):
        side = min(upload.width, upload.height)
        return Violation(
            upload.field,
            label,
            f"{label} is {upload.width}x{upload.height}, and {model} takes square images only; "
            f"crop it to {side}x{side}.",
        )
    return None


def _name(image_format: str) -> str:
    return _FORMAT_NAMES.get(image_format, image_format.upper())


def _megabytes(count: int) -> str:
    rounded = f"{count / (1024 * 1024):.2f}".rstrip("0").rstrip(".")
    return f"{rounded} MB ({count:,} bytes)"


def _show(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)
