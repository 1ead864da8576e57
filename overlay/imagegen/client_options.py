"""A client's settings, read from the arguments and the environment, checked when given.

Every setting a client has is in `ClientOptions`; `with_options(...)` replaces some of them.
Bad settings are a ConfigurationError at construction, saying what was wrong and never quoting a
key: a base URL that is not http(s), a key or header HTTP cannot carry, a timeout of 0.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from .contract import Contract
from .errors import ConfigurationError
from .masking import key_problem, mask

DEFAULT_BASE_URL = "https://api.openai.com/v1"
# Generous on reading: a high-quality image can take minutes to make.
DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=600.0, write=120.0, pool=30.0)
DEFAULT_MAX_RETRIES = 2
AUTHORIZATION = "Authorization"
TimeoutTypes = float | httpx.Timeout | None
AuthHeader = str | Callable[[], Mapping[str, str]]
"""The header that carries the key (`"Authorization"` as `Bearer KEY`, any other name as the bare
key, e.g. Azure's `"api-key"`), or a function called before every request that returns the
authentication headers (for tokens that expire)."""


class Routes(Protocol):
    """How a request's path becomes a URL, for servers that route otherwise (Azure deployments)."""

    def url(self, base_url: str, path: str, model: str | None) -> str:
        """The URL of `path` (e.g. /images/generations) for a request of `model`."""
        ...


@dataclass(frozen=True)
class ClientOptions:
    """A client's settings; every one can be overridden with `with_options(...)`."""

    base_url: str
    api_key: str | None = field(default=None, repr=False)
    organization: str | None = None
    project: str | None = None
    default_headers: Mapping[str, str] = field(default_factory=dict)
    default_query: Mapping[str, str] = field(default_factory=dict)
    """Query parameters of every request (e.g. Azure's `{"api-version": ...}`)."""
    auth_header: AuthHeader = field(default=AUTHORIZATION, repr=False)
    timeout: TimeoutTypes = field(default_factory=lambda: DEFAULT_TIMEOUT)
    max_retries: int = DEFAULT_MAX_RETRIES
    proxy: str | None = None
    verify: bool | str | ssl.SSLContext = True
    check_rules: bool = True
    allow_local_paths: bool = False
    """Read an answer's `file://` URLs and paths from this machine's disk (a server on the same
    machine); by default they are refused, since the file is on the server's disk."""
    contract: Contract | None = field(default=None, repr=False)
    """The contract to follow (default: the packaged one, which the client was generated from)."""
    routes: Routes | None = field(default=None, repr=False)
    """How paths become URLs when not `base_url + path` (set by AzureImagesClient)."""


def tls(verify: bool | str | ssl.SSLContext) -> bool | ssl.SSLContext:
    """httpx's `verify`: a CA bundle path becomes an SSL context (httpx 0.28 deprecates paths)."""
    if isinstance(verify, str):
        if not os.path.exists(verify):
            raise FileNotFoundError(f"verify={verify!r}: no such CA bundle file or folder")
        if os.path.isdir(verify):
            return ssl.create_default_context(capath=verify)
        return ssl.create_default_context(cafile=verify)
    return verify


def resolve(
    base_url: str | None,
    api_key: str | None,
    organization: str | None,
    project: str | None,
    *,
    key_variable: str | None = "OPENAI_API_KEY",
    default_query: Mapping[str, str] | None = None,
    **rest: Any,
) -> ClientOptions:
    """The options of a client made with these arguments, the rest from the environment."""
    environ = os.environ
    key = api_key if api_key is not None or key_variable is None else environ.get(key_variable)
    url, query_in_url = checked_base_url(base_url or environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL)
    options = ClientOptions(
        base_url=url,
        # Whitespace around a key is never part of it: a key read from a file ends in a newline.
        api_key=checked_key(key.strip()) if key is not None and key.strip() else None,
        organization=organization if organization is not None else environ.get("OPENAI_ORG_ID"),
        project=project if project is not None else environ.get("OPENAI_PROJECT_ID"),
        default_query={**query_in_url, **(default_query or {})},
        **rest,
    )
    check_timeout(options.timeout)
    check_headers(options.default_headers, "default_headers")
    check_query(options.default_query, "default_query")
    check_auth_header(options.auth_header)
    if options.max_retries < 0:
        raise ConfigurationError(f"max_retries cannot be negative, got {options.max_retries}")
    return options


def checked_base_url(url: str) -> tuple[str, dict[str, str]]:
    """(`url` without its query and trailing slash, the query's parameters), or ConfigurationError
    saying what an API base URL is. A query (`...?api-version=...`) is sent with every request,
    after the path, as `default_query` would be."""
    example = "give one such as https://api.openai.com/v1 or http://127.0.0.1:8000/v1"
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as error:
        raise ConfigurationError(
            f"the base URL {mask(str(url))!r} cannot be read ({error}); {example}"
        ) from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ConfigurationError(f"the base URL {mask(url)!r} is not an http(s) URL with a host; {example}")
    if not parsed.query and not parsed.fragment:
        return url.rstrip("/"), {}
    query = dict(parsed.params.multi_items())
    return str(parsed.copy_with(query=None, fragment=None)).rstrip("/"), query


def checked_key(key: str) -> str:
    """`key`, or ConfigurationError (never quoting the key) when no HTTP header can carry it."""
    problem = key_problem(key)
    if problem is not None:
        raise ConfigurationError(f"{problem}; check the file or variable it came from")
    return key


def check_headers(headers: Mapping[str, str], where: str) -> None:
    """ConfigurationError naming the header (never its value, which may be a key) that HTTP
    cannot carry: names are tokens, values printable ASCII."""
    for name, value in headers.items():
        if not _is_token(name):
            raise ConfigurationError(f"{where}: {name!r} is not a valid header name")
        if not isinstance(value, str):
            raise ConfigurationError(
                f"{where}: the value of {name} must be a string, not {type(value).__name__}"
            )
        if not all(c.isascii() and (c.isprintable() or c == "\t") for c in value):
            raise ConfigurationError(
                f"{where}: the value of {name} has a line break, a control or a non-ASCII character, "
                "which an HTTP header cannot carry"
            )


def check_query(query: Mapping[str, str], where: str) -> None:
    """ConfigurationError for query parameters that are not strings (httpx would send `None`)."""
    for name, value in query.items():
        if not isinstance(name, str) or not name:
            raise ConfigurationError(f"{where}: {name!r} is not a parameter name")
        if not isinstance(value, str):
            raise ConfigurationError(
                f"{where}: the value of {name} must be a string, not {type(value).__name__}"
            )


def check_auth_header(auth: AuthHeader) -> None:
    """ConfigurationError for an auth_header that is neither a header name nor a function."""
    if isinstance(auth, str):
        if not _is_token(auth):
            raise ConfigurationError(
                f"auth_header={auth!r} is not a header name; give one such as 'Authorization' or "
                "'api-key', or a function returning the headers"
            )
    elif not callable(auth):
        raise ConfigurationError(
            f"auth_header must be a header name or a function returning headers, not {type(auth).__name__}"
        )


def auth_headers(auth: AuthHeader, key: str | None) -> dict[str, str]:
    """The authentication headers of a request: the key in the named header, or what the function
    returns (checked: a token with a line break must not reach the wire)."""
    if isinstance(auth, str):
        if not key:
            return {}
        return {auth: f"Bearer {key}" if auth.lower() == AUTHORIZATION.lower() else key}
    produced = auth()
    if not isinstance(produced, Mapping):
        raise ConfigurationError(
            f"the auth_header function must return a mapping of headers, not {type(produced).__name__}"
        )
    headers = dict(produced)
    check_headers(headers, "the headers of the auth_header function")
    return headers


def secret_parts(headers: Mapping[str, str]) -> tuple[str, ...]:
    """The values of authentication headers to mask: whole, and without a `Bearer ` prefix."""
    parts: list[str] = []
    for value in headers.values():
        parts.append(value)
        scheme, _, token = value.partition(" ")
        if token and scheme.lower() in ("bearer", "basic", "token"):
            parts.append(token)
    return tuple(part for part in parts if part)


def check_timeout(timeout: TimeoutTypes) -> None:
    """ConfigurationError for a timeout that is not a number of seconds above 0 (or None)."""
    values = (
        [timeout.connect, timeout.read, timeout.write, timeout.pool]
        if isinstance(timeout, httpx.Timeout)
        else [timeout]
    )
    for value in values:
        if value is not None and (
            not isinstance(value, int | float) or isinstance(value, bool) or value <= 0
        ):
            raise ConfigurationError(
                f"a timeout must be a number of seconds above 0 (or None for none), not {value!r}"
            )


def _is_token(name: object) -> bool:
    return (
        isinstance(name, str)
        and bool(name)
        and all((c.isascii() and c.isalnum()) or c in "!#$%&'*+-.^_`|~" for c in name)
    )
