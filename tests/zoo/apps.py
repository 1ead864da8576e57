"""Zoo servers as module attributes, the way `imagegen conformance --app MODULE:ATTR` finds them."""

from __future__ import annotations

from starlette.types import ASGIApp

from .defects import ZOO, _reference

reference: ASGIApp = _reference()


def broken() -> ASGIApp:
    """A factory (for --factory): the zoo server whose image URLs serve an HTML page."""
    return ZOO["url-html"].app_factory()
