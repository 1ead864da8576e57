"""What a run created on the server, removed when it ends.

A successful create (a POST to a collection answered 200 with an `id`) leaves an object behind
(a file uploaded with purpose `vision` stays in the account until deleted). When the contract has
a DELETE on that collection's item path, the run deletes each one it made at the end; what it
could not delete (no time left, an error) is named in a note, so nothing stays behind unsaid.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any

import requests

from ..contract import Contract
from .session import Http, RunStopped

MAX_KEPT = 1000  # more than any run makes; a bound all the same


@dataclass
class Leftovers:
    """The item URLs (relative to the API root) of objects the run created and can delete."""

    contract: Contract
    made: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _items: dict[str, str] = field(init=False)
    """Collection path -> the path of its items that has a DELETE (`/files` -> `/files/{file_id}`)."""

    def __post_init__(self) -> None:
        deletes = [op.path for op in self.contract.operations if op.method == "DELETE"]
        self._items = {
            op.path: item
            for op in self.contract.operations
            if op.method == "POST"
            for item in deletes
            if re.fullmatch(re.escape(op.path) + r"/\{[^}/]+\}", item)
        }

    def after_call(self, case: Any, response: Any) -> None:
        """Keep the item path of what a 200 answer to a create says it made."""
        item = self._items.get(case.operation.path) if case.operation.method.upper() == "POST" else None
        if item is None or getattr(response, "status_code", None) != 200:
            return
        try:
            answer = response.json()
        except ValueError:
            return
        made_id = answer.get("id") if isinstance(answer, dict) else None
        if isinstance(made_id, str) and made_id and "/" not in made_id:
            with self._lock:
                if len(self.made) < MAX_KEPT:
                    self.made.append(re.sub(r"\{[^}]+\}", made_id, item, count=1))

    def remove(self, http: Http, headers: dict[str, str]) -> str | None:
        """Delete what was made; a note naming what is left, or None when nothing is."""
        with self._lock:
            made, self.made = self.made, []
        left = []
        for item in made:
            try:
                answer = http.request("DELETE", http.root + item, headers=headers)
            except (RunStopped, requests.RequestException):
                left.append(item)
                continue
            if answer.status_code not in (200, 204, 404):
                left.append(item)
        if not left:
            return None
        shown = ", ".join(left[:5]) + (f" and {len(left) - 5} more" if len(left) > 5 else "")
        return f"the run created {len(left)} object(s) it could not delete afterwards: {shown}"


__all__ = ["Leftovers"]
