"""The keyword arguments of the client's methods: the contract's fields plus per-call options.

The fields of each operation are generated from the contract (`imagegen.params`); the options
are the client's own. At run time an unknown keyword is a TypeError naming the closest one, so
a misspelled field is never sent silently; a field the contract does not know yet goes in
`extra_body={...}`.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypedDict

from .params import CreateImageEditFields, CreateImageFields, CreateImageVariationFields

if TYPE_CHECKING:
    import httpx


class CallOptions(TypedDict, total=False):
    """Options of one call, besides the request's fields."""

    timeout: float | httpx.Timeout | None
    """Seconds (or an httpx.Timeout) for this call instead of the client's timeout."""
    max_retries: int
    """Retries for this call instead of the client's max_retries."""
    extra_headers: Mapping[str, str]
    """Headers to add to this request."""
    extra_query: Mapping[str, str]
    """Query parameters to add to this request (over the client's default_query)."""
    extra_body: Mapping[str, Any]
    """Fields to send that the contract does not list (they override listed ones of the same name)."""
    idempotency_key: str
    """The Idempotency-Key to send (by default a new random one per call, kept across its retries)."""
    raw_response: bool
    """Keep the answer's bytes in result.response.content."""


class GenerateArguments(CreateImageFields, CallOptions, total=False):
    """What `generate` takes besides the prompt."""


class EditArguments(CreateImageEditFields, CallOptions, total=False):
    """What `edit` takes besides the images, the prompt and the mask."""


class VaryArguments(CreateImageVariationFields, CallOptions, total=False):
    """What `vary` takes besides the image."""


# The one place a client method is bound to an operation of the contract (by its operationId).
OPERATION_OF = {"generate": "createImage", "edit": "createImageEdit", "vary": "createImageVariation"}
OPTION_NAMES = frozenset(CallOptions.__optional_keys__)


def split_arguments(
    method: str, arguments: Mapping[str, Any], accepted: frozenset[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(call options, request fields) of `arguments`; TypeError for a keyword in neither."""
    options: dict[str, Any] = {}
    fields: dict[str, Any] = {}
    for name, value in arguments.items():
        if name in OPTION_NAMES:
            options[name] = value
        elif name in accepted:
            fields[name] = value
        else:
            raise TypeError(unknown_keyword(method, name, accepted | OPTION_NAMES))
    return options, fields


def unknown_keyword(method: str, name: str, known: frozenset[str]) -> str:
    """The message for an unexpected keyword: the closest known one, and extra_body."""
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return (
        f"{method}() got an unexpected keyword argument {name!r}.{hint} To send a field the contract "
        f"does not list, pass extra_body={{{name!r}: ...}}."
    )


def fields_of(arguments: type) -> frozenset[str]:
    """The request fields of one of the TypedDicts above (without the call options)."""
    return frozenset(getattr(arguments, "__optional_keys__", frozenset())) - OPTION_NAMES


GENERATE_FIELDS = fields_of(GenerateArguments)
EDIT_FIELDS = fields_of(EditArguments)
VARY_FIELDS = fields_of(VaryArguments)
