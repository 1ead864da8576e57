"""Valid requests the runner builds itself, for its probes and rule negatives.

`build` makes the smallest request of an operation the model accepts: its required fields (a
prompt, a square PNG for each required upload), the model, and the cheapest values its rules
list (the smallest size, `low` quality) so probes cost the server little. Probes and negatives
then change one thing in it. A body form the model refuses (dall-e-2 has no JSON edits) is not
used; an operation whose required fields the runner cannot fill gets no built request.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

from ..contract import (
    IMAGE,
    MASK,
    Contract,
    FieldInfo,
    FormFile,
    FormValue,
    ModelRules,
    OperationInfo,
    RequestInvalid,
    parse_size,
)
from ..contract.operations import JSON, MULTIPART
from .strategies import custom_sizes, data_url, mask_for

PROMPT = "A small test picture"
UPLOAD_SIDE = 64
Upload = tuple[str, tuple[str, bytes, str]]  # field, (file name, bytes, content type)


@cache
def square_png(side: int = UPLOAD_SIDE, alpha: bool = True) -> bytes:
    """A PNG of `side` x `side`: a coloured picture with a shape, RGBA or RGB."""
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (side, side), (46, 134, 193, 255))
    ImageDraw.Draw(image).ellipse((side // 4, side // 4, side - 4, side - 4), fill=(241, 196, 15, 255))
    buffer = io.BytesIO()
    (image if alpha else image.convert("RGB")).save(buffer, format="PNG")
    return buffer.getvalue()


@dataclass(frozen=True)
class Built:
    """One request of `operation`, as `media`: its text or JSON fields and its file parts."""

    operation: OperationInfo
    media: str
    schema_name: str
    fields: Mapping[str, Any]
    files: tuple[Upload, ...] = ()
    roles: Mapping[str, str] = field(default_factory=dict)

    def with_fields(self, **values: Any) -> Built:
        return replace(self, fields={**self.fields, **values})

    def with_file(self, name: str, filename: str, data: bytes, content_type: str) -> Built:
        """This request with the file part `name` replaced (or added)."""
        kept = tuple(upload for upload in self.files if upload[0] != name)
        return replace(self, files=(*kept, (name, (filename, data, content_type))))

    @property
    def image_field(self) -> str | None:
        """The upload field holding the (first) image."""
        return next((name for name, _ in self.files if self.roles.get(name) == IMAGE), None)

    def send(self, http: Any, headers: Mapping[str, str]) -> Any:
        """Send it with `http` (session.Http) to the server's root; the requests.Response."""
        url = http.root + self.operation.path
        if self.media == JSON:
            return http.request(self.operation.method, url, headers=headers, json=dict(self.fields))
        data = [(name, _as_text(value)) for name, value in self.fields.items()]
        return http.request(self.operation.method, url, headers=headers, data=data, files=list(self.files))

    def contract_problem(self, contract: Contract) -> str | None:
        """Why the contract's schemas refuse this request (None when they accept it)."""
        try:
            if self.media == JSON:
                contract.validator.check_json(self.schema_name, json.loads(json.dumps(dict(self.fields))))
            else:
                form: list[tuple[str, FormValue]] = [
                    (name, _as_text(value)) for name, value in self.fields.items()
                ]
                form += [(name, FormFile(name, part[0], part[2], part[1])) for name, part in self.files]
                contract.validator.check_form(self.schema_name, form)
        except RequestInvalid as error:
            return error.message
        return None


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


def build(contract: Contract, operation: OperationInfo, model: str, rules: ModelRules | None) -> Built | None:
    """The smallest valid request of `operation` for `model`; None when none can be built."""
    forms = sorted(operation.bodies.items(), key=lambda item: item[0] != MULTIPART)  # multipart first
    for media, schema_name in forms:
        fields = contract.fields(schema_name)
        if rules is not None and any(info.required and not rules.takes(info.name) for info in fields):
            continue  # a form of the body the model refuses
        built = _fill(contract, operation, media, schema_name, fields, model, rules)
        if built is not None and built.contract_problem(contract) is None:
            return built
    return None


def _fill(
    contract: Contract,
    operation: OperationInfo,
    media: str,
    schema_name: str,
    fields: tuple[FieldInfo, ...],
    model: str,
    rules: ModelRules | None,
) -> Built | None:
    roles = contract.upload_fields(schema_name)
    values: dict[str, Any] = {}
    files: list[Upload] = []
    names = {info.name for info in fields}
    uploads = [info for info in fields if info.upload]
    for info in fields:
        if info.upload:
            continue
        if info.name == "prompt":
            values["prompt"] = PROMPT
        elif info.name == "model":
            values["model"] = model
        elif info.required:
            return None
    # One image (the single-image field when there is one), plus any other required upload.
    images = [info for info in uploads if info.upload == IMAGE]
    image = next((info for info in images if info.kind != "array"), images[0] if images else None)
    if image is not None:
        if media == MULTIPART:
            files.append((image.name, ("image.png", square_png(), "image/png")))
        elif image.kind == "array":
            values[image.name] = [{"image_url": data_url(square_png())}]
        else:
            values[image.name] = {"image_url": data_url(square_png())}
    for info in uploads:
        if info.required and info.upload == MASK:
            if media == MULTIPART:
                files.append((info.name, ("mask.png", mask_for(UPLOAD_SIDE, UPLOAD_SIDE), "image/png")))
            else:
                values[info.name] = {"image_url": data_url(mask_for(UPLOAD_SIDE, UPLOAD_SIDE))}
    if rules is not None:
        values.update(_cheapest(rules, names))
    return Built(operation, media, schema_name, values, tuple(files), roles)


def _cheapest(rules: ModelRules, names: set[str]) -> dict[str, Any]:
    """The values that make a request cheap for the server: the smallest size, low quality."""
    chosen: dict[str, Any] = {}
    sizes = [str(value) for value in rules.values("size") or () if _pixels(str(value))]
    rule = rules.rule("size")
    if rule is not None and rule.custom_sizes is not None:  # the smallest the model takes, from 64 a side
        custom = custom_sizes(rule.custom_sizes)
        sizes += [size for size in custom if min(parse_size(size) or (0, 0)) >= UPLOAD_SIDE] or list(
            custom[:1]
        )
    if "size" in names and sizes:
        chosen["size"] = min(sizes, key=_pixels)
    if "quality" in names and "low" in (rules.values("quality") or ()):
        chosen["quality"] = "low"
    return chosen


def _pixels(size: str) -> int:
    width, _, height = size.partition("x")
    return int(width) * int(height) if width.isdigit() and height.isdigit() else 0


__all__ = ["PROMPT", "UPLOAD_SIDE", "Built", "build", "square_png"]
