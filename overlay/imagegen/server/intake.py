"""From a request's bytes to a `Job`: parse, validate against the contract, bound, apply the
model's rules. CPU work, run in the pool (pool.py), never on the event loop.

Nothing is decoded here: the body must parse (JSON no deeper than `max_json_depth`), satisfy the
contract and the model's rules, and its images' headers must show at most `max_input_pixels`
each and `max_request_pixels` together. Painting decodes them (render.py).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..contract import IMAGE, MASK, FormFile, FormValue, OperationInfo
from .config import ServerConfig
from .errors import ApiError, invalid
from .forms import parse_form
from .policy import Job, resolve
from .uploads import check_pixel_budget, open_upload

JSON = "application/json"


@dataclass(frozen=True)
class Prepared:
    """A request ready to answer: its job, and its fingerprint (for idempotency)."""

    job: Job
    fingerprint: str


References = Callable[[Mapping[str, str], str], FormFile]
"""Turns an image reference of a JSON body ({"image_url"} or {"file_id"}, at `field`) into its
bytes, or raises the 400 saying why it cannot (see references.py)."""


def prepare(
    config: ServerConfig,
    info: OperationInfo,
    media: str,
    content_type: str,
    raw: bytes,
    reportable_qualities: tuple[str, ...],
    references: References | None = None,
) -> Prepared:
    """The job for a request to `info` whose body is `raw`, of `media` (JSON or multipart);
    `references` resolves the images a JSON body refers to (data: URLs only without it)."""
    schema_name = info.schema_for(media)
    assert schema_name is not None  # the route checked the media type
    roles = config.contract.upload_fields(schema_name)
    limits = config.limits
    if media == JSON:
        body = json_body(raw, limits.max_json_depth)
        body = config.contract.validator.check_json(schema_name, body)
        _check_prompt(body, limits.max_prompt_chars)
        uploads = _referenced_images(body, roles, references or data_url_only)
        fingerprint = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    else:
        form = parse_form(content_type, raw, max_files=limits.max_files, max_fields=limits.max_fields)
        body = config.contract.validator.check_form(schema_name, form)
        _check_prompt(body, limits.max_prompt_chars)
        uploads = [(roles.get(value.field, ""), value) for _, value in form if isinstance(value, FormFile)]
        uploads = [(role, upload) for role, upload in uploads if role in (IMAGE, MASK)]
        fingerprint = _form_fingerprint(form)
    opened = [(role, open_upload(upload, limits.max_input_pixels)) for role, upload in uploads]
    check_pixel_budget([item for _, item in opened], limits.max_request_pixels)
    images = [item for role, item in opened if role == IMAGE]
    masks = [item for role, item in opened if role == MASK]
    mask = masks[0] if masks else None
    declared = frozenset(field.name for field in config.contract.fields(schema_name))
    job = resolve(
        info.name,
        body,
        config.catalog,
        images,
        mask,
        reportable_qualities=reportable_qualities,
        fields=declared,
    )
    return Prepared(job, fingerprint)


def json_body(raw: bytes, max_depth: int) -> Any:
    """A request's JSON body, parsed; a 422 when it is not JSON or nests deeper than `max_depth`."""
    try:
        parsed = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        raise ApiError(422, "The body is not valid JSON.", code="invalid_json") from None
    depth = json_depth(parsed, max_depth)
    if depth > max_depth:
        raise ApiError(
            422,
            f"The JSON body nests more than {max_depth} levels deep; this server takes at most {max_depth}.",
            code="json_too_deep",
        )
    return parsed


def json_depth(value: Any, limit: int) -> int:
    """How deeply `value` nests (a scalar is 0), counted up to `limit + 1`, without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            depth += 1
            deepest = max(deepest, depth)
            if deepest > limit:
                return deepest
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth) for child in children if isinstance(child, dict | list))
    return deepest


def _check_prompt(body: dict[str, Any], limit: int) -> None:
    prompt = body.get("prompt")
    if isinstance(prompt, str) and len(prompt) > limit:
        raise invalid(f"The prompt is longer than this server's {limit} characters.", param="prompt")


def _form_fingerprint(form: list[tuple[str, FormValue]]) -> str:
    digest = hashlib.sha256()
    for name, value in form:
        digest.update(name.encode() + b"\0")
        digest.update(hashlib.sha256(value.data).digest() if isinstance(value, FormFile) else value.encode())
    return digest.hexdigest()


def _referenced_images(
    body: dict[str, Any], roles: dict[str, str], references: References
) -> list[tuple[str, FormFile]]:
    """The images a JSON body gives as references, with their roles."""
    found: list[tuple[str, FormFile]] = []
    masks = 0
    for field, role in roles.items():
        value = body.get(field)
        given = value if isinstance(value, list) else [value] if isinstance(value, dict) else []
        for index, reference in enumerate(given):
            where = f"{field}[{index}]" if isinstance(value, list) else field
            upload = references(reference, where)
            if role == IMAGE:
                found.append((IMAGE, upload))
            elif role == MASK and masks == 0:
                masks += 1
                found.append((MASK, upload))
    return found


def data_url_only(reference: Mapping[str, str], field: str) -> FormFile:
    """The references a server without files or fetching can serve: data: URLs."""
    if "file_id" in reference:
        raise invalid(
            f"No file with id {reference['file_id']!r} exists on this server.",
            param=f"{field}.file_id",
            code="file_not_found",
        )
    url = reference.get("image_url", "")
    if not url.startswith("data:"):
        raise invalid(
            "This server does not fetch image URLs; give the image as a base64 data: URL, by the "
            "file_id of an upload, or upload it as multipart.",
            param=f"{field}.image_url",
            code="url_fetch_disabled",
        )
    return data_url(url, field)


def data_url(url: str, field: str) -> FormFile:
    """The image of a base64 `data:` URL."""
    header, comma, payload = url.partition(",")
    if not comma or not header.endswith(";base64"):
        raise invalid("A data: URL must be base64 ('data:image/png;base64,...').", param=f"{field}.image_url")
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise invalid("The data: URL is not valid base64.", param=f"{field}.image_url") from None
    return FormFile(field, None, header[5:].split(";")[0] or None, data)
