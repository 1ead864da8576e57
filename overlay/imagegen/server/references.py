"""The images a JSON edit refers to: data: URLs, files uploaded here, and (if allowed) URLs.

- `data:image/...;base64,...`: decoded.
- `{"file_id": ...}`: a file of the caller's, uploaded through /v1/files (an image).
- `https://...`, and `http://` on loopback only: fetched only when the server was started with
  `--allow-url-fetch` (a reference server has no business reaching out otherwise), with a timeout,
  at most `max_bytes`, and no redirects (a redirect could lead anywhere the rule forbids).
  Without the flag the answer is a 400 saying so.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..contract import FormFile
from .errors import invalid
from .files import FileStore
from .intake import data_url

FETCH_TIMEOUT_S = 10.0
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})


@dataclass(frozen=True)
class ReferenceResolver:
    """Resolves the references of one caller's request (called in the pool's threads)."""

    files: FileStore
    owner: str
    allow_fetch: bool
    max_bytes: int

    def __call__(self, reference: Mapping[str, str], field: str) -> FormFile:
        if "file_id" in reference:
            return self._file(str(reference["file_id"]), field)
        url = str(reference.get("image_url", ""))
        if url.startswith("data:"):
            return data_url(url, field)
        return self._fetched(url, field)

    def _file(self, file_id: str, field: str) -> FormFile:
        entry = self.files.find(self.owner, file_id)
        data = self.files.bucket.read(entry) if entry is not None else None
        if entry is None or data is None:
            raise invalid(
                f"No file with id '{file_id}' exists (upload it with POST /v1/files first).",
                param=f"{field}.file_id",
                code="file_not_found",
            )
        return FormFile(field, str(entry.meta.get("filename") or None), entry.content_type or None, data)

    def _fetched(self, url: str, field: str) -> FormFile:
        param = f"{field}.image_url"
        if not self.allow_fetch:
            raise invalid(
                "This server does not fetch image URLs (start it with --allow-url-fetch to let it); give "
                "the image as a base64 data: URL, by the file_id of an upload, or upload it as multipart.",
                param=param,
                code="url_fetch_disabled",
            )
        problem = fetch_problem(url)
        if problem is not None:
            raise invalid(f"The image URL cannot be fetched: {problem}.", param=param, code="url_not_allowed")
        import httpx

        try:
            with httpx.stream("GET", url, timeout=FETCH_TIMEOUT_S, follow_redirects=False) as answer:
                if answer.status_code != 200:
                    raise invalid(f"Fetching the image URL answered {answer.status_code}.", param=param)
                chunks, total = [], 0
                for chunk in answer.iter_bytes():
                    total += len(chunk)
                    if total > self.max_bytes:
                        raise invalid(
                            f"The image at the URL is larger than this server's {self.max_bytes} bytes.",
                            param=param,
                        )
                    chunks.append(chunk)
                kind = answer.headers.get("content-type", "").split(";")[0] or None
        except httpx.HTTPError as error:
            raise invalid(
                f"The image URL could not be fetched ({type(error).__name__}).", param=param
            ) from None
        return FormFile(field, urlsplit(url).path.rsplit("/", 1)[-1] or None, kind, b"".join(chunks))


def fetch_problem(url: str) -> str | None:
    """Why `url` may not be fetched (https anywhere, http on loopback only), or None."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        return "only http(s) URLs are fetched"
    if parts.username or parts.password:
        return "a URL with credentials is not fetched"
    if parts.scheme == "http" and not _loopback(host):
        return "plain http is fetched from loopback (127.0.0.1, localhost) only; use https"
    return None


def _loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
