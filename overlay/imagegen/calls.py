"""Requests built with the generated client: its models encode the bodies, its request builders
give the route, headers and body; this module adds the files and the conventions around them."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from imagegen_api.api.images import create_image, create_image_edit, create_image_variation
from imagegen_api.models import CreateImageEditRequest, CreateImageRequest, CreateImageVariationRequest
from imagegen_api.types import UNSET, File, Unset

from .rules import Operation
from .uploads import PreparedUpload


@dataclass(frozen=True)
class Call:
    """A request ready to send (without auth, retries or timeouts, which the client adds)."""

    operation: Operation
    method: str
    path: str
    headers: dict[str, str]
    json: dict[str, Any] | None = None
    files: list[tuple[str, Any]] | None = None
    stream: bool = False
    expected_images: int = 1


def generation_call(body: Mapping[str, Any], organization: str | None, project: str | None) -> Call:
    """POST /images/generations with `body` as JSON."""
    model = CreateImageRequest.from_dict(dict(body))
    kwargs = create_image._get_kwargs(body=model, **_account(organization, project))
    return _call("generations", kwargs, body)


def edit_call(
    body: Mapping[str, Any],
    images: Sequence[PreparedUpload],
    mask: PreparedUpload | None,
    organization: str | None,
    project: str | None,
) -> Call:
    """POST /images/edits as multipart: one image as an `image` part, several as `image[]` parts."""
    model = CreateImageEditRequest.from_dict(dict(body))
    model.image = [_file(upload) for upload in images]
    model.mask = _file(mask) if mask is not None else UNSET
    kwargs = create_image_edit._get_kwargs(body=model, **_account(organization, project))
    if len(images) == 1:  # what the official clients send for a single file
        kwargs["files"] = [("image" if name == "image[]" else name, part) for name, part in kwargs["files"]]
    return _call("edits", kwargs, body)


def variation_call(
    body: Mapping[str, Any], image: PreparedUpload, organization: str | None, project: str | None
) -> Call:
    """POST /images/variations as multipart."""
    model = CreateImageVariationRequest.from_dict({**body, "image": b""})
    model.image = _file(image)
    kwargs = create_image_variation._get_kwargs(body=model, **_account(organization, project))
    return _call("variations", kwargs, body)


def _call(operation: Operation, kwargs: dict[str, Any], body: Mapping[str, Any]) -> Call:
    n = body.get("n", 1)
    return Call(
        operation=operation,
        method=str(kwargs["method"]).upper(),
        path=str(kwargs["url"]),
        headers={str(k): str(v) for k, v in kwargs.get("headers", {}).items()},
        json=kwargs.get("json"),
        files=kwargs.get("files"),
        stream=body.get("stream") is True,
        expected_images=n if isinstance(n, int) and not isinstance(n, bool) and n > 0 else 1,
    )


def _file(upload: PreparedUpload) -> File:
    return File(payload=io.BytesIO(upload.data), file_name=upload.filename, mime_type=upload.content_type)


def _account(organization: str | None, project: str | None) -> dict[str, str | Unset]:
    return {
        "open_ai_organization": organization if organization else UNSET,
        "open_ai_project": project if project else UNSET,
    }
