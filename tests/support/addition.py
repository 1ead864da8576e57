"""A pure addition to the contract, as a maintainer would make one: a field, an enum value, a model
with rules and an operation. tests/test_contract_addition.py applies it to a copy of the
repository, regenerates, and shows that every layer picks it up.

Run it by hand on a clone to check that the whole suite still passes after such an addition:

    python tests/support/addition.py openapi/images.yaml && scripts/generate && scripts/test
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

NEW_FIELD = "seed"
SEED_DESCRIPTION = "Makes the same request give the same images."
NEW_QUALITY = "ultra"
NEW_MODEL = "gpt-image-3"
NEW_OPERATION = "upscales"
NEW_OPERATION_ID = "createImageUpscale"
NEW_PATH = "/images/upscales"


def add_to(document: dict[str, Any]) -> dict[str, Any]:
    """`document` (a contract) with the addition made, in place; returned for convenience."""
    schemas = document["components"]["schemas"]
    schemas["CreateImageRequest"]["properties"][NEW_FIELD] = {
        "anyOf": [{"type": "integer", "minimum": 0}, {"type": "null"}],
        "description": SEED_DESCRIPTION,
    }
    for name in ("ImageQuality", "ResultQuality"):
        if NEW_QUALITY not in schemas[name]["enum"]:
            schemas[name]["enum"].append(NEW_QUALITY)
    schemas["CreateImageUpscaleRequest"] = {
        "type": "object",
        "description": "The multipart form of an upscale request.",
        "required": ["image"],
        "properties": {
            "image": {
                "type": "string",
                "format": "binary",
                "x-imagegen-upload": "image",
                "description": "The image to enlarge.",
            },
            "model": {"$ref": "#/components/schemas/ImageModel"},
            "scale": {"type": "integer", "minimum": 2, "maximum": 4, "description": "How many times larger."},
        },
    }
    variations = document["paths"]["/images/variations"]["post"]
    document["paths"][NEW_PATH] = {
        "post": {
            "operationId": NEW_OPERATION_ID,
            "x-imagegen-operation": NEW_OPERATION,
            "tags": ["images"],
            "summary": "Enlarge an image",
            "parameters": variations["parameters"],
            "requestBody": {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {"$ref": "#/components/schemas/CreateImageUpscaleRequest"},
                        "encoding": {"image": {"contentType": "image/png"}},
                    }
                },
            },
            "responses": variations["responses"],
        }
    }
    models = document["x-imagegen-models"]["models"]
    models[NEW_MODEL] = {
        "operations": ["generations", "edits", NEW_OPERATION],
        "fields": {
            **models["gpt-image-1.5"]["fields"],
            "quality": {"values": ["auto", "low", "medium", "high", NEW_QUALITY]},
            "size": {"values": ["1024x1024"], "default": "1024x1024"},
            "scale": {"values": [2, 4]},
        },
        "answers": {"revised_prompt": False, "usage": True},
    }
    return document


def main(path: str) -> int:
    """Make the addition in the contract file at `path`."""
    target = Path(path)
    document = yaml.safe_load(target.read_text(encoding="utf-8"))
    target.write_text(yaml.safe_dump(add_to(document), sort_keys=False, allow_unicode=True), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "openapi/images.yaml"))
