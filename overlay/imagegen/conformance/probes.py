"""Direct requests the conformance runner makes besides schemathesis' generated ones.

`http` is an httpx client (or Starlette's TestClient for an in-process application).

- Which operations the server implements: a route answering 404, 405 or 501 is "not
  implemented" (LocalAI has no edits or variations) and is left out of the run instead of
  failing it.
- Whether it streams: when the model may stream, one `stream: true` request of the first
  operation that streams with a JSON body tells whether the answer is an event stream; if not,
  streaming is reported as not supported and not tested.
- Rules no schema can state: an edit whose mask is not the first image's size must be refused
  (for the first operation whose multipart body takes an image and a mask).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import httpx

from ..contract import IMAGE, MASK, Contract, ModelRules, OperationInfo
from ..contract.operations import JSON, MULTIPART
from ..errors import MIN_MASKED_SECRET
from .findings import TOKEN_PLACEHOLDER, Finding, SentRequest

NOT_IMPLEMENTED = frozenset({404, 405, 501})

MASK_CHECK = "mask_size_rejection"


class SetupError(Exception):
    """The run cannot happen (server unreachable, nothing to test); the message says why."""


def check_reachable(http: Any, base_url: str) -> None:
    """Raise SetupError unless something answers HTTP at `base_url`."""
    try:
        http.get(base_url)
    except httpx.HTTPError as error:
        raise SetupError(f"no server answers at {base_url}: {error or type(error).__name__}") from None


def implemented(http: Any, base_url: str, operation: OperationInfo, headers: Mapping[str, str]) -> bool:
    """Whether the server has a route for `operation` (anything but 404, 405 or 501 to an empty body)."""
    url = base_url + _concrete(operation.path)
    if operation.method in ("GET", "DELETE", "HEAD"):
        answer = http.request(operation.method, url, headers=dict(headers))
    else:
        answer = http.request(operation.method, url, json={}, headers=dict(headers))
    return answer.status_code not in NOT_IMPLEMENTED


PROBE_FIELDS = frozenset({"prompt", "model", "stream"})  # what the streaming probe fills in


def stream_probe_operation(contract: Contract, tested: list[OperationInfo]) -> OperationInfo | None:
    """The operation the streaming probe uses: the first tested one that streams, with a JSON body
    that needs nothing but a prompt (a request the probe can make valid for any model)."""
    for op in tested:
        if op.streams and JSON in op.bodies:
            required = {field.name for field in contract.fields(op.bodies[JSON]) if field.required}
            if required <= PROBE_FIELDS:
                return op
    return None


def mask_probe_operation(contract: Contract, tested: list[OperationInfo]) -> OperationInfo | None:
    """The operation the mask probe uses: the first tested one with a multipart image and mask."""
    for op in tested:
        schema = op.bodies.get(MULTIPART)
        if schema is not None and {IMAGE, MASK} <= set(contract.upload_fields(schema).values()):
            return op
    return None


def streams(
    http: Any,
    base_url: str,
    operation: OperationInfo,
    model: str,
    rules: ModelRules | None,
    headers: Mapping[str, str],
) -> bool | None:
    """Whether a `stream: true` request with `model` is answered as an event stream: True, False
    for a 200 of another kind, None when the request was refused (the probe tells nothing then)."""
    body: dict[str, Any] = {"prompt": "A small test picture", "model": model, "stream": True}
    if rules is not None:
        if "low" in (rules.values("quality") or ()):
            body["quality"] = "low"
        sizes = [size for size in rules.values("size") or () if _pixels(str(size)) < 1 << 30]
        if sizes:
            body["size"] = min(sizes, key=lambda size: _pixels(str(size)))
    url = base_url + operation.path
    with http.stream("POST", url, json=body, headers=dict(headers)) as answer:
        for _ in answer.iter_bytes():  # read it all, so the connection is reusable
            pass
        content_type = str(answer.headers.get("content-type", ""))
        if answer.status_code != 200:
            return None
        return content_type.startswith("text/event-stream")


def mask_size_probe(
    http: Any,
    base_url: str,
    contract: Contract,
    operation: OperationInfo,
    model: str,
    headers: Mapping[str, str],
    token: str | None,
) -> Finding | None:
    """An edit with a mask half the image's size must be refused (4xx); a Finding if it is not."""
    image, mask = _png(64, 64, alpha=False), _png(32, 32, alpha=True)
    fields = contract.fields(operation.bodies[MULTIPART])
    images = [field for field in fields if field.upload == IMAGE]
    image_field = next((field.name for field in images if field.kind != "array"), images[0].name)
    mask_field = next(field.name for field in fields if field.upload == MASK)
    files = [
        (image_field, ("image.png", image, "image/png")),
        (mask_field, ("mask.png", mask, "image/png")),
    ]
    data = {"prompt": "Repaint the transparent part", "model": model}
    request = http.build_request(
        "POST", base_url + operation.path, files=files, data=data, headers=dict(headers)
    )
    answer = http.send(request)
    if 400 <= answer.status_code < 500:
        return None
    return Finding(
        operation=operation.label,
        check=MASK_CHECK,
        title="Mask of the wrong size accepted",
        message=(
            "An edit whose mask is 32x32 while the image is 64x64 should be refused with a 4xx "
            "(the mask must have the first image's size),\n"
            f"but the server answered {answer.status_code}."
        ),
        phase="probe",
        status=answer.status_code,
        request=sent(request, token),
        response_body=answer.content[:2000].decode("utf-8", errors="replace"),
    )


def sent(request: httpx.Request, token: str | None) -> SentRequest:
    """A request as it went out, with the token replaced by $IMAGEGEN_TOKEN."""
    headers = {name: redact(value, token) for name, value in request.headers.items()}
    return SentRequest(request.method, str(request.url), headers, request.read())


def redact(value: str, token: str | None) -> str:
    """`value` with the token replaced by $IMAGEGEN_TOKEN (tokens too short to be secrets,
    such as a local server's "t", are left alone: replacing them would garble the text)."""
    return value.replace(token, TOKEN_PLACEHOLDER) if token and len(token) >= MIN_MASKED_SECRET else value


def _concrete(path: str) -> str:
    """A path template with each {parameter} filled with a placeholder value."""
    import re

    return re.sub(r"\{[^}]+\}", "imagegen-probe", path)


def _pixels(size: str) -> int:
    width, _, height = size.partition("x")
    return int(width) * int(height) if width.isdigit() and height.isdigit() else 1 << 30


def _png(width: int, height: int, *, alpha: bool) -> bytes:
    from PIL import Image

    image = Image.new(
        "RGBA" if alpha else "RGB", (width, height), (120, 80, 200, 255) if alpha else (120, 80, 200)
    )
    if alpha:
        image.paste((0, 0, 0, 0), (0, 0, width // 2, height))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
