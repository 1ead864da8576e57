"""ImagesClient and AsyncImagesClient: generate, edit and vary images on any OpenAI-compatible server.

    from imagegen import ImagesClient

    with ImagesClient(base_url="http://127.0.0.1:8000/v1", api_key="...") as client:
        result = client.generate("Yellow alpaca", model="dall-e-3", size="1024x1024")
        result.images[0].save("alpaca.png")

The two clients are twins: same constructor, same methods and options; the async one's methods
are awaited and its streams are iterated with `async for`.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import os
import ssl
import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Unpack, overload
from urllib.parse import urlsplit

import httpx

from ._version import __version__
from .arguments import (
    EDIT_FIELDS,
    GENERATE_FIELDS,
    OPERATION_OF,
    VARY_FIELDS,
    CallOptions,
    EditArguments,
    GenerateArguments,
    VaryArguments,
    split_arguments,
)
from .calls import Call, json_call, multipart_call
from .checks import check_request
from .contract import IMAGE, MASK, Contract, default_contract
from .contract.operations import JSON, MULTIPART
from .description import ImageDescription
from .errors import (
    APIConnectionError,
    APITimeoutError,
    ConfigurationError,
    ImagesError,
    InvalidResponseError,
    error_for_status,
)
from .masking import key_problem, mask
from .results import (
    AsyncGeneratedImage,
    AsyncImagesResult,
    GeneratedImage,
    ImagesResult,
    RawResponse,
    image_sources,
)
from .retry import RetryPolicy
from .streaming import AsyncImageStream, ImageStream, event_reader
from .uploads import ImageInput, PreparedUpload, prepare_upload, require_images

logger = logging.getLogger("imagegen")

DEFAULT_BASE_URL = "https://api.openai.com/v1"
# Generous on reading: a high-quality image can take minutes to make.
DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=600.0, write=120.0, pool=30.0)
DEFAULT_MAX_RETRIES = 2
TimeoutTypes = float | httpx.Timeout | None


@dataclass(frozen=True)
class ClientOptions:
    """A client's settings; every one can be overridden with `with_options(...)`."""

    base_url: str
    api_key: str | None = field(default=None, repr=False)
    organization: str | None = None
    project: str | None = None
    default_headers: Mapping[str, str] = field(default_factory=dict)
    timeout: TimeoutTypes = field(default_factory=lambda: DEFAULT_TIMEOUT)
    max_retries: int = DEFAULT_MAX_RETRIES
    proxy: str | None = None
    verify: bool | str | ssl.SSLContext = True
    check_rules: bool = True
    contract: Contract | None = field(default=None, repr=False)
    """The contract to follow (default: the packaged one, which the client was generated from)."""


def _tls(verify: bool | str | ssl.SSLContext) -> bool | ssl.SSLContext:
    """httpx's `verify`: a CA bundle path becomes an SSL context (httpx 0.28 deprecates paths)."""
    if isinstance(verify, str):
        if not os.path.exists(verify):
            raise FileNotFoundError(f"verify={verify!r}: no such CA bundle file or folder")
        if os.path.isdir(verify):
            return ssl.create_default_context(capath=verify)
        return ssl.create_default_context(cafile=verify)
    return verify


def _resolve(
    base_url: str | None,
    api_key: str | None,
    organization: str | None,
    project: str | None,
    **rest: Any,
) -> ClientOptions:
    environ = os.environ
    key = api_key if api_key is not None else environ.get("OPENAI_API_KEY")
    options = ClientOptions(
        base_url=checked_base_url(base_url or environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL),
        # Whitespace around a key is never part of it: a key read from a file ends in a newline.
        api_key=checked_key(key.strip()) if key is not None and key.strip() else None,
        organization=organization if organization is not None else environ.get("OPENAI_ORG_ID"),
        project=project if project is not None else environ.get("OPENAI_PROJECT_ID"),
        **rest,
    )
    _check_timeout(options.timeout)
    check_headers(options.default_headers, "default_headers")
    if options.max_retries < 0:
        raise ConfigurationError(f"max_retries cannot be negative, got {options.max_retries}")
    return options


def checked_base_url(url: str) -> str:
    """`url` without a trailing slash, or ConfigurationError saying what an API base URL is."""
    example = "give one such as https://api.openai.com/v1 or http://127.0.0.1:8000/v1"
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as error:
        raise ConfigurationError(
            f"the base URL {mask(str(url))!r} cannot be read ({error}); {example}"
        ) from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ConfigurationError(f"the base URL {mask(url)!r} is not an http(s) URL with a host; {example}")
    return url.rstrip("/")


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
        if (
            not isinstance(name, str)
            or not name
            or not all((c.isascii() and c.isalnum()) or c in "!#$%&'*+-.^_`|~" for c in name)
        ):
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


def _check_timeout(timeout: TimeoutTypes) -> None:
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


class _ClientCore:
    """What both clients share: options, request preparation and answer reading."""

    options: ClientOptions

    def __repr__(self) -> str:
        key = "set" if self.options.api_key else "none"
        return f"{type(self).__name__}(base_url={self.options.base_url!r}, api_key=<{key}>)"

    # -- preparation ----------------------------------------------------------------------------

    @functools.cached_property
    def _contract(self) -> Contract:
        return self.options.contract or default_contract()

    def _prepare(
        self,
        operation: str,
        body: dict[str, Any],
        uploads: dict[str, list[PreparedUpload]] | None = None,
        *,
        form: str | None = None,
    ) -> Call:
        """Check `body` (and `uploads`, by role) against the model's rules and build the request."""
        contract = self._contract
        info = contract.operation(operation)
        if self.options.check_rules:
            fields = contract.request_fields(info)
            check_request(info.name, body, uploads, catalog=contract.catalog, fields=fields)
        else:
            check_request(info.name, body, uploads, catalog=None)  # the rules every server has
        organization, project = self.options.organization, self.options.project
        media = form or (MULTIPART if uploads or JSON not in info.bodies else JSON)
        if media == MULTIPART:
            return multipart_call(contract, info, body, uploads or {}, organization, project)
        return json_call(contract, info, body, organization, project)

    def _generation(
        self, prompt: str | ImageDescription, stream: bool, fields: dict[str, Any], extra: Any
    ) -> Call:
        return self._prepare(OPERATION_OF["generate"], _body(prompt, fields, stream, extra))

    def _edit(
        self,
        image: ImageInput | Sequence[ImageInput],
        prompt: str | ImageDescription,
        mask: ImageInput | None,
        stream: bool,
        fields: dict[str, Any],
        extra: Any,
    ) -> Call:
        images = _uploads(image)
        require_images(images)
        uploads = {IMAGE: images}
        if mask is not None:
            uploads[MASK] = [prepare_upload(mask, role=MASK)]
        return self._prepare(OPERATION_OF["edit"], _body(prompt, fields, stream, extra), uploads)

    def _variation(self, image: ImageInput, fields: dict[str, Any], extra: Any) -> Call:
        body = _fields(fields, extra)
        return self._prepare(OPERATION_OF["vary"], body, {IMAGE: [prepare_upload(image, role=IMAGE)]})

    def _generic(
        self,
        operation: str,
        body: Mapping[str, Any] | None,
        files: Mapping[str, ImageInput | Sequence[ImageInput]] | None,
        extra: Any,
    ) -> Call:
        fields = _fields(dict(body or {}), extra)
        uploads: dict[str, list[PreparedUpload]] = {}
        for role, given in (files or {}).items():
            uploads[role] = _uploads(given, role=role)
        return self._prepare(operation, fields, uploads or None)

    @functools.cached_property
    def _fixed_headers(self) -> dict[str, str]:
        """The headers every API request carries, built once (options never change in place)."""
        headers = {"User-Agent": f"imagegen/{__version__}", **self.options.default_headers}
        if self.options.api_key:
            headers["Authorization"] = f"Bearer {self.options.api_key}"
        return headers

    def _request(
        self, call: Call, extra_headers: Mapping[str, str] | None, idempotency_key: str | None
    ) -> httpx.Request:
        if extra_headers:
            check_headers(extra_headers, "extra_headers")
        if idempotency_key is not None:
            check_headers({"Idempotency-Key": idempotency_key}, "idempotency_key")
        headers = {
            **self._fixed_headers,
            "Accept": "text/event-stream" if call.stream else "application/json",
            **call.headers,
            **(extra_headers or {}),
            # The same key on every retry of this call, so a server can answer it once.
            "Idempotency-Key": idempotency_key or f"imagegen-{os.urandom(16).hex()}",
        }
        return httpx.Request(
            call.method, self.options.base_url + call.path, headers=headers, json=call.json, files=call.files
        )

    def _download_request(self, url: str) -> httpx.Request:
        headers = {"User-Agent": f"imagegen/{__version__}"}
        # The key goes only to the server it belongs to, never to a storage host of another origin.
        if self.options.api_key and _origin(url) == _origin(self.options.base_url):
            headers["Authorization"] = f"Bearer {self.options.api_key}"
        return httpx.Request("GET", url, headers=headers)

    def _secrets(self) -> tuple[str, ...]:
        return (self.options.api_key,) if self.options.api_key else ()

    @functools.cached_property
    def _default_policy(self) -> RetryPolicy:
        return RetryPolicy(max_retries=self.options.max_retries)

    @functools.cached_property
    def _default_timeout(self) -> httpx.Timeout:
        chosen = self.options.timeout
        return chosen if isinstance(chosen, httpx.Timeout) else httpx.Timeout(chosen)

    def _policy(self, max_retries: int | None) -> RetryPolicy:
        if max_retries is None:
            return self._default_policy
        return RetryPolicy(max_retries=max_retries)

    def _timeout(self, timeout: TimeoutTypes | Literal["default"]) -> httpx.Timeout:
        if isinstance(timeout, str):  # "default"
            return self._default_timeout
        return timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)

    def _answer(self, response: httpx.Response, content: bytes) -> dict[str, Any]:
        try:
            data = json.loads(content)
        except ValueError:
            shown = mask(repr(content[:80]), self._secrets())
            raise InvalidResponseError(
                f"the server answered {response.status_code} with a body that is not JSON: {shown}"
            ) from None
        if not isinstance(data, dict):
            raise InvalidResponseError(
                f"the server answered {response.status_code} with JSON that is not an object"
            )
        return data

    @staticmethod
    def _raw(response: httpx.Response, content: bytes, keep: bool) -> RawResponse:
        return RawResponse(response.status_code, response.headers, content if keep else None)


def _fields(fields: Mapping[str, Any], extra: Any) -> dict[str, Any]:
    """The fields to send: those given (None leaves a field out), then `extra_body` over them."""
    body = {key: value for key, value in fields.items() if value is not None}
    if extra:
        if not isinstance(extra, Mapping):
            raise TypeError(
                f"extra_body must be a mapping of field names to values, not {type(extra).__name__}"
            )
        body.update(extra)
        return {key: value for key, value in body.items() if value is not None}
    return body


def _body(
    prompt: str | ImageDescription, fields: Mapping[str, Any], stream: bool, extra: Any
) -> dict[str, Any]:
    if isinstance(prompt, ImageDescription):
        base = prompt.to_body()
    elif isinstance(prompt, str):
        base = {"prompt": prompt}
    else:
        raise TypeError(f"prompt must be a string or an ImageDescription, not {type(prompt).__name__}")
    for key, value in fields.items():
        if value is not None:
            base[key] = value
    if stream:
        base["stream"] = True
    if extra:
        return _fields(base, extra)
    return {key: value for key, value in base.items() if value is not None} if None in base.values() else base


def _uploads(image: ImageInput | Sequence[ImageInput], *, role: str = IMAGE) -> list[PreparedUpload]:
    if isinstance(image, (list, tuple)):
        return [prepare_upload(item, role=role, index=i) for i, item in enumerate(image)]
    return [prepare_upload(image, role=role)]


def _as_arguments(options: ClientOptions) -> dict[str, Any]:
    # Not dataclasses.asdict: it deep-copies, and an SSLContext cannot be copied.
    return {item.name: getattr(options, item.name) for item in dataclasses.fields(options)}


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default


def _transport_error(
    error: httpx.TransportError, request: httpx.Request, secrets: tuple[str, ...]
) -> APIConnectionError:
    url = request.url.copy_with(query=None, password=None, username=None)
    where = f"{request.method} {url}"
    if isinstance(error, httpx.TimeoutException):
        return APITimeoutError(f"no answer in time from {where} ({type(error).__name__})")
    return APIConnectionError(
        mask(f"could not get an answer from {where}: {error or type(error).__name__}", secrets)
    )


class ImagesClient(_ClientCore):
    """A client of the image endpoints. Thread-safe; close it (or use `with`) when done.

    Options default from the environment: OPENAI_BASE_URL, OPENAI_API_KEY, OPENAI_ORG_ID and
    OPENAI_PROJECT_ID. `timeout` is seconds or an httpx.Timeout (connect and read apart);
    `max_retries` applies to connection errors, timeouts, 408, 409, 429 and 5xx.
    """

    def __init__(
        self,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        organization: str | None = None,
        project: str | None = None,
        default_headers: Mapping[str, str] | None = None,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        proxy: str | None = None,
        verify: bool | str | ssl.SSLContext = True,
        check_rules: bool = True,
        contract: Contract | None = None,
        http_client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.options = _resolve(
            base_url,
            api_key,
            organization,
            project,
            default_headers=dict(default_headers or {}),
            timeout=timeout,
            max_retries=max_retries,
            proxy=proxy,
            verify=verify,
            check_rules=check_rules,
            contract=contract,
        )
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(
            proxy=proxy, verify=_tls(verify), transport=transport, follow_redirects=True
        )
        self._transport = transport

    def with_options(self, **changes: Any) -> ImagesClient:
        """A client with some options changed (base_url, api_key, timeout, max_retries, proxy, ...)."""
        options = dataclasses.replace(self.options, **changes)
        shares_http = options.proxy == self.options.proxy and options.verify == self.options.verify
        return ImagesClient(
            **_as_arguments(options),
            # The same connection pool as this client (which keeps owning it) when the
            # transport options are the same: with_options is cheap, as in openai-python.
            http_client=self._http if shares_http else None,
            transport=self._transport,
        )

    def close(self) -> None:
        """Close the connections (not those of an http_client passed in)."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> ImagesClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @overload
    def generate(
        self,
        prompt: str | ImageDescription,
        *,
        stream: Literal[False] = False,
        **arguments: Unpack[GenerateArguments],
    ) -> ImagesResult: ...
    @overload
    def generate(
        self, prompt: str | ImageDescription, *, stream: Literal[True], **arguments: Unpack[GenerateArguments]
    ) -> ImageStream: ...
    def generate(
        self, prompt: str | ImageDescription, *, stream: bool = False, **arguments: Unpack[GenerateArguments]
    ) -> ImagesResult | ImageStream:
        """Create images from a prompt (or a description made with `describe`).

        The request fields are keyword arguments, typed from the contract (`imagegen.params`):
        model, n, size, quality, response_format, style, background, output_format,
        output_compression, moderation, partial_images, user; any other in `extra_body={...}`.
        Per call: timeout, max_retries, extra_headers, idempotency_key, raw_response (keep the
        answer's bytes in result.response.content). An unknown keyword is a TypeError.
        """
        options, fields = split_arguments("generate", arguments, GENERATE_FIELDS)
        call = self._generation(prompt, stream, fields, options.get("extra_body"))
        return self._run(call, **options)

    @overload
    def edit(
        self,
        image: ImageInput | Sequence[ImageInput],
        prompt: str | ImageDescription,
        *,
        mask: ImageInput | None = None,
        stream: Literal[False] = False,
        **arguments: Unpack[EditArguments],
    ) -> ImagesResult: ...
    @overload
    def edit(
        self,
        image: ImageInput | Sequence[ImageInput],
        prompt: str | ImageDescription,
        *,
        mask: ImageInput | None = None,
        stream: Literal[True],
        **arguments: Unpack[EditArguments],
    ) -> ImageStream: ...
    def edit(
        self,
        image: ImageInput | Sequence[ImageInput],
        prompt: str | ImageDescription,
        *,
        mask: ImageInput | None = None,
        stream: bool = False,
        **arguments: Unpack[EditArguments],
    ) -> ImagesResult | ImageStream:
        """Edit one image or several (paths, bytes, file objects or Pillow images).

        With a `mask` (a PNG with alpha, the first image's size), pixels whose mask alpha is 0 are
        repainted. Files are checked before anything is sent. Other fields as for `generate`.
        """
        options, fields = split_arguments("edit", arguments, EDIT_FIELDS)
        call = self._edit(image, prompt, mask, stream, fields, options.get("extra_body"))
        return self._run(call, **options)

    def vary(self, image: ImageInput, **arguments: Unpack[VaryArguments]) -> ImagesResult:
        """Create variations of one image (model, n, size, response_format, user)."""
        options, fields = split_arguments("vary", arguments, VARY_FIELDS)
        call = self._variation(image, fields, options.get("extra_body"))
        return self._run(call, **options)  # type: ignore[return-value]

    def request(
        self,
        operation: str,
        *,
        body: Mapping[str, Any] | None = None,
        files: Mapping[str, ImageInput | Sequence[ImageInput]] | None = None,
        **options: Unpack[CallOptions],
    ) -> ImagesResult | ImageStream:
        """Call any operation of the contract by its operationId or name (e.g. "createImageEdit").

        `body` holds the fields as the contract names them; `files` the images by role (`image`,
        `mask`), which makes the body multipart. The answer is parsed as for `generate`:
        `result.images` (empty when the answer has none) and `result.body`, the JSON itself; with
        `"stream": True` in the body, the stream of events.
        """
        call = self._generic(operation, body, files, options.get("extra_body"))
        return self._run(call, **options)

    # -- sending ----------------------------------------------------------------------------------

    def _run(
        self,
        call: Call,
        *,
        timeout: TimeoutTypes | Literal["default"] = "default",
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        raw_response: bool = False,
        extra_body: object = None,  # already merged into the call's body
    ) -> ImagesResult | ImageStream:
        request = self._request(call, extra_headers, idempotency_key)
        response = self._send(request, self._policy(max_retries), self._timeout(timeout), stream=call.stream)
        if call.stream:
            return ImageStream(
                response, event_reader(call.expected_images, self._image_from_b64, self._secrets())
            )
        answer = self._answer(response, response.content)
        sources = image_sources(answer)  # checked now: a malformed answer fails the call
        download = self._download

        def images() -> list[GeneratedImage]:
            return [
                GeneratedImage(index=i, b64_json=b64, url=url, revised_prompt=revised, download=download)
                for i, (b64, url, revised) in enumerate(sources)
            ]

        return ImagesResult(images, answer, self._raw(response, response.content, raw_response))

    def _image_from_b64(self, index: int, b64: str) -> GeneratedImage:
        return GeneratedImage(index=index, b64_json=b64, url=None)

    def _download(self, url: str) -> bytes:
        response = self._send(
            self._download_request(url), self._policy(None), self._timeout("default"), stream=False
        )
        return response.content

    def _send(
        self, request: httpx.Request, policy: RetryPolicy, timeout: httpx.Timeout, *, stream: bool
    ) -> httpx.Response:
        request.extensions["timeout"] = timeout.as_dict()
        debug = logger.isEnabledFor(logging.DEBUG)
        for attempt in range(policy.max_retries + 1):
            last = attempt == policy.max_retries
            started = time.monotonic() if debug else 0.0
            try:
                if stream:
                    response = self._http.send(request, stream=True)
                    if response.is_success:
                        # The first bytes are read here: a stream dropped before any is retried.
                        _prefetch(response)
                        if debug:
                            _log(request, response, started)
                        return response
                    content = response.read()  # a connection dropped here is retried like any other
                    response.close()
                else:
                    response = self._http.send(request)  # reads the body (a drop there is retried too)
                    content = response.content
            except httpx.TransportError as error:
                failure: ImagesError = _transport_error(error, request, self._secrets())
                if last or isinstance(error, httpx.LocalProtocolError):  # unsendable: never retried
                    raise failure from error
                wait = policy.delay_s(attempt)
            else:
                if debug:
                    _log(request, response, started)
                if response.is_success:
                    return response
                failure = error_for_status(response.status_code, content, response.headers, self._secrets())
                if last or not policy.retries_error(failure):
                    raise failure
                wait = policy.delay_s(attempt, response.headers)
            logger.info("retrying %s %s in %.2f s after: %s", request.method, request.url.path, wait, failure)
            _wait(wait)
        raise AssertionError("unreachable")  # the loop always returns or raises


class AsyncImagesClient(_ClientCore):
    """The async twin of ImagesClient: same options and methods, awaited."""

    def __init__(
        self,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        organization: str | None = None,
        project: str | None = None,
        default_headers: Mapping[str, str] | None = None,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        proxy: str | None = None,
        verify: bool | str | ssl.SSLContext = True,
        check_rules: bool = True,
        contract: Contract | None = None,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.options = _resolve(
            base_url,
            api_key,
            organization,
            project,
            default_headers=dict(default_headers or {}),
            timeout=timeout,
            max_retries=max_retries,
            proxy=proxy,
            verify=verify,
            check_rules=check_rules,
            contract=contract,
        )
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(
            proxy=proxy, verify=_tls(verify), transport=transport, follow_redirects=True
        )
        self._transport = transport

    def with_options(self, **changes: Any) -> AsyncImagesClient:
        """A client with some options changed (base_url, api_key, timeout, max_retries, proxy, ...)."""
        options = dataclasses.replace(self.options, **changes)
        shares_http = options.proxy == self.options.proxy and options.verify == self.options.verify
        return AsyncImagesClient(
            **_as_arguments(options),
            # The same connection pool as this client (which keeps owning it) when the
            # transport options are the same: with_options is cheap, as in openai-python.
            http_client=self._http if shares_http else None,
            transport=self._transport,
        )

    async def close(self) -> None:
        """Close the connections (not those of an http_client passed in)."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncImagesClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @overload
    async def generate(
        self,
        prompt: str | ImageDescription,
        *,
        stream: Literal[False] = False,
        **arguments: Unpack[GenerateArguments],
    ) -> AsyncImagesResult: ...
    @overload
    async def generate(
        self, prompt: str | ImageDescription, *, stream: Literal[True], **arguments: Unpack[GenerateArguments]
    ) -> AsyncImageStream: ...
    async def generate(
        self, prompt: str | ImageDescription, *, stream: bool = False, **arguments: Unpack[GenerateArguments]
    ) -> AsyncImagesResult | AsyncImageStream:
        """Create images from a prompt; see ImagesClient.generate."""
        options, fields = split_arguments("generate", arguments, GENERATE_FIELDS)
        call = self._generation(prompt, stream, fields, options.get("extra_body"))
        return await self._run(call, **options)

    @overload
    async def edit(
        self,
        image: ImageInput | Sequence[ImageInput],
        prompt: str | ImageDescription,
        *,
        mask: ImageInput | None = None,
        stream: Literal[False] = False,
        **arguments: Unpack[EditArguments],
    ) -> AsyncImagesResult: ...
    @overload
    async def edit(
        self,
        image: ImageInput | Sequence[ImageInput],
        prompt: str | ImageDescription,
        *,
        mask: ImageInput | None = None,
        stream: Literal[True],
        **arguments: Unpack[EditArguments],
    ) -> AsyncImageStream: ...
    async def edit(
        self,
        image: ImageInput | Sequence[ImageInput],
        prompt: str | ImageDescription,
        *,
        mask: ImageInput | None = None,
        stream: bool = False,
        **arguments: Unpack[EditArguments],
    ) -> AsyncImagesResult | AsyncImageStream:
        """Edit one image or several; see ImagesClient.edit."""
        options, fields = split_arguments("edit", arguments, EDIT_FIELDS)
        call = self._edit(image, prompt, mask, stream, fields, options.get("extra_body"))
        return await self._run(call, **options)

    async def vary(self, image: ImageInput, **arguments: Unpack[VaryArguments]) -> AsyncImagesResult:
        """Create variations of one image; see ImagesClient.vary."""
        options, fields = split_arguments("vary", arguments, VARY_FIELDS)
        call = self._variation(image, fields, options.get("extra_body"))
        return await self._run(call, **options)  # type: ignore[return-value]

    async def request(
        self,
        operation: str,
        *,
        body: Mapping[str, Any] | None = None,
        files: Mapping[str, ImageInput | Sequence[ImageInput]] | None = None,
        **options: Unpack[CallOptions],
    ) -> AsyncImagesResult | AsyncImageStream:
        """Call any operation of the contract; see ImagesClient.request."""
        call = self._generic(operation, body, files, options.get("extra_body"))
        return await self._run(call, **options)

    async def _run(
        self,
        call: Call,
        *,
        timeout: TimeoutTypes | Literal["default"] = "default",
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        raw_response: bool = False,
        extra_body: object = None,  # already merged into the call's body
    ) -> AsyncImagesResult | AsyncImageStream:
        request = self._request(call, extra_headers, idempotency_key)
        response = await self._send(
            request, self._policy(max_retries), self._timeout(timeout), stream=call.stream
        )
        if call.stream:
            return AsyncImageStream(
                response, event_reader(call.expected_images, self._image_from_b64, self._secrets())
            )
        answer = self._answer(response, response.content)
        sources = image_sources(answer)  # checked now: a malformed answer fails the call
        download = self._download

        def images() -> list[AsyncGeneratedImage]:
            return [
                AsyncGeneratedImage(index=i, b64_json=b64, url=url, revised_prompt=revised, download=download)
                for i, (b64, url, revised) in enumerate(sources)
            ]

        return AsyncImagesResult(images, answer, self._raw(response, response.content, raw_response))

    def _image_from_b64(self, index: int, b64: str) -> AsyncGeneratedImage:
        return AsyncGeneratedImage(index=index, b64_json=b64, url=None)

    async def _download(self, url: str) -> bytes:
        request = self._download_request(url)
        response = await self._send(request, self._policy(None), self._timeout("default"), stream=False)
        return response.content

    async def _send(
        self, request: httpx.Request, policy: RetryPolicy, timeout: httpx.Timeout, *, stream: bool
    ) -> httpx.Response:
        request.extensions["timeout"] = timeout.as_dict()
        debug = logger.isEnabledFor(logging.DEBUG)
        for attempt in range(policy.max_retries + 1):
            last = attempt == policy.max_retries
            started = time.monotonic() if debug else 0.0
            try:
                if stream:
                    response = await self._http.send(request, stream=True)
                    if response.is_success:
                        # The first bytes are read here: a stream dropped before any is retried.
                        await _async_prefetch(response)
                        if debug:
                            _log(request, response, started)
                        return response
                    content = await response.aread()  # a connection dropped here is retried like any other
                    await response.aclose()
                else:
                    response = await self._http.send(request)  # reads the body (a drop there is retried too)
                    content = response.content
            except httpx.TransportError as error:
                failure: ImagesError = _transport_error(error, request, self._secrets())
                if last or isinstance(error, httpx.LocalProtocolError):  # unsendable: never retried
                    raise failure from error
                wait = policy.delay_s(attempt)
            else:
                if debug:
                    _log(request, response, started)
                if response.is_success:
                    return response
                failure = error_for_status(response.status_code, content, response.headers, self._secrets())
                if last or not policy.retries_error(failure):
                    raise failure
                wait = policy.delay_s(attempt, response.headers)
            logger.info("retrying %s %s in %.2f s after: %s", request.method, request.url.path, wait, failure)
            await _async_wait(wait)
        raise AssertionError("unreachable")  # the loop always returns or raises


class _Prefetched(httpx.SyncByteStream):
    """A response body whose first chunk was already read, then the rest as it comes."""

    def __init__(self, first: bytes, rest: Iterator[bytes], original: httpx.SyncByteStream) -> None:
        self._first, self._rest, self._original = first, rest, original

    def __iter__(self) -> Iterator[bytes]:
        if self._first:
            yield self._first
        yield from self._rest

    def close(self) -> None:
        self._original.close()


class _AsyncPrefetched(httpx.AsyncByteStream):
    """The async twin of _Prefetched."""

    def __init__(self, first: bytes, rest: AsyncIterator[bytes], original: httpx.AsyncByteStream) -> None:
        self._first, self._rest, self._original = first, rest, original

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self._first:
            yield self._first
        async for chunk in self._rest:
            yield chunk

    async def aclose(self) -> None:
        await self._original.aclose()


def _prefetch(response: httpx.Response) -> None:
    """Read the first chunk of a streamed body (a TransportError here means nothing arrived)."""
    original = response.stream
    assert isinstance(original, httpx.SyncByteStream)
    rest = iter(original)
    try:
        first = next(rest, b"")
    except httpx.TransportError:
        response.close()
        raise
    if not first:
        response.close()
        raise httpx.RemoteProtocolError("the stream ended before its first byte", request=response.request)
    response.stream = _Prefetched(first, rest, original)


async def _async_prefetch(response: httpx.Response) -> None:
    """The async twin of _prefetch."""
    original = response.stream
    assert isinstance(original, httpx.AsyncByteStream)
    rest = original.__aiter__()
    try:
        first = await anext(rest, b"")
    except httpx.TransportError:
        await response.aclose()
        raise
    if not first:
        await response.aclose()
        raise httpx.RemoteProtocolError("the stream ended before its first byte", request=response.request)
    response.stream = _AsyncPrefetched(first, rest, original)


def _wait(seconds: float) -> None:
    """The pause before a retry (one function, so tests can record the waits instead)."""
    time.sleep(seconds)


async def _async_wait(seconds: float) -> None:
    """The async pause before a retry."""
    import asyncio  # here: only async callers pay for importing it

    await asyncio.sleep(seconds)


def _log(request: httpx.Request, response: httpx.Response, started: float) -> None:
    # Method, path, status, time and request id only: never headers, which carry the key.
    logger.debug(
        "%s %s -> %d in %.3f s (request id %s)",
        request.method,
        request.url.path,
        response.status_code,
        time.monotonic() - started,
        response.headers.get("x-request-id", "-"),
    )


__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "AsyncImagesClient",
    "ClientOptions",
    "ImagesClient",
    "InvalidResponseError",
]
