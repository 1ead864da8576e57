"""Narrow the contract to what one model accepts, so positive cases are really valid for it.

The contract says what any conforming server must accept for any model; a server serving
`dall-e-3` must still refuse `size=256x256`. Narrowing rewrites each request schema from the
model's rules (x-imagegen-models): `model` fixed, sizes, n, qualities and the rest reduced to
what the model takes, fields it refuses forbidden. Operations the model does not serve are
removed. A model with no known rules only gets `model` fixed.
"""

from __future__ import annotations

import copy
from typing import Any

from ..checks import VALUE_FIELDS
from ..rules import ModelRules, Operation
from .strategies import DATA_URL_FORMAT

PATHS: dict[Operation, str] = {
    "generations": "/images/generations",
    "edits": "/images/edits",
    "variations": "/images/variations",
}
REQUEST_SCHEMAS: dict[str, tuple[Operation, bool]] = {
    # schema name: (operation, whether the body is JSON, where null means "the default")
    "CreateImageRequest": ("generations", True),
    "CreateImageEditRequest": ("edits", False),
    "CreateImageEditJsonRequest": ("edits", True),
    "CreateImageVariationRequest": ("variations", False),
}
_DATA_URL_REFERENCE = {
    "type": "object",
    "description": "An image as a base64 PNG data: URL (what any server can read without fetching).",
    "properties": {"image_url": {"type": "string", "format": DATA_URL_FORMAT}},
    "required": ["image_url"],
    "additionalProperties": False,
}


def narrow_contract(contract: dict[str, Any], model: str, rules: ModelRules | None) -> dict[str, Any]:
    """A copy of `contract` whose requests are those `model` (with `rules`) accepts."""
    document = copy.deepcopy(contract)
    document.pop("x-imagegen-models", None)
    for operation, path in PATHS.items():
        if rules is not None and not rules.supports(operation):
            del document["paths"][path]
    for media in _request_media(document):
        media.pop("examples", None)  # written for the whole contract, not for this model
        for part in media.get("encoding", {}).values():
            part["contentType"] = "image/png"  # the file parts are drawn as real PNGs
    if rules is not None and not rules.output_formats and "/images/edits" in document["paths"]:
        # JSON edits reference images by URL: GPT-image-like models only.
        del document["paths"]["/images/edits"]["post"]["requestBody"]["content"]["application/json"]
    schemas = document["components"]["schemas"]
    for name, (_, nullable) in REQUEST_SCHEMAS.items():
        _narrow(schemas[name], model, rules, nullable)
    return document


def _request_media(document: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for item in document["paths"].values():
        for operation in item.values():
            found.extend(operation.get("requestBody", {}).get("content", {}).values())
    return found


def _narrow(schema: dict[str, Any], model: str, rules: ModelRules | None, nullable: bool) -> None:
    properties: dict[str, Any] = schema["properties"]
    required = set(schema.get("required", []))

    def put(field: str, subschema: Any) -> None:
        if field not in properties:
            return
        if not nullable or field in required:
            properties[field] = subschema
        elif subschema is False:
            properties[field] = {"type": "null"}  # in JSON, null means "left out": still allowed
        else:
            properties[field] = {"anyOf": [subschema, {"type": "null"}]}

    put("model", {"const": model})
    if "images" in properties:
        # References by URL or file id need the internet or a files API; data: URLs need neither.
        properties["images"] = {**properties["images"], "items": _DATA_URL_REFERENCE}
        properties["mask"] = _DATA_URL_REFERENCE
    if rules is None:
        return
    put("prompt", {"type": "string", "minLength": 1, "maxLength": rules.prompt_max_length})
    put("n", {"type": "integer", "minimum": 1, "maximum": rules.max_n})
    put("size", {"type": "string", "enum": list(rules.sizes)} if rules.sizes else False)
    for field, attribute in VALUE_FIELDS.items():
        values = list(getattr(rules, attribute))
        if field == "background" and not nullable:
            # A transparent background needs png or webp output. JSON bodies say so with if/then
            # below; schemathesis cannot evaluate conditionals over file parts, so forms leave
            # transparent out.
            values = [value for value in values if value != "transparent"]
        put(field, {"type": "string", "enum": values} if values else False)
    if not rules.output_compression:
        put("output_compression", False)
    if not rules.input_fidelity:
        put("input_fidelity", False)
    if not rules.streaming:
        put("stream", {"const": False})
        put("partial_images", False)
    if nullable and "background" in properties and "transparent" in rules.backgrounds:
        # A transparent background needs an output format with alpha.
        schema.setdefault("allOf", []).append(
            {
                "if": {"properties": {"background": {"const": "transparent"}}, "required": ["background"]},
                "then": {"properties": {"output_format": {"enum": ["png", "webp"]}}},
            }
        )
    _narrow_inputs(schema, properties, rules)


def _narrow_inputs(schema: dict[str, Any], properties: dict[str, Any], rules: ModelRules) -> None:
    most = rules.inputs.max_images if rules.inputs is not None else 1
    if "image[]" in properties:
        # One form of upload per model, so the image count stays within its limit: a single
        # `image` part where the model takes one image, repeated `image[]` parts otherwise.
        schema.pop("anyOf", None)
        if most == 1:
            properties["image[]"] = False
            schema["required"] = [*schema.get("required", []), "image"]
        else:
            properties["image"] = False
            properties["image[]"] = {**properties["image[]"], "maxItems": most}
            schema["required"] = [*schema.get("required", []), "image[]"]
    if "images" in properties:
        properties["images"] = {**properties["images"], "maxItems": most}
