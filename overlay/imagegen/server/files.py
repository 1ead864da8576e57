"""The files API of the reference server: upload, describe, read, delete and list files.

Files live in the shared store (storage.py), in a bucket of their own bounded in bytes
(`ServerConfig.files_max_bytes`), so every worker sees every file and a restarted server keeps
them. A file belongs to the token that uploaded it: another token does not see it. An image
uploaded with purpose `vision` or `user_data` can then be edited by its `file_id`; a `batch` file
is a batch's JSONL input; batches write their output files here too (purpose `batch_output`).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from ..contract import FormFile, FormValue
from ..contract.validation import FILE_PLACEHOLDER
from ..imageinfo import image_info
from .errors import ApiError, invalid
from .storage import NEVER, Bucket, Entry, StoreFull

Item = TypeVar("Item")
BUCKET = "files"
IMAGE_PURPOSES = frozenset({"vision", "user_data"})
BATCH_INPUT_TTL_S = 30 * 24 * 3600.0
"""Batch input files expire after 30 days unless asked otherwise (as OpenAI's do)."""


def owner_of(token: str) -> str:
    """Whose files these are: a digest of the token (never the token itself)."""
    return hashlib.sha256(token.encode()).hexdigest()[:24]


@dataclass(frozen=True)
class StoredFile:
    """A file and its bytes."""

    info: dict[str, Any]
    data: bytes


class FileStore:
    """Files by id, per owner, in a bounded bucket."""

    def __init__(self, bucket: Bucket) -> None:
        self.bucket = bucket

    def add(
        self, owner: str, filename: str, purpose: str, data: bytes, content_type: str, ttl_s: float = NEVER
    ) -> dict[str, Any]:
        """Keep a file and return its file object; a 413 when it does not fit the store at all."""
        file_id = f"file-{secrets.token_urlsafe(18)}"
        created = int(time.time())
        meta = {"owner": owner, "filename": filename[:255], "purpose": purpose, "bytes": len(data)}
        try:
            self.bucket.put(file_id, data, content_type=content_type, meta=meta, ttl_s=ttl_s)
        except StoreFull as error:
            raise ApiError(
                413,
                f"The file ({len(data)} bytes) is larger than this server's file store "
                f"({error.bound} bytes).",
                code="file_too_large",
            ) from None
        return _object(file_id, meta, created, None if ttl_s == NEVER else created + int(ttl_s))

    def find(self, owner: str, file_id: str) -> Entry | None:
        """The entry of `file_id` if it is `owner`'s and has not expired."""
        try:
            entry = self.bucket.get(file_id)
        except ValueError:  # not a name the store could hold: no such file
            return None
        if entry is None or entry.meta.get("owner") != owner:
            return None
        return entry

    def describe(self, owner: str, file_id: str) -> dict[str, Any]:
        """The file object of `file_id`, or a 404."""
        entry = self.find(owner, file_id)
        if entry is None:
            raise _not_found(file_id)
        return _object_of(entry)

    def read(self, owner: str, file_id: str) -> StoredFile:
        """The file object and bytes of `file_id`, or a 404."""
        entry = self.find(owner, file_id)
        data = self.bucket.read(entry) if entry is not None else None
        if entry is None or data is None:
            raise _not_found(file_id)
        return StoredFile(_object_of(entry), data)

    def delete(self, owner: str, file_id: str) -> dict[str, Any]:
        """Delete `file_id`; a 404 when there is no such file of this owner."""
        if self.find(owner, file_id) is None:
            raise _not_found(file_id)
        self.bucket.delete(file_id)
        return {"id": file_id, "object": "file", "deleted": True}

    def page(
        self, owner: str, *, purpose: str | None, limit: int, order: str, after: str | None
    ) -> dict[str, Any]:
        """A page of `owner`'s files, as listFiles answers it."""
        files = [_object_of(entry) for entry in self.bucket.entries() if entry.meta.get("owner") == owner]
        if purpose:
            files = [item for item in files if item["purpose"] == purpose]
        if order == "asc":
            files.reverse()
        return list_answer(files, limit=limit, after=after, id_of=lambda item: item["id"], show=dict)


def list_answer(
    items: Sequence[Item],
    *,
    limit: int,
    after: str | None,
    id_of: Callable[[Item], str],
    show: Callable[[Item], dict[str, Any]],
) -> dict[str, Any]:
    """A list answer of the files and batches APIs: the `limit` items after the one whose id is
    `after` (none when it is unknown), each shown by `show` (only those shown are)."""
    if after:
        ids = [id_of(item) for item in items]
        items = items[ids.index(after) + 1 :] if after in ids else []
    shown = [show(item) for item in items[:limit]]
    return {
        "object": "list",
        "data": shown,
        "first_id": shown[0]["id"] if shown else None,
        "last_id": shown[-1]["id"] if shown else None,
        "has_more": len(items) > limit,
    }


def upload_from_form(
    form: list[tuple[str, FormValue]], validate: Any, schema_name: str, binary_field: str
) -> tuple[FormFile, str, float]:
    """(the file, its purpose, its lifetime in seconds) of an upload form, checked against the
    contract. `expires_after` may come as one JSON part (the generated client) or as
    `expires_after[anchor]` and `expires_after[seconds]` fields (the official SDK)."""
    upload: FormFile | None = None
    document: dict[str, Any] = {}
    expires: dict[str, Any] = {}
    for name, value in form:
        if isinstance(value, FormFile):
            if name != binary_field or upload is not None:
                raise invalid(
                    f"Unexpected file in field '{name}'; send one file, as '{binary_field}'.", param=name
                )
            upload = value
        elif name.startswith("expires_after[") and name.endswith("]"):
            key = name[len("expires_after[") : -1]
            expires[key] = int(value) if key == "seconds" and value.strip().isdigit() else value
        elif name == "expires_after":
            try:
                document[name] = json.loads(value)
            except ValueError:
                raise invalid("'expires_after' must be a JSON object.", param="expires_after") from None
        else:
            document[name] = value
    if expires:
        document["expires_after"] = expires
    if upload is None:
        raise invalid(
            f"Missing required parameter: '{binary_field}' (the file to upload).", param=binary_field
        )
    document[binary_field] = FILE_PLACEHOLDER
    checked = validate(schema_name, document)
    purpose = str(checked["purpose"])
    if not upload.data:
        raise invalid("The file is empty.", param=binary_field)
    if purpose == "vision" and image_info(upload.data) is None:
        raise invalid(
            "A file of purpose 'vision' must be an image (PNG, JPEG or WebP); use 'user_data' for others.",
            param=binary_field,
            code="invalid_image",
        )
    window = checked.get("expires_after")
    ttl = float(window["seconds"]) if isinstance(window, Mapping) else NEVER
    if purpose == "batch" and ttl == NEVER:
        ttl = BATCH_INPUT_TTL_S
    return upload, purpose, ttl


def _object_of(entry: Entry) -> dict[str, Any]:
    expires = None if entry.expires_at == NEVER else int(entry.expires_at)
    return _object(entry.name, entry.meta, int(entry.created_at), expires)


def _object(file_id: str, meta: Mapping[str, Any], created: int, expires: int | None) -> dict[str, Any]:
    return {
        "id": file_id,
        "object": "file",
        "bytes": int(meta.get("bytes", 0)),
        "created_at": created,
        "expires_at": expires,
        "filename": str(meta.get("filename", "")),
        "purpose": str(meta.get("purpose", "")),
        "status": "processed",
        "status_details": None,
    }


def _not_found(file_id: str) -> ApiError:
    return ApiError(404, f"No file with id '{file_id}' exists.", param="file_id", code="file_not_found")
