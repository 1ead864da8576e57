"""The impacts and the constants every part of the comparison shares."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Impact = Literal["client", "server", "compatible"]
FailOn = Literal["client", "server", "any"]
_Kind = Literal["added", "removed", "changed"]
_Direction = Literal["request", "response"]

IMPACTS: tuple[Impact, ...] = ("client", "server", "compatible")
EVENT_STREAM = "text/event-stream"
MAX_DEPTH = 8
_STATUS = "\x00"  # stands for the status code in `where` until answers of several statuses are merged
_METHODS = frozenset({"GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE"})
_HEADINGS = {
    "client": "Breaking for clients",
    "server": "Breaking for servers",
    "compatible": "Compatible",
}


@dataclass(frozen=True)
class Change:
    """One difference between two contracts, and whom it breaks."""

    impact: Impact
    where: str
    """The operation, media type and field path, e.g. "POST /images/generations application/json:
    quality", or the model rule, e.g. "model dall-e-3: fields.n"."""
    what: str
    """The change in words, e.g. "enum value 'hd' removed"."""
    old: Any = None
    new: Any = None

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


@dataclass(frozen=True)
class Comparison:
    """Our contract against the official spec (each change's `old` is the official's, `new` ours)."""

    ours_lacks: list[Change]
    """What the official has and ours does not: operations, media types, fields, enum values, and
    models it names for an operation that our rules do not cover for that operation."""
    official_lacks: list[Change]
    """What ours has and the official does not."""
    differs: list[Change]
    """What both have, differently: bounds, required-ness, types, nullability, listed values."""
