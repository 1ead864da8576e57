"""The findings a comparison collects, and the words of their impact."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._common import Change, Impact, _Direction, _Kind
from ._words import _plain, _text

# ---- findings -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Finding:
    """A change, worded both for a diff and for a comparison with the official spec."""

    kind: _Kind
    impact: Impact
    where: str
    what: str
    subject: str
    """What was added or removed ("enum value 'hd'"), or the aspect that changed ("maximum")."""
    old: Any = None
    new: Any = None
    old_text: str = ""
    new_text: str = ""

    def change(self) -> Change:
        return Change(self.impact, self.where, self.what, _plain(self.old), _plain(self.new))

    def compared(self) -> Change:
        if self.kind == "changed":
            what = f"{self.subject}: official {self.old_text}, ours {self.new_text}"
        else:
            what = self.subject
        return Change(self.impact, self.where, what, _plain(self.old), _plain(self.new))


class _Report:
    """Collects findings in the order they are found."""

    def __init__(self) -> None:
        self.found: list[_Finding] = []

    def added(self, impact: Impact, where: str, subject: str, *, detail: str = "", new: Any = None) -> None:
        suffix = f" ({detail})" if detail else ""
        self.found.append(
            _Finding("added", impact, where, f"{subject} added{suffix}", subject + suffix, new=new)
        )

    def removed(self, impact: Impact, where: str, subject: str, *, detail: str = "", old: Any = None) -> None:
        suffix = f" ({detail})" if detail else ""
        self.found.append(
            _Finding("removed", impact, where, f"{subject} removed{suffix}", subject + suffix, old=old)
        )

    def changed(self, impact: Impact, where: str, aspect: str, what: str, old: Any, new: Any) -> None:
        self.found.append(_Finding("changed", impact, where, what, aspect, old, new, _text(old), _text(new)))

    def texts(self, impact: Impact, where: str, aspect: str, what: str, old: str, new: str) -> None:
        """A change whose values are best shown as prepared phrases ("yes"/"no", "any")."""
        self.found.append(_Finding("changed", impact, where, what, aspect, old, new, old, new))


def _narrowing(direction: _Direction) -> Impact:
    return "client" if direction == "request" else "server"


def _widening(direction: _Direction) -> Impact:
    return "server" if direction == "request" else "client"
