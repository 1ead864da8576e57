"""Images served by URL: files in the shared store (storage.py), served until they expire.

Every worker answers for every image (they share the store), and a restarted server keeps
serving the images of its data directory. The store's byte bound may force the oldest images out
before they expire; that is logged (see storage.py for the rule).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from .storage import Bucket

BUCKET = "images"
CONTENT_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}


@dataclass(frozen=True)
class StoredImage:
    data: bytes
    content_type: str
    expires_at: float
    """Wall-clock time (seconds since the epoch) after which it is not served."""


class ImageStore:
    """Unguessable names for image bytes, kept for `ttl_s` seconds in a bounded bucket."""

    def __init__(self, bucket: Bucket, ttl_s: float) -> None:
        self._bucket = bucket
        self._ttl_s = ttl_s

    @property
    def bucket(self) -> Bucket:
        return self._bucket

    def put(self, data: bytes, output_format: str) -> str:
        """Keep `data` and return its file name (e.g. `img-<random>.png`); StoreFull if it is
        larger than the whole store."""
        name = f"img-{secrets.token_urlsafe(18)}.{output_format}"
        self._bucket.put(name, data, content_type=CONTENT_TYPES[output_format], ttl_s=self._ttl_s)
        return name

    def get(self, name: str) -> StoredImage | None:
        """The image called `name`, or None when unknown or expired."""
        entry = self._bucket.get(name)
        if entry is None:
            return None
        data = self._bucket.read(entry)
        if data is None:
            return None
        return StoredImage(data, entry.content_type, entry.expires_at)
