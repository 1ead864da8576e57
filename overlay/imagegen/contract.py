"""The packaged contract: `openapi/images.yaml`, shipped as JSON inside `imagegen_api`.

scripts/generate writes it beside the generated client, so the contract a program reads is
always the one its client was generated from.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib import resources
from typing import Any

CONTRACT_RESOURCE = "openapi.json"


def load_contract() -> dict[str, Any]:
    """Return the OpenAPI document of the image endpoints, as a fresh dict the caller may change."""
    return copy.deepcopy(_parsed_contract())


@cache
def _parsed_contract() -> dict[str, Any]:
    text = resources.files("imagegen_api").joinpath(CONTRACT_RESOURCE).read_text(encoding="utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


def contract_version() -> str:
    """The `info.version` of the packaged contract."""
    return str(_parsed_contract()["info"]["version"])
