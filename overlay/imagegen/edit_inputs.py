"""The images of an edit, by upload or by reference, and which form of request carries them.

An edit's images (and mask) can each be:

- a local image (a path, bytes, a binary file, a Pillow image): uploaded in the multipart form,
  or sent inside the JSON form as a `data:` URL;
- an image URL (`https://...`, or a `data:image/...;base64,...` URL): JSON form only;
- a file uploaded earlier (`{"file_id": "file-..."}`, or the FileObject `client.files.upload`
  returned): JSON form only;
- `{"image_url": "..."}`: the contract's reference object as it is.

With `form=None` the request is JSON when any image is a reference, else multipart (what every
server takes); `form="json"` or `"multipart"` chooses. A reference in a multipart request is an
UploadError saying so, before anything is sent.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from .contract import IMAGE, MASK
from .contract.operations import JSON, MULTIPART
from .errors import UploadError
from .uploads import PreparedUpload, prepare_upload, require_images

EditForm = Literal["json", "multipart"]
_FORMS = {"json": JSON, "multipart": MULTIPART}
_URL_PREFIXES = ("http://", "https://", "data:")


@dataclass
class EditInputs:
    """What an edit sends: its media type, its local images (checked by the model's rules) and,
    for the JSON form, every image as a reference object, by role."""

    media: str
    uploads: dict[str, list[PreparedUpload]] = field(default_factory=dict)
    references: dict[str, list[dict[str, str]]] = field(default_factory=dict)


def reference_of(value: Any) -> dict[str, str] | None:
    """The reference object `value` is ({"image_url": ...} or {"file_id": ...}), or None for a
    local image."""
    if isinstance(value, Mapping):
        keys = set(value)
        if keys in ({"image_url"}, {"file_id"}) and all(
            isinstance(item, str) and item for item in value.values()
        ):
            return {str(key): str(item) for key, item in value.items()}
        raise UploadError(
            "an image given as a mapping must be {'image_url': URL} or {'file_id': ID}, "
            f"not {dict(value)!r}"
        )
    if isinstance(value, str) and value[:8].lower().startswith(_URL_PREFIXES):
        return {"image_url": value}
    file_id = getattr(value, "id", None)
    if getattr(value, "object", None) == "file" and isinstance(file_id, str):
        return {"file_id": file_id}  # a FileObject of client.files
    return None


def data_url(upload: PreparedUpload) -> str:
    """A local image as a `data:` URL, for the JSON form."""
    return f"data:{upload.content_type};base64,{base64.b64encode(upload.data).decode('ascii')}"


def edit_inputs(
    images: Sequence[Any], mask: Any | None, form: EditForm | None, *, takes_json: bool
) -> EditInputs:
    """Sort the images and mask of an edit into what the request sends (UploadError, before
    sending, when they cannot go in the form asked for)."""
    if form is not None and form not in _FORMS:
        raise ValueError(f"form must be 'json' or 'multipart', not {form!r}")
    given: list[tuple[str, int | None, Any]] = [(IMAGE, index, value) for index, value in enumerate(images)]
    if mask is not None:
        given.append((MASK, None, mask))
    references = {id(value): reference_of(value) for _, _, value in given}
    referenced = [value for _, _, value in given if references[id(value)] is not None]
    media = _FORMS[form] if form is not None else (JSON if referenced else MULTIPART)
    if media == MULTIPART and referenced:
        shown = _shown(references[id(referenced[0])] or {})
        raise UploadError(
            f"{shown} is a reference, which only the JSON form of an edit can send; "
            "leave form out (or give form='json'), or give the image itself to upload"
        )
    if media == JSON and not takes_json:
        raise UploadError("this contract's edits take no JSON body: give the images themselves to upload")
    inputs = EditInputs(media)
    several = len(images) > 1
    for role, index, value in given:
        reference = references[id(value)]
        if reference is None:
            upload = prepare_upload(value, role=role, index=index if several else None)
            inputs.uploads.setdefault(role, []).append(upload)
            reference = {"image_url": data_url(upload)}
        inputs.references.setdefault(role, []).append(reference)
    if not inputs.references.get(IMAGE):
        require_images([])
    return inputs


def _shown(reference: Mapping[str, str]) -> str:
    if "file_id" in reference:
        return f"file {reference['file_id']}"
    url = reference.get("image_url", "")
    return "a data: URL" if url[:5].lower() == "data:" else f"the URL {url[:80]}"
