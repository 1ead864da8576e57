"""Images served by URL: kept in memory until they expire or space runs out (oldest first)."""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

CONTENT_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}


@dataclass(frozen=True)
class StoredImage:
    data: bytes
    content_type: str
    expires_at: float


class ImageStore:
    """A bounded, expiring map from unguessable names to image bytes."""

    def __init__(self, ttl_s: float, max_bytes: int) -> None:
        self._ttl_s = ttl_s
        self._max_bytes = max_bytes
        self._items: OrderedDict[str, StoredImage] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def put(self, data: bytes, output_format: str) -> str:
        """Keep `data` and return its file name (e.g. `img-<random>.png`)."""
        name = f"img-{secrets.token_urlsafe(18)}.{output_format}"
        item = StoredImage(data, CONTENT_TYPES[output_format], time.monotonic() + self._ttl_s)
        with self._lock:
            self._items[name] = item
            self._bytes += len(data)
            while self._bytes > self._max_bytes and len(self._items) > 1:
                _, dropped = self._items.popitem(last=False)
                self._bytes -= len(dropped.data)
        return name

    def get(self, name: str) -> StoredImage | None:
        """The image called `name`, or None when unknown or expired."""
        with self._lock:
            item = self._items.get(name)
            if item is None:
                return None
            if item.expires_at <= time.monotonic():
                del self._items[name]
                self._bytes -= len(item.data)
                return None
            return item
