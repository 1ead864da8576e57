"""A clear error when a part of imagegen is used without the extra that brings its dependencies."""

from __future__ import annotations

import importlib.util


def require(extra: str, *modules: str) -> None:
    """Raise ImportError naming the extra to install when any of `modules` is missing."""
    missing = [name for name in modules if importlib.util.find_spec(name) is None]
    if missing:
        raise ImportError(
            f"imagegen.{extra} needs the {extra!r} extra ({', '.join(missing)} not installed): "
            f"pip install 'imagegen[{extra}]'",
            name=missing[0],
        )
