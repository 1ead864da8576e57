"""The per-model rules applied to a request that already satisfies the contract.

`resolve` turns a validated body (and decoded uploads) into a `Job`: what to paint, at which
size, in which format, answered how. Every refusal is a 400 naming the offending `param`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from PIL import Image

from ..rules import ModelCatalog, ModelRules, Operation, parse_size
from .errors import ApiError, invalid
from .uploads import DecodedImage

AUTO_SIZE = (1024, 1024)
LANDSCAPE, PORTRAIT = (1536, 1024), (1024, 1536)


@dataclass(frozen=True)
class Job:
    """A request the server will answer: everything the painter and the answer need."""

    operation: Operation
    model: ModelRules
    prompt: str
    n: int
    width: int
    height: int
    quality: str  # as the answer reports it: low, medium or high
    response_format: Literal["url", "b64_json"]
    output_format: Literal["png", "jpeg", "webp"]
    compression: int | None
    background: Literal["transparent", "opaque"]
    stream: bool
    partial_images: int
    inputs: tuple[Image.Image, ...] = ()
    mask: Image.Image | None = None
    input_fidelity: str = "low"

    @property
    def size(self) -> str:
        return f"{self.width}x{self.height}"

    @property
    def reports_settings(self) -> bool:
        """Whether answers carry background/output_format/quality/size: GPT image models do,
        as they report usage."""
        return self.model.usage


def resolve(
    operation: Operation,
    body: Mapping[str, Any],
    catalog: ModelCatalog,
    images: Sequence[DecodedImage] = (),
    mask: DecodedImage | None = None,
) -> Job:
    """Apply the model's rules to `body`; a 400 naming the field when one is broken."""
    rules = _model(operation, body, catalog)
    given = {key: value for key, value in body.items() if value is not None}
    prompt = str(given.get("prompt", ""))
    if len(prompt) > rules.prompt_max_length:
        raise invalid(
            f"The prompt is {len(prompt)} characters; {rules.name} takes at most {rules.prompt_max_length}.",
            param="prompt",
            code="string_above_max_length",
        )
    n = int(given.get("n", 1))
    if n > rules.max_n:
        raise invalid(f"{rules.name} makes at most {rules.max_n} image(s) per request; n was {n}.", param="n")

    _allowed(rules, given, "quality", rules.qualities)
    _allowed(rules, given, "style", rules.styles)
    _allowed(rules, given, "response_format", rules.response_formats)
    _allowed(rules, given, "output_format", rules.output_formats)
    _allowed(rules, given, "background", rules.backgrounds)
    _allowed(rules, given, "moderation", rules.moderations)
    _flag(rules, given, "output_compression", rules.output_compression)
    _flag(rules, given, "input_fidelity", rules.input_fidelity)
    stream = bool(given.get("stream", False))
    if stream and not rules.streaming:
        raise invalid(f"{rules.name} does not stream; leave 'stream' out or false.", param="stream")
    if "partial_images" in given and not rules.streaming:
        raise invalid(
            f"{rules.name} does not stream, so it takes no 'partial_images'.", param="partial_images"
        )

    output_format = given.get("output_format", "png")
    # Compression only means something for jpeg and webp; PNG output ignores it, as documented.
    compression = given.get("output_compression") if output_format != "png" else None
    background: Literal["transparent", "opaque"] = (
        "transparent" if given.get("background") == "transparent" else "opaque"
    )
    if background == "transparent" and output_format == "jpeg":
        raise invalid("A transparent background needs png or webp output, not jpeg.", param="background")

    decoded = _check_inputs(rules, operation, images, mask)
    width, height = _size(rules, str(given.get("size", rules.default_size)), decoded)
    response_format = given.get("response_format", rules.default_response_format)
    return Job(
        operation=operation,
        model=rules,
        prompt=prompt,
        n=n,
        width=width,
        height=height,
        quality=_reported_quality(str(given.get("quality", "auto"))),
        response_format="url" if response_format == "url" else "b64_json",
        output_format=output_format,
        compression=compression,
        background=background,
        stream=stream,
        partial_images=int(given.get("partial_images", 0)),
        inputs=tuple(item.image for item in decoded),
        mask=mask.image if mask is not None else None,
        input_fidelity=str(given.get("input_fidelity", "low")),
    )


def _model(operation: Operation, body: Mapping[str, Any], catalog: ModelCatalog) -> ModelRules:
    name = body.get("model")
    rules = catalog.get(name) if name else catalog.default_for(operation)
    if rules is None:
        known = ", ".join(model.name for model in catalog if model.supports(operation))
        raise invalid(
            f"The model '{name}' does not exist on this server. Models for {operation}: {known}.",
            param="model",
            code="model_not_found",
        )
    if not rules.supports(operation):
        able = ", ".join(model.name for model in catalog if model.supports(operation))
        raise invalid(f"{rules.name} does not serve {operation}; use one of: {able}.", param="model")
    return rules


def _allowed(rules: ModelRules, given: Mapping[str, Any], field: str, values: tuple[str, ...]) -> None:
    if field not in given:
        return
    if not values:
        if field == "response_format":
            raise invalid(
                f"{rules.name} always answers with {rules.default_response_format} and does not take "
                "'response_format'; leave it out.",
                param=field,
            )
        raise invalid(f"{rules.name} does not take '{field}'; leave it out.", param=field)
    if given[field] not in values:
        raise invalid(
            f"{rules.name} does not take {field}={given[field]!r}; it takes {', '.join(values)}.", param=field
        )


def _flag(rules: ModelRules, given: Mapping[str, Any], field: str, supported: bool) -> None:
    if field in given and not supported:
        raise invalid(f"{rules.name} does not take '{field}'; leave it out.", param=field)


def _size(rules: ModelRules, size: str, inputs: Sequence[DecodedImage]) -> tuple[int, int]:
    reason = rules.why_size_not(size)
    if reason is not None:
        raise invalid(reason + ".", param="size")
    parsed = parse_size(size)
    if parsed is not None:
        return parsed
    default = parse_size(rules.default_size)
    if default is not None and rules.default_size != size:
        return default
    if inputs:
        width, height = inputs[0].image.size
        if width > height * 1.2:
            return LANDSCAPE
        if height > width * 1.2:
            return PORTRAIT
    return AUTO_SIZE


def _reported_quality(quality: str) -> str:
    return quality if quality in ("low", "medium", "high") else "high" if quality == "hd" else "medium"


def _check_inputs(
    rules: ModelRules, operation: Operation, images: Sequence[DecodedImage], mask: DecodedImage | None
) -> Sequence[DecodedImage]:
    if operation == "generations":
        return ()
    limits = rules.inputs
    if limits is None:  # rules without inputs never serve edits or variations (checked on load)
        raise ApiError(400, f"{rules.name} takes no input images.", param="image")
    if len(images) > limits.max_images:
        raise invalid(
            f"{rules.name} takes at most {limits.max_images} input image(s); {len(images)} were sent.",
            param="image",
        )
    for item in images:
        _check_file(rules.name, item, limits.formats, limits.max_bytes)
        if limits.square and item.image.width != item.image.height:
            raise invalid(
                f"{rules.name} needs square images; {item.upload.filename or item.upload.field} is "
                f"{item.image.width}x{item.image.height}.",
                param=item.upload.field,
            )
    if mask is not None:
        mask_limits = rules.mask
        if mask_limits is not None:
            _check_file(rules.name, mask, mask_limits.formats, mask_limits.max_bytes)
        if mask.image.mode not in ("RGBA", "LA", "PA") and "transparency" not in mask.image.info:
            raise invalid(
                "The mask needs an alpha channel (RGBA or LA): alpha 0 marks what to repaint.", param="mask"
            )
        if images and mask.image.size != images[0].image.size:
            first = images[0].image
            raise invalid(
                f"The mask is {mask.image.width}x{mask.image.height} but the first image is "
                f"{first.width}x{first.height}; they must be the same size.",
                param="mask",
            )
    return images


def _check_file(model: str, item: DecodedImage, formats: tuple[str, ...], max_bytes: int) -> None:
    name = item.upload.filename or item.upload.field
    if item.format not in formats:
        raise invalid(
            f"{model} takes {', '.join(formats)} images; {name} is {item.format}.",
            param=item.upload.field,
            code="invalid_image_format",
        )
    if item.size_bytes > max_bytes:
        raise invalid(
            f"{name} is {item.size_bytes} bytes; {model} takes files of at most {max_bytes} bytes.",
            param=item.upload.field,
            code="image_too_large",
        )
