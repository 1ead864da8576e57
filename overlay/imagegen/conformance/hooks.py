"""Schemathesis hooks that keep a run honest: no false positives, no impossible cases.

- Every case names the model the run is narrowed to (a server would otherwise apply its
  default model's rules to it).
- Every mask is redrawn at its first image's size, with a transparent area (fit_masks), since
  binary fields are drawn one by one and a mask must match its image.
- Once the streaming probe found that the server does not stream, cases ask for no stream
  (`stream: true` becomes `false`, as valid): that one finding is reported, not a copy per case.
- A valid Idempotency-Key is made distinct per request (distinct_idempotency_key):
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
import secrets
from collections.abc import Callable, MutableMapping
from typing import Any

from schemathesis import GenerationMode
from schemathesis.core.failures import AcceptedNegativeData
from schemathesis.core.parameters import ParameterLocation

from ..contract import IMAGE, MASK, Contract, FormFile, FormValue, RequestInvalid, RequestValidator
from ..imageinfo import image_info
from .multipart import parse_form
from .strategies import data_url, mask_for


def install_hooks(
    schema: Any,
    contract: Contract,
    model: str,
    narrowed: dict[str, Any],
    streams: Callable[[], bool] = lambda: True,
    answered: Callable[[float], None] | None = None,
    called: Callable[[Any, Any], None] | None = None,
) -> None:
    """Register the hooks on one loaded schemathesis schema (not globally). `streams()` says
    whether cases may ask for a stream; `answered(seconds)` hears each answer's latency,
    `called(case, response)` each answer."""
    validator = RequestValidator(narrowed)
    sent: dict[str, int] = {}
    run = f"{secrets.token_hex(4)}-"  # keys of another run against the same server are not these

    def map_case(context: Any, case: Any) -> Any:
        name = schema_name(contract, case)
        body = case.body
        if name is not None and isinstance(body, dict):
            # Without a model a server applies its default model's rules, not the ones narrowed to.
            missing = body.get("model") in (None, [])  # [] sends no part
            if missing and "model" in narrowed["components"]["schemas"][name].get("properties", {}):
                body["model"] = model
            fit_masks(body, contract.upload_fields(name))
            if body.get("stream") is True and not streams():
                body["stream"] = False
        distinct_idempotency_key(case, sent, run)
        return case

    def before_add_examples(context: Any, examples: list[Any]) -> None:
        # Cases built from the schemas' examples do not pass through map_case.
        for example in examples:
            map_case(context, example)

    def after_call(context: Any, case: Any, response: Any) -> None:
        if answered is not None:
            answered(float(getattr(response, "elapsed", 0.0) or 0.0))
        if called is not None:
            called(case, response)

    def filter_failure(context: Any, failure: Any, case: Any, response: Any) -> bool:
        if not isinstance(failure, AcceptedNegativeData):
            return True
        return not _valid_as_sent(validator, schema_name(contract, case), case, response)

    schema.hooks.register_hook_with_name(map_case, "map_case")
    schema.hooks.register_hook_with_name(filter_failure, "filter_failure")
    schema.hooks.register_hook_with_name(after_call, "after_call")
    schema.hooks.register_hook_with_name(before_add_examples, "before_add_examples")


IDEMPOTENCY_HEADER = "Idempotency-Key"


def distinct_idempotency_key(case: Any, sent: dict[str, int] | None = None, run: str = "") -> None:
    """Suffix a (valid) drawn Idempotency-Key with `run` (a mark of this run) and a digest of the
    request; with `sent` (the digests seen so far in the run), a request sent again gets a key of
    its own too. A replayed answer, from earlier in the run or from an earlier run against the same
    server, would describe a file the run may have deleted since."""
    headers = case.headers
    if not isinstance(headers, MutableMapping) or not isinstance(headers.get(IDEMPOTENCY_HEADER), str):
        return
    component = case.meta.components.get(ParameterLocation.HEADER) if case.meta is not None else None
    if component is not None and component.mode is GenerationMode.NEGATIVE:
        return  # the header itself may be the invalid part: leave it as drawn
    digest = hashlib.sha256(f"{case.operation.path}|{case.media_type}|{case.body!r}".encode()).hexdigest()[
        :16
    ]
    if sent is not None:
        sent[digest] = sent.get(digest, 0) + 1
        if sent[digest] > 1:
            digest = f"{digest}-{sent[digest]}"
    headers[IDEMPOTENCY_HEADER] = f"{headers[IDEMPOTENCY_HEADER][:200]}-{run}{digest}"


def fit_masks(body: dict[str, Any], roles: dict[str, str]) -> None:
    """Redraw the mask at the size of the first image (multipart files or JSON data: URLs);
    `roles` maps the body's upload fields to `image` or `mask`."""
    mask_field = next((name for name, role in roles.items() if role == MASK and name in body), None)
    first = _first_image(body, [name for name, role in roles.items() if role == IMAGE])
    if mask_field is None or first is None:
        return
    mask = body[mask_field]
    if isinstance(first, str) and isinstance(mask, dict) and isinstance(mask.get("image_url"), str):
        size = _size_of(_from_data_url(first))
        if size is not None:
            body[mask_field] = {**mask, "image_url": data_url(mask_for(*size))}
        return
    first_data, mask_data = getattr(first, "data", None), getattr(mask, "data", None)
    if isinstance(first_data, bytes) and isinstance(mask_data, bytes):
        size = _size_of(first_data)
        if size is not None:
            body[mask_field] = type(mask)(mask_for(*size))


def _first_image(body: dict[str, Any], fields: list[str]) -> Any:
    for key in fields:
        value = body.get(key)
        item = (
            value[0] if isinstance(value, list) and value else value if not isinstance(value, list) else None
        )
        if isinstance(item, dict):
            return item.get("image_url")
        if item is not None:
            return item
    return None


def _size_of(data: bytes) -> tuple[int, int] | None:
    info = image_info(data)
    return (info.width, info.height) if info is not None else None


def _from_data_url(url: str) -> bytes:
    _, _, payload = url.partition(",")
    try:
        return base64.b64decode(payload)
    except ValueError:
        return b""


def schema_name(contract: Contract, case: Any) -> str | None:
    """The request schema of a case: its operation's schema for the case's media type."""
    operation = contract.find(case.operation.method, case.operation.path)
    if operation is None or not case.media_type:
        return None
    return operation.schema_for(case.media_type)


def _valid_as_sent(validator: RequestValidator, name: str | None, case: Any, response: Any) -> bool:
    """Whether the body that was sent satisfies the (narrowed) contract, headers untouched."""
    components = case.meta.components.items()
    negative = [location.value for location, info in components if info.mode is GenerationMode.NEGATIVE]
    if negative != ["body"]:
        return False  # a header or another part was the invalid one: a real finding
    request = response.request
    if name is None or request is None or request.body is None:
        return False
    body = request.body if isinstance(request.body, bytes) else str(request.body).encode()
    content_type = request.headers.get("Content-Type", "")
    try:
        if "multipart/form-data" in content_type:
            form: list[tuple[str, FormValue]] = [
                (field, FormFile(field, filename, part_type, data) if filename is not None else data.decode())
                for field, filename, part_type, data in parse_form(body, content_type)
            ]
            validator.check_form(name, form)
        else:
            validator.check_json(name, json.loads(body))
    except (RequestInvalid, ValueError):
        return False
    return True
