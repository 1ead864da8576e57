"""Schemathesis hooks that keep a run honest: no false positives, no impossible cases.

- Every case names the model the run is narrowed to (a server would otherwise apply its
  default model's rules to it).
- Every mask is redrawn at its first image's size, with a transparent area (fit_masks), since
  binary fields are drawn one by one and a mask must match its image.
- A valid Idempotency-Key is made distinct per request body (distinct_idempotency_key):
  schemathesis reuses drawn values such as "0" across cases, and a conforming server answers a
  reused key with a different body with 409, which would hide every defect behind it.
- A "schema-violating request accepted" failure is dropped when the request, as it went on the
  wire, does satisfy the contract. This happens with multipart forms, where a string field
  mutated to a number or a boolean is sent as text that is a valid string again, and with JSON
  numbers such as 1.0 that JSON Schema counts as integers.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import MutableMapping
from typing import Any

from schemathesis import GenerationMode
from schemathesis.core.failures import AcceptedNegativeData
from schemathesis.core.parameters import ParameterLocation

from ..imageinfo import image_info
from ..server.errors import ApiError
from ..server.validation import ContractValidator, FormValue, Upload
from .multipart import parse_form
from .narrowing import REQUEST_SCHEMAS
from .strategies import data_url, mask_for


def install_hooks(schema: Any, model: str, narrowed: dict[str, Any]) -> None:
    """Register the hooks on one loaded schemathesis schema (not globally)."""
    validator = ContractValidator(narrowed)

    def map_case(context: Any, case: Any) -> Any:
        # Without a model a server applies its default model's rules, not the ones narrowed to.
        body = case.body
        missing = isinstance(body, dict) and body.get("model") in (None, [])  # [] sends no part
        if missing and "model" in _schema_for(case, narrowed).get("properties", {}):
            body["model"] = model
        if isinstance(body, dict):
            fit_masks(body)
        distinct_idempotency_key(case)
        return case

    def filter_failure(context: Any, failure: Any, case: Any, response: Any) -> bool:
        if not isinstance(failure, AcceptedNegativeData):
            return True
        return not _valid_as_sent(validator, case, response)

    schema.hooks.register_hook_with_name(map_case, "map_case")
    schema.hooks.register_hook_with_name(filter_failure, "filter_failure")


IDEMPOTENCY_HEADER = "Idempotency-Key"


def distinct_idempotency_key(case: Any) -> None:
    """Suffix a (valid) drawn Idempotency-Key with a digest of the request, keeping runs repeatable."""
    headers = case.headers
    if not isinstance(headers, MutableMapping) or not isinstance(headers.get(IDEMPOTENCY_HEADER), str):
        return
    component = case.meta.components.get(ParameterLocation.HEADER) if case.meta is not None else None
    if component is not None and component.mode is GenerationMode.NEGATIVE:
        return  # the header itself may be the invalid part: leave it as drawn
    digest = hashlib.sha256(f"{case.operation.path}|{case.media_type}|{case.body!r}".encode()).hexdigest()[
        :16
    ]
    headers[IDEMPOTENCY_HEADER] = f"{headers[IDEMPOTENCY_HEADER][:200]}-{digest}"


def fit_masks(body: dict[str, Any]) -> None:
    """Redraw `mask` at the size of the first image (multipart files or JSON data: URLs)."""
    mask, first = body.get("mask"), _first_image(body)
    if mask is None or first is None:
        return
    if isinstance(first, str) and isinstance(mask, dict) and isinstance(mask.get("image_url"), str):
        size = _size_of(_from_data_url(first))
        if size is not None:
            body["mask"] = {**mask, "image_url": data_url(mask_for(*size))}
        return
    first_data, mask_data = getattr(first, "data", None), getattr(mask, "data", None)
    if isinstance(first_data, bytes) and isinstance(mask_data, bytes):
        size = _size_of(first_data)
        if size is not None:
            body["mask"] = type(mask)(mask_for(*size))


def _first_image(body: dict[str, Any]) -> Any:
    for key in ("image[]", "images"):
        items = body.get(key)
        if isinstance(items, list) and items:
            item = items[0]
            return item.get("image_url") if isinstance(item, dict) else item
    return body.get("image")


def _size_of(data: bytes) -> tuple[int, int] | None:
    info = image_info(data)
    return (info.width, info.height) if info is not None else None


def _from_data_url(url: str) -> bytes:
    _, _, payload = url.partition(",")
    try:
        return base64.b64decode(payload)
    except ValueError:
        return b""


def _schema_for(case: Any, narrowed: dict[str, Any]) -> dict[str, Any]:
    name = _schema_name(case)
    return narrowed["components"]["schemas"].get(name, {}) if name else {}


def _schema_name(case: Any) -> str | None:
    json_body = "json" in (case.media_type or "")
    operation = case.operation.path.rsplit("/", 1)[-1]
    for name, (owner, is_json) in REQUEST_SCHEMAS.items():
        if owner == operation and is_json == json_body:
            return name
    return None


def _valid_as_sent(validator: ContractValidator, case: Any, response: Any) -> bool:
    """Whether the body that was sent satisfies the (narrowed) contract, headers untouched."""
    components = case.meta.components.items()
    negative = [location.value for location, info in components if info.mode is GenerationMode.NEGATIVE]
    if negative != ["body"]:
        return False  # a header or another part was the invalid one: a real finding
    name = _schema_name(case)
    request = response.request
    if name is None or request is None or request.body is None:
        return False
    body = request.body if isinstance(request.body, bytes) else str(request.body).encode()
    content_type = request.headers.get("Content-Type", "")
    try:
        if "multipart/form-data" in content_type:
            form: list[tuple[str, FormValue]] = [
                (field, Upload(field, filename, part_type, data) if filename is not None else data.decode())
                for field, filename, part_type, data in parse_form(body, content_type)
            ]
            validator.check_form(name, form)
        else:
            validator.check_json(name, json.loads(body))
    except (ApiError, ValueError):
        return False
    return True
