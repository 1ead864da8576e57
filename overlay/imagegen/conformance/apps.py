"""Find the ASGI application to test in-process, from `module:attribute` (as uvicorn names it).

    load_app("myserver.main:app")                   # the attribute is the application
    load_app("myserver.main:create_app", factory=True)  # called with no arguments to make it

The current directory is importable, as it is for uvicorn, so `--app main:app` works from a
project's folder. Errors say what to write instead.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any


class AppError(ValueError):
    """The application cannot be found or made; the message says why."""


def load_app(spec: str, *, factory: bool = False) -> Any:
    """The ASGI application named by `spec` ("module:attribute", the attribute may be dotted)."""
    module_name, colon, attribute = spec.partition(":")
    if not colon or not module_name or not attribute:
        raise AppError(f"--app takes MODULE:ATTRIBUTE, e.g. myserver.main:app; got {spec!r}")
    here = str(Path.cwd())
    if here not in sys.path:
        sys.path.insert(0, here)
    try:
        target: Any = importlib.import_module(module_name)
    except ImportError as error:
        raise AppError(f"cannot import {module_name!r} (from {here}): {error}") from None
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise AppError(f"{module_name} has no attribute {attribute!r}") from None
    if factory:
        if not callable(target):
            raise AppError(f"{spec} is not callable, so it cannot be a factory (leave out --factory)")
        target = target()
    if not callable(target):
        raise AppError(f"{spec} is not an ASGI application (not callable); give --factory if it makes one")
    return target


__all__ = ["AppError", "load_app"]
