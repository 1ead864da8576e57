"""Idempotency keys: a repeated request with the same key, within the window, gets the first
answer again instead of a second generation.

Requests are matched by what they ask for (the parsed body, not its bytes, since a multipart
boundary changes on every retry); the same key with a different request is a 409.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from .errors import ApiError

MAX_KEYS = 4096


@dataclass(frozen=True)
class Remembered:
    """A successful answer kept for replay."""

    fingerprint: str
    status: int
    body: bytes
    media_type: str
    expires_at: float


class IdempotencyCache:
    """Answers by (token, operation, key), for `window_s` seconds, at most MAX_KEYS of them."""

    def __init__(self, window_s: float) -> None:
        self._window_s = window_s
        self._answers: OrderedDict[tuple[str, str, str], Remembered] = OrderedDict()
        self._lock = threading.Lock()

    def replay(self, scope: tuple[str, str, str], fingerprint: str) -> Remembered | None:
        """The remembered answer for this key, None if there is none; a 409 if the request differs."""
        with self._lock:
            found = self._answers.get(scope)
            if found is None:
                return None
            if found.expires_at <= time.monotonic():
                del self._answers[scope]
                return None
        if found.fingerprint != fingerprint:
            raise ApiError(
                409,
                "This Idempotency-Key was already used for a different request; use a new key.",
                param="Idempotency-Key",
                code="idempotency_key_reused",
            )
        return found

    def remember(
        self, scope: tuple[str, str, str], fingerprint: str, status: int, body: bytes, media_type: str
    ) -> None:
        """Keep a successful answer for replay."""
        with self._lock:
            self._answers[scope] = Remembered(
                fingerprint, status, body, media_type, time.monotonic() + self._window_s
            )
            self._answers.move_to_end(scope)
            while len(self._answers) > MAX_KEYS:
                self._answers.popitem(last=False)
