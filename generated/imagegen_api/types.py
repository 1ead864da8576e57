"""Contains some shared types for properties"""

import json
import mimetypes
from collections.abc import Mapping, MutableMapping
from http import HTTPStatus
from typing import IO, BinaryIO, Generic, Literal, TypeVar

from attrs import define


class Unset:
    def __bool__(self) -> Literal[False]:
        return False

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Unset = Unset()

# The types that `httpx.Client(files=)` can accept, copied from that library.
FileContent = IO[bytes] | bytes | str
FileTypes = (
    # (filename, file (or bytes), content_type)
    tuple[str | None, FileContent, str | None]
    # (filename, file (or bytes), content_type, headers)
    | tuple[str | None, FileContent, str | None, Mapping[str, str]]
)
RequestFiles = list[tuple[str, FileTypes]]

_SIGNATURES: tuple[tuple[bytes, int, str, str], ...] = (
    # (magic bytes, their offset, content type, file name extension)
    (b"\x89PNG\r\n\x1a\n", 0, "image/png", "png"),
    (b"\xff\xd8\xff", 0, "image/jpeg", "jpg"),
    (b"WEBP", 8, "image/webp", "webp"),
    (b"GIF87a", 0, "image/gif", "gif"),
    (b"GIF89a", 0, "image/gif", "gif"),
)
_UNKNOWN = ("application/octet-stream", "bin")


def sniff_image_type(head: bytes) -> tuple[str, str]:
    """The (content type, extension) of a file from its first 16 bytes"""
    for magic, offset, content_type, extension in _SIGNATURES:
        if head[offset : offset + len(magic)] == magic and (offset == 0 or head[:4] == b"RIFF"):
            return content_type, extension
    return _UNKNOWN


def _peek(payload: FileContent) -> bytes:
    if isinstance(payload, bytes):
        return payload[:16]
    if isinstance(payload, str):
        return payload[:16].encode()
    try:
        position = payload.tell()
        head = payload.read(16)
        payload.seek(position)
    except (AttributeError, OSError, ValueError):
        return b""  # not seekable: the type cannot be sniffed without consuming it
    return head if isinstance(head, bytes) else b""


@define
class File:
    """Contains information for file uploads"""

    payload: BinaryIO
    file_name: str | None = None
    mime_type: str | None = None

    def to_tuple(self) -> FileTypes:
        """Return a tuple representation that httpx will accept for multipart/form-data"""
        if self.file_name is not None and self.mime_type is not None:
            return self.file_name, self.payload, self.mime_type
        sniffed_type, extension = sniff_image_type(_peek(self.payload))
        file_name = self.file_name if self.file_name is not None else f"upload.{extension}"
        mime_type = self.mime_type
        if mime_type is None:
            guessed = mimetypes.guess_type(file_name)[0] if sniffed_type == _UNKNOWN[0] else None
            mime_type = guessed or sniffed_type
        return file_name, self.payload, mime_type


def form_field(name: str, value: object) -> RequestFiles:
    """The form part of an untyped field: strings as they are, None left out, other values
    as JSON writes them (true, 3, [1, 2])"""
    if value is None:
        return []
    if isinstance(value, bytes):
        text = value
    elif isinstance(value, str):
        text = value.encode()
    else:
        text = json.dumps(value).encode()
    return [(name, (None, text, "text/plain"))]


def http_status(code: int) -> HTTPStatus | int:
    """The HTTPStatus for `code`, or `code` itself when it is not a standard status (520)"""
    try:
        return HTTPStatus(code)
    except ValueError:
        return code


T = TypeVar("T")


@define
class Response(Generic[T]):
    """A response from an endpoint"""

    status_code: HTTPStatus | int
    content: bytes
    headers: MutableMapping[str, str]
    parsed: T | None


__all__ = [
    "UNSET",
    "File",
    "FileTypes",
    "RequestFiles",
    "Response",
    "Unset",
    "form_field",
    "http_status",
    "sniff_image_type",
]
