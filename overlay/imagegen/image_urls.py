"""The forms an image's `url` takes in answers, and what the client does with each.

- `http(s)://...`: downloaded by the client (the key only to the API's own origin).
- `data:image/png;base64,...` (openedai-images in front of SD WebUI answers so): decoded here,
  never fetched and never quoted in a message (it is the whole image).
- `file:///...` or a bare path (Xinference's default `url` is a file on the server's disk):
  refused, since that file is on another machine, unless the client was made with
  `allow_local_paths=True` for a server on the same machine; then the file is read.
- anything else (`s3://`, `ftp://`): refused with the scheme named.

Nothing here is sent over the network, so nothing of it is retried.
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, unquote_to_bytes, urlsplit

from .errors import InvalidImageDataError, InvalidResponseError

UrlKind = Literal["http", "data", "local", "other"]


def url_kind(url: str) -> UrlKind:
    """Which of the forms above `url` is."""
    head = url[:12].lower()
    if head.startswith(("http://", "https://")):
        return "http"
    if head.startswith("data:"):
        return "data"
    if head.startswith("file:") or url.startswith(("/", "./", "../", "~")) or _windows_path(url):
        return "local"
    if "://" not in url[:32]:
        return "local"  # "outputs/image.png": a path relative to wherever the server runs
    return "other"


def shown_url(url: str) -> str:
    """`url` as messages and reprs show it: a data URL by its media type and length only."""
    if url_kind(url) == "data":
        media = url[5:].split(",", 1)[0].split(";", 1)[0] or "text/plain"
        return f"<data:{media} URL, {len(url)} characters>"
    return url


def decode_data_url(url: str, index: int) -> bytes:
    """The bytes of a `data:` URL (RFC 2397), or InvalidImageDataError that does not quote it."""
    header, comma, payload = url[5:].partition(",")
    if not comma:
        raise InvalidImageDataError(
            f"image {index} of the answer is a data: URL without a comma before its data"
        )
    if header.lower().endswith(";base64"):
        try:
            return base64.b64decode(unquote(payload).strip(), validate=True)
        except (binascii.Error, ValueError):
            raise InvalidImageDataError(
                f"image {index} of the answer is a data: URL whose base64 cannot be decoded"
            ) from None
    return unquote_to_bytes(payload)


def read_local(url: str, index: int, *, allowed: bool) -> bytes:
    """The file a `file://` URL or path names, if the client allows local paths."""
    path = local_path(url)
    if not allowed:
        raise InvalidResponseError(
            f"image {index} of the answer is a path on the server's own disk ({path}), not a URL this "
            "client can download; ask the server for response_format='b64_json', or, if the server "
            "runs on this machine, make the client with allow_local_paths=True"
        )
    try:
        return path.read_bytes()
    except OSError as error:
        raise InvalidResponseError(
            f"image {index} of the answer is the local file {path}, which cannot be read: {error.strerror}"
        ) from None


def refuse_other(url: str, index: int) -> InvalidResponseError:
    """The error for a URL of a scheme the client cannot download."""
    scheme = url.split(":", 1)[0]
    return InvalidResponseError(
        f"image {index} of the answer has a {scheme}: URL, which this client cannot download; "
        "ask the server for response_format='b64_json' or an http(s) URL"
    )


def local_path(url: str) -> Path:
    """The path of a `file:` URL or a bare path."""
    if url[:5].lower() == "file:":
        parts = urlsplit(url)
        return Path(unquote(parts.path))
    return Path(url).expanduser()


def _windows_path(url: str) -> bool:
    return len(url) > 2 and url[0].isalpha() and url[1] == ":" and url[2] in "\\/"
