"""What to generate: the prompt and the request fields, the seed's GetImageDescriptionStructure.

`describe` takes the seed's arguments in the seed's order (prompt, count, background, size),
then any further request field by name:

    >>> describe("Yellow alpaca", 1, None, "64x64")
    ImageDescription(prompt='Yellow alpaca', n=1, size='64x64')
    >>> describe("Yellow alpaca", size="1024x1024", quality="high").to_body()
    {'prompt': 'Yellow alpaca', 'n': 1, 'size': '1024x1024', 'quality': 'high'}

`as_description` reads what the seed's command line takes as `--descr`: a mapping, JSON text
(single quotes allowed) or a path to a .json file. The seed sends numbers as strings; they
become numbers:

    >>> as_description("{'prompt':'Yellow alpaca','n':'1','size':'1024x1024'}")
    ImageDescription(prompt='Yellow alpaca', n=1, size='1024x1024')

Values are checked only as far as this module knows them (a prompt, a positive `n`, strings
for `background` and `size`); whether a model takes them is for the model rules and the server.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from .relaxed_json import load_json_file, load_json_or_file

__all__ = ["ImageDescription", "as_description", "describe", "fields_of_kind"]

_NAMED = ("prompt", "n", "background", "size")
_FIELDS = frozenset({*_NAMED, "extra"})
_DIGITS = re.compile(r"[0-9]+")
_EXAMPLES = {"background": "'transparent'", "size": "'1024x1024'"}


@functools.cache
def fields_of_kind(kind: str) -> frozenset[str]:
    """The request fields (of any operation of the contract) that hold values of JSON type `kind`:
    "integer" ones (n, output_compression, ...), "boolean" ones (stream), ..."""
    from .contract import default_contract

    contract = default_contract()
    return frozenset(
        field.name
        for operation in contract.operations
        for field in contract.request_fields(operation)
        if field.kind == kind
    )


def _no_extra() -> Mapping[str, Any]:
    return MappingProxyType({})


@dataclass(frozen=True, repr=False)
class ImageDescription:
    """The prompt and the other fields of an image request; immutable, comparable, hashable.

    `n` is how many images (None leaves it to the server), `extra` any further request field
    (`quality`, `output_format`, `style`, ...), read-only. Build one with `describe`, or from
    a request body with `from_body`:

        >>> alpaca = ImageDescription("Yellow alpaca", size="64x64", extra={"quality": "high"})
        >>> alpaca
        ImageDescription(prompt='Yellow alpaca', n=1, size='64x64', extra={'quality': 'high'})
        >>> alpaca.replace(n=2, style="vivid").to_body()
        {'prompt': 'Yellow alpaca', 'n': 2, 'size': '64x64', 'quality': 'high', 'style': 'vivid'}

    A wrong value raises ValueError saying which field and why; `extra` that is not a mapping
    raises TypeError. `extra` is copied, so changing the mapping given later changes nothing;
    values inside it (a list, say) are not copied. Hashing freezes dicts, lists and sets found in
    `extra`; any other unhashable value there makes `hash()` raise TypeError.
    """

    prompt: str
    n: int | None = 1
    background: str | None = None
    size: str | None = None
    extra: Mapping[str, Any] = field(default_factory=_no_extra)

    def __post_init__(self) -> None:
        _check_prompt(self.prompt)
        _check_count(self.n)
        for name in ("background", "size"):
            _check_text(name, getattr(self, name))
        object.__setattr__(self, "extra", _read_only(self.extra))

    def to_body(self) -> dict[str, Any]:
        """The request body's fields: prompt, n, background, size, then `extra`.

        A field that is None is left out. `extra` comes last and wins: a key there replaces the
        named field of the same name (and None there removes it).

            >>> describe("Yellow alpaca", None, size="64x64").to_body()
            {'prompt': 'Yellow alpaca', 'size': '64x64'}
        """
        merged: dict[str, Any] = {name: getattr(self, name) for name in _NAMED}
        merged.update(self.extra)
        return {key: value for key, value in merged.items() if value is not None}

    def to_json(self, **json_kwargs: Any) -> str:
        """`to_body()` as JSON text; `json_kwargs` go to json.dumps (non-ASCII kept as is by default).

        >>> describe("Yellow alpaca", size="64x64").to_json()
        '{"prompt": "Yellow alpaca", "n": 1, "size": "64x64"}'
        """
        return json.dumps(self.to_body(), **{"ensure_ascii": False, **json_kwargs})

    def replace(self, **changes: Any) -> ImageDescription:
        """A copy with `changes`: named fields are replaced, other names are set in `extra`.

        An other name given None is removed from `extra`; `extra=` replaces it whole.

            >>> describe("Yellow alpaca", quality="high").replace(n=None, quality=None, style="vivid")
            ImageDescription(prompt='Yellow alpaca', n=None, extra={'style': 'vivid'})
        """
        named = {key: value for key, value in changes.items() if key in _FIELDS}
        others = {key: value for key, value in changes.items() if key not in _FIELDS}
        if others:
            extra = dict(named.get("extra", self.extra))
            for key, value in others.items():
                if value is None:
                    extra.pop(key, None)
                else:
                    extra[key] = value
            named["extra"] = extra
        return dataclasses.replace(self, **named)

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> ImageDescription:
        """The description of a request body: the inverse of `to_body`.

        Fields missing from `body` stay unset (n is None, not 1). Strings of decimal digits in
        fields the contract types as integers become integers, "true"/"false" in boolean ones
        booleans; every other
        value is kept as given. TypeError if `body` is not a mapping, ValueError if it has no
        usable prompt or a wrong value.

            >>> ImageDescription.from_body({"prompt": "Yellow alpaca", "n": "2", "stream": "True"})
            ImageDescription(prompt='Yellow alpaca', n=2, extra={'stream': True})
        """
        if not isinstance(body, Mapping):
            raise TypeError(f"a description must be a mapping of request fields, not {type(body).__name__}")
        fields = {key: _coerce(key, value) for key, value in body.items()}
        if "prompt" not in fields:
            raise ValueError(_no_prompt_message(fields))
        prompt, n, background, size = (fields.pop(name, None) for name in _NAMED)
        return cls(prompt, n, background, size, fields)

    def __repr__(self) -> str:
        """The prompt, n, the other fields that are set and extra, as a call that builds the same."""
        shown = [f"prompt={self.prompt!r}", f"n={self.n!r}"]
        shown += [
            f"{name}={getattr(self, name)!r}"
            for name in ("background", "size")
            if getattr(self, name) is not None
        ]
        if self.extra:
            shown.append(f"extra={dict(self.extra)!r}")
        return f"{type(self).__name__}({', '.join(shown)})"

    def __hash__(self) -> int:
        return hash((self.prompt, self.n, self.background, self.size, _frozen(self.extra)))

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle and copy through the constructor (a read-only mapping cannot be pickled)."""
        return (type(self), (self.prompt, self.n, self.background, self.size, dict(self.extra)))


def describe(
    prompt: str,
    n: int | None = 1,
    background: str | None = None,
    size: str | None = None,
    **extra: Any,
) -> ImageDescription:
    """The seed's GetImageDescriptionStructure(prompt, count, background, size, ...) in Python.

    Further request fields go by name; one given None is left out.

        >>> describe("Yellow alpaca", 1, None, "64x64", output_format="webp")
        ImageDescription(prompt='Yellow alpaca', n=1, size='64x64', extra={'output_format': 'webp'})
    """
    fields = {key: value for key, value in extra.items() if value is not None}
    return ImageDescription(prompt, n, background, size, fields)


def as_description(
    value: ImageDescription | Mapping[str, Any] | str | os.PathLike[str],
    *,
    what: str = "description",
) -> ImageDescription:
    """A description from what a caller or a command line gives.

    `value` is a description (returned as is), a mapping of request fields (`from_body`), JSON
    text, strict or with single quotes, or a path to a JSON file (a string naming an existing
    file, or a path object). `what` names the input in errors, e.g. "--descr". JSON errors
    are `relaxed_json.JsonInputError` (a ValueError) naming line and column; TypeError if
    `value` is none of these types.

        >>> as_description({"prompt": "Yellow alpaca", "n": 1, "size": "1024x1024"})
        ImageDescription(prompt='Yellow alpaca', n=1, size='1024x1024')
    """
    if isinstance(value, ImageDescription):
        return value
    if isinstance(value, Mapping):
        return ImageDescription.from_body(value)
    if isinstance(value, str):
        data = load_json_or_file(value, what=what)
    elif isinstance(value, os.PathLike):
        data = load_json_file(value, what=what)
    else:
        raise TypeError(
            "a description is an ImageDescription, a mapping of request fields, JSON text or the "
            f"path of a JSON file, not {type(value).__name__}"
        )
    if not isinstance(data, Mapping):
        raise ValueError(
            f"{what} must be a JSON object such as {{'prompt': 'Yellow alpaca'}}, not {_json_kind(data)}"
        )
    return ImageDescription.from_body(data)


def _coerce(key: str, value: Any) -> Any:
    """The seed's strings for numbers and booleans ('n': '1') as numbers and booleans."""
    if not isinstance(value, str):
        return value
    if key in fields_of_kind("integer") and _DIGITS.fullmatch(value):
        return int(value)
    if key in fields_of_kind("boolean") and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


def _check_prompt(prompt: Any) -> None:
    if not isinstance(prompt, str):
        raise ValueError(f"prompt must be a string (the text of the images), not {_shown(prompt)}")
    if not prompt.strip():
        raise ValueError("prompt must not be empty: give the text of the images to generate")


def _check_count(n: Any) -> None:
    if n is None:
        return
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer (how many images to generate), not {_shown(n)}")


def _check_text(name: str, value: Any) -> None:
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{name} must be a string such as {_EXAMPLES[name]}, not {_shown(value)}")


def _read_only(extra: Any) -> Mapping[str, Any]:
    """A read-only copy of `extra`, after checking it is a mapping with string keys."""
    if not isinstance(extra, Mapping):
        raise TypeError(f"extra must be a mapping of request fields, not {type(extra).__name__}")
    copied = dict(extra)
    for key in copied:
        if not isinstance(key, str):
            raise ValueError(f"request field names must be strings, not {_shown(key)}")
    return MappingProxyType(copied)


def _no_prompt_message(fields: Mapping[Any, Any]) -> str:
    message = "the description has no prompt: give the text of the images to generate"
    near = [key for key in fields if isinstance(key, str) and key.strip().lower() == "prompt"]
    if near:
        return f"{message} (it has {near[0]!r}: did you mean 'prompt'?)"
    if fields:
        return f"{message} (it has {', '.join(repr(key) for key in fields)})"
    return message


def _frozen(value: Any) -> Any:
    """A hashable view of a JSON-like value: mappings, lists and sets frozen, recursively."""
    if isinstance(value, Mapping):
        return frozenset((key, _frozen(item)) for key, item in value.items())
    if isinstance(value, list | tuple):
        return tuple(_frozen(item) for item in value)
    if isinstance(value, set | frozenset):
        return frozenset(_frozen(item) for item in value)
    return value


def _shown(value: Any, limit: int = 60) -> str:
    """`value` as it would be written, cut short, with its type when that alone is unclear."""
    text = repr(value)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    if isinstance(value, str | int | float) or value is None:
        return text
    return f"{type(value).__name__} {text}"


def _json_kind(value: Any) -> str:
    """What a parsed JSON value is, in JSON's words."""
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    return "a number"
