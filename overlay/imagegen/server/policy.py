"""The per-model rules applied to a request that already satisfies the contract.

`resolve` asks the rule engine (imagegen.contract) what the request breaks of its model's rules,
refusing the first with a 400 naming the field, in the engine's words (the client's checks and
the conformance runner use the same). Then it turns the request into a `Job`: what to paint, at
which size, in which format, answered how, with the model's defaults for what was left out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from ..contract import IMAGE, MASK, ModelCatalog, ModelRules, UploadFacts, parse_size, violations
from .errors import invalid
from .uploads import OpenedImage

AUTO_SIZE = (1024, 1024)
LANDSCAPE, PORTRAIT = (1536, 1024), (1024, 1536)


@dataclass(frozen=True)
class Job:
    """A request the server will answer: everything the painter and the answer need."""

    operation: str
    model: ModelRules
    prompt: str
    n: int
    width: int
    height: int
    quality: str
    """As the answer reports it (one of `reportable_qualities`)."""
    response_format: Literal["url", "b64_json"]
    output_format: Literal["png", "jpeg", "webp"]
    compression: int | None
    background: Literal["transparent", "opaque"]
    stream: bool
    partial_images: int
    inputs: tuple[OpenedImage, ...] = ()
    """The input images, as read so far: their headers (painting decodes them)."""
    mask: OpenedImage | None = None
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
    operation: str,
    body: Mapping[str, object],
    catalog: ModelCatalog,
    images: Sequence[OpenedImage] = (),
    mask: OpenedImage | None = None,
    *,
    reportable_qualities: tuple[str, ...] = ("low", "medium", "high"),
    fields: frozenset[str] | None = None,
) -> Job:
    """Apply the model's rules to `body`; a 400 naming the field when one is broken. With
    `fields` (the fields the request's schema declares), rules about other fields are not
    applied: a field the schema does not know is the schema's business."""
    given = {key: value for key, value in body.items() if value is not None}
    uploads = [_facts(IMAGE, item) for item in images] + ([_facts(MASK, mask)] if mask is not None else [])
    found = violations(operation, given, uploads, catalog=catalog, fields=fields)
    if found:
        first = found[0]
        raise invalid(first.message, param=first.field, code=first.code)
    name = given.get("model")
    rules = catalog.get(name) if isinstance(name, str) else catalog.default_for(operation)
    assert rules is not None  # the engine refused an unknown model
    output_format = str(given.get("output_format", rules.default("output_format", "png")))
    background = given.get("background", rules.default("background", "opaque"))
    width, height = _size(str(given.get("size", rules.default("size", "auto"))), images)
    response_format = given.get("response_format", rules.default("response_format", "b64_json"))
    compression = given.get("output_compression")
    return Job(
        operation=operation,
        model=rules,
        prompt=str(given.get("prompt", "")),
        n=_integer(given.get("n", 1)),
        width=width,
        height=height,
        quality=_reported_quality(str(given.get("quality", "auto")), reportable_qualities),
        response_format="url" if response_format == "url" else "b64_json",
        output_format="jpeg" if output_format == "jpeg" else "webp" if output_format == "webp" else "png",
        # Compression only means something for jpeg and webp; PNG output ignores it, as documented.
        compression=_integer(compression) if compression is not None and output_format != "png" else None,
        background="transparent" if background == "transparent" else "opaque",
        stream=given.get("stream") is True,
        partial_images=_integer(given.get("partial_images", 0)),
        inputs=tuple(images),
        mask=mask,
        input_fidelity=str(given.get("input_fidelity", "low")),
    )


def _facts(role: str, item: OpenedImage) -> UploadFacts:
    return UploadFacts(
        role=role,
        field=item.upload.field,
        label=f"{item.upload.filename} ({item.upload.field})" if item.upload.filename else item.upload.field,
        format=item.format,
        width=item.width,
        height=item.height,
        size_bytes=item.size_bytes,
        has_alpha=item.has_alpha,
    )


def _integer(value: object) -> int:
    return int(value) if isinstance(value, int | float | str) else 0


def _size(size: str, inputs: Sequence[OpenedImage]) -> tuple[int, int]:
    parsed = parse_size(size)
    if parsed is not None:
        return parsed
    if inputs:  # auto: follow the first image's shape
        width, height = inputs[0].width, inputs[0].height
        if width > height * 1.2:
            return LANDSCAPE
        if height > width * 1.2:
            return PORTRAIT
    return AUTO_SIZE


def _reported_quality(quality: str, reportable: tuple[str, ...]) -> str:
    if quality in reportable:
        return quality
    # What the reference server makes of the values its answers cannot name (auto, standard, hd).
    return "high" if quality == "hd" else "medium"
