"""A document in the official OpenAI spec's style, made from our contract, for the compare tests.

The images part of the official spec (shared/reference/openai-images-official.yaml, openai-openapi
@ f85dbe2, 2026-08-21) is not in this repository, so the tests cannot read it on a machine that
has only a clone. What the comparison must cope with in it are facts, recorded here as the
changes that turn our contract into a document of the official's shape:

- other schema names (EditImageBodyJsonParam, ImageRefParam, ImagesUsage);
- one multipart `image` field, a file or an array of up to 16 files, sent as `image[]` parts
  (the media type says so in x-multipart-array-field-name);
- no Idempotency-Key or OpenAI-Organization/OpenAI-Project parameters, only 200, 429 and default
  answers, `Retry-After` at least 1;
- no length bounds on prompts and no range on output_compression;
- `data` not required in an answer;
- variation sizes as a list (256x256, 512x512, 1024x1024); edit qualities without `hd` (and
  without `standard` in JSON edits);
- the models each operation names in an enum of its `model` field (OFFICIAL_MODELS);
- only the image operations (the reference is the images part), and the schemas they use.
"""

from __future__ import annotations

import copy
import json
from typing import Any

# The models the official spec names in each operation's `model` enum (per request body).
OFFICIAL_MODELS: dict[str, dict[str, list[str]]] = {
    "createImage": {
        "application/json": [
            "gpt-image-1.5",
            "gpt-image-2",
            "gpt-image-2-2026-04-21",
            "dall-e-2",
            "dall-e-3",
            "gpt-image-1",
            "gpt-image-1-mini",
        ]
    },
    "createImageEdit": {
        "multipart/form-data": [
            "gpt-image-1.5",
            "gpt-image-2",
            "gpt-image-2-2026-04-21",
            "dall-e-2",
            "gpt-image-1",
            "gpt-image-1-mini",
            "chatgpt-image-latest",
        ],
        "application/json": [
            "gpt-image-1.5",
            "gpt-image-2",
            "gpt-image-2-2026-04-21",
            "gpt-image-1",
            "gpt-image-1-mini",
            "chatgpt-image-latest",
        ],
    },
    "createImageVariation": {"multipart/form-data": ["dall-e-2"]},
}
RENAMED = {
    "CreateImageEditJsonRequest": "EditImageBodyJsonParam",
    "ImageReference": "ImageRefParam",
    "ImageUsage": "ImagesUsage",
}
BINARY = {"type": "string", "format": "binary"}


def official_style(
    ours: dict[str, Any], models: dict[str, dict[str, list[str]]] | None = None
) -> dict[str, Any]:
    """Our contract reshaped as the official spec is (see the module docstring)."""
    text = json.dumps(_without_extensions(copy.deepcopy(ours)))
    for old, new in RENAMED.items():
        text = text.replace(f'"#/components/schemas/{old}"', f'"#/components/schemas/{new}"')
    document: dict[str, Any] = json.loads(text)
    schemas = document["components"]["schemas"]
    for old, new in RENAMED.items():
        schemas[new] = schemas.pop(old)
    _images_part(document)
    for name in ("Prompt",):
        schemas[name] = {"type": "string", "description": schemas[name].get("description", "")}
    schemas["OutputCompression"] = {
        "type": "integer",
        "description": schemas["OutputCompression"]["description"],
    }
    schemas["ImagesResponse"]["required"] = ["created"]
    _one_image_field(document)
    edit_quality = ["standard", "low", "medium", "high", "auto"]
    schemas["CreateImageEditRequest"]["properties"]["quality"] = {"type": "string", "enum": edit_quality}
    schemas["EditImageBodyJsonParam"]["properties"]["quality"] = {
        "anyOf": [{"type": "string", "enum": ["low", "medium", "high", "auto"]}, {"type": "null"}]
    }
    schemas["CreateImageVariationRequest"]["properties"]["size"] = {
        "type": ["string", "null"],
        "enum": ["256x256", "512x512", "1024x1024", None],
    }
    for item in document["paths"].values():
        operation = item["post"]
        operation.pop("parameters", None)
        ok = operation["responses"]["200"]
        operation["responses"] = {
            "200": ok,
            "429": {
                "description": "Too many requests.",
                "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 1}}},
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}},
            },
            "default": {
                "description": "Error response.",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}},
            },
        }
        named = (models or OFFICIAL_MODELS).get(operation["operationId"], {})
        for media, content in operation["requestBody"]["content"].items():
            if media in named:
                schema = schemas[content["schema"]["$ref"].rsplit("/", 1)[-1]]
                schema["properties"]["model"] = {
                    "anyOf": [{"type": "string"}, {"type": "string", "enum": named[media]}, {"type": "null"}]
                }
    return document


def _one_image_field(document: dict[str, Any]) -> None:
    edit = document["components"]["schemas"]["CreateImageEditRequest"]
    properties = edit["properties"]
    properties.pop("image[]")
    properties["image"] = {"anyOf": [BINARY, {"type": "array", "maxItems": 16, "items": BINARY}]}
    edit.pop("anyOf", None)
    edit["required"] = ["prompt", "image"]
    media = document["paths"]["/images/edits"]["post"]["requestBody"]["content"]["multipart/form-data"]
    media["x-multipart-array-field-name"] = "image[]"
    media["encoding"] = {"image": {"contentType": "image/png, image/jpeg, image/webp"}}


def _without_extensions(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _without_extensions(v) for k, v in node.items() if not str(k).startswith("x-imagegen")}
    if isinstance(node, list):
        return [_without_extensions(item) for item in node]
    return node


def _images_part(document: dict[str, Any]) -> None:
    """Keep the image operations only, and the schemas they reach."""
    document["paths"] = {
        path: item
        for path, item in document["paths"].items()
        if all("images" in operation.get("tags", []) for operation in item.values())
    }
    schemas = document["components"]["schemas"]
    reached: set[str] = set()
    pending: list[Any] = [document["paths"], document["components"].get("responses", {})]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
                name = ref.rsplit("/", 1)[-1]
                if name not in reached:
                    reached.add(name)
                    pending.append(schemas.get(name, {}))
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    for name in set(schemas) - reached:
        del schemas[name]
