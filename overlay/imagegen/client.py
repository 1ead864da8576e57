"""ImagesClient and AsyncImagesClient: generate, edit and vary images on any OpenAI-compatible server.

    from imagegen import ImagesClient

    with ImagesClient(base_url="http://127.0.0.1:8000/v1", api_key="...") as client:
        result = client.generate("Yellow alpaca", model="dall-e-3", size="1024x1024")
        result.images[0].save("alpaca.png")

The two clients are twins: same constructor, same methods and options; the async one's methods
are awaited and its streams are iterated with `async for`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import json
import logging
import os
import ssl
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, overload
from urllib.parse import urlsplit

import httpx

from ._version import __version__
from .calls import Call, edit_call, generation_call, variation_call
from .checks import check_request
from .description import ImageDescription
from .errors import (
    APIConnectionError,
    APITimeoutError,
    ImagesError,
    InvalidResponseError,
    error_for_status,
)
from .results import (
    AsyncGeneratedImage,
    AsyncImagesResult,
    GeneratedImage,
    ImagesResult,
    RawResponse,
    image_sources,
)
from .retry import RetryPolicy
from .rules import Operation
from .streaming import AsyncImageStream, ImageStream, event_reader
from .uploads import ImageInput, PreparedUpload, check_uploads, prepare_upload

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
    return ClientOptions(
        base_url=(base_url or environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL).rstrip("/"),
        api_key=api_key if api_key is not None else environ.get("OPENAI_API_KEY"),
        organization=organization if organization is not None else environ.get("OPENAI_ORG_ID"),
        project=project if project is not None else environ.get("OPENAI_PROJECT_ID"),
        **rest,
    )


class _ClientCore:
    """What both clients share: options, request preparation and answer reading."""

    options: ClientOptions

    def __repr__(self) -> str:
        key = "set" if self.options.api_key else "none"
        return f"{type(self).__name__}(base_url={self.options.base_url!r}, api_key=<{key}>)"

    # -- preparation ----------------------------------------------------------------------------

    def _prepare_generate(self, prompt: str | ImageDescription, params: dict[str, Any]) -> Call:
        body = _body(prompt, params)
        if self.options.check_rules:
            check_request("generations", body)
        return generation_call(body, self.options.organization, self.options.project)

    def _prepare_edit(
        self,
        image: ImageInput | Sequence[ImageInput],
        prompt: str | ImageDescription,
        mask: ImageInput | None,
        params: dict[str, Any],
    ) -> Call:
        body = _body(prompt, params)
        images = _uploads(image)
        prepared_mask = prepare_upload(mask, role="mask") if mask is not None else None
        self._check_uploads("edits", body, images, prepared_mask)
        return edit_call(body, images, prepared_mask, self.options.organization, self.options.project)

    def _prepare_vary(self, image: ImageInput, params: dict[str, Any]) -> Call:
        extra_body = params.pop("extra_body", None) or {}
        body = {key: value for key, value in {**params, **extra_body}.items() if value is not None}
        upload = prepare_upload(image, role="image")
        self._check_uploads("variations", body, [upload], None)
        return variation_call(body, upload, self.options.organization, self.options.project)

    def _check_uploads(
        self,
        operation: Operation,
        body: Mapping[str, Any],
        images: list[PreparedUpload],
        mask: PreparedUpload | None,
    ) -> None:
        rules = None
        if self.options.check_rules:
            check_request(operation, body)
            from .checks import packaged_catalog

            model = body.get("model")
            rules = packaged_catalog().get(model) if isinstance(model, str) else None
        check_uploads(images, mask, rules)

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

    def _policy(self, max_retries: int | None) -> RetryPolicy:
        return RetryPolicy(max_retries=self.options.max_retries if max_retries is None else max_retries)

    def _timeout(self, timeout: TimeoutTypes | Literal["default"]) -> httpx.Timeout:
        chosen = self.options.timeout if timeout == "default" else timeout
        return chosen if isinstance(chosen, httpx.Timeout) else httpx.Timeout(chosen)

    @staticmethod
    def _answer(response: httpx.Response, content: bytes) -> dict[str, Any]:
        try:
            data = json.loads(content)
        except ValueError:
            raise InvalidResponseError(
                f"the server answered {response.status_code} with a body that is not JSON: {content[:80]!r}"
            ) from None
        if not isinstance(data, dict):
            raise InvalidResponseError(
                f"the server answered {response.status_code} with JSON that is not an object"
            )
        return data

    @staticmethod
    def _raw(response: httpx.Response, content: bytes, keep: bool) -> RawResponse:
        return RawResponse(response.status_code, response.headers, content if keep else None)


def _body(prompt: str | ImageDescription, params: dict[str, Any]) -> dict[str, Any]:
    extra_body = params.pop("extra_body", None) or {}
    if isinstance(prompt, ImageDescription):
        base = prompt.to_body()
    elif isinstance(prompt, str):
        base = {"prompt": prompt}
    else:
        raise TypeError(f"prompt must be a string or an ImageDescription, not {type(prompt).__name__}")
    base.update({key: value for key, value in params.items() if value is not None})
    base.update(extra_body)
    return {key: value for key, value in base.items() if value is not None}


def _uploads(image: ImageInput | Sequence[ImageInput]) -> list[PreparedUpload]:
    if isinstance(image, (list, tuple)):
        return [prepare_upload(item, role="image", index=i) for i, item in enumerate(image)]
    return [prepare_upload(image, role="image")]


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default


def _transport_error(error: httpx.TransportError, request: httpx.Request) -> APIConnectionError:
    where = f"{request.method} {request.url.copy_with(query=None)}"
    if isinstance(error, httpx.TimeoutException):
        return APITimeoutError(f"no answer in time from {where} ({type(error).__name__})")
    return APIConnectionError(f"could not get an answer from {where}: {error or type(error).__name__}")


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
            **dataclasses.asdict(options),
            http_client=self._http if shares_http and not self._owns_http else None,
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
        self, prompt: str | ImageDescription, *, stream: Literal[False] = False, **params: Any
    ) -> ImagesResult: ...
    @overload
    def generate(
        self, prompt: str | ImageDescription, *, stream: Literal[True], **params: Any
    ) -> ImageStream: ...
    def generate(
        self,
        prompt: str | ImageDescription,
        *,
        stream: bool = False,
        **params: Any,
    ) -> ImagesResult | ImageStream:
        """Create images from a prompt (or a description made with `describe`).

        Request fields are keyword arguments: model, n, size, quality, response_format, style,
        background, output_format, output_compression, moderation, partial_images, user, and
        any other in `extra_body={...}`. Per call: timeout, max_retries, extra_headers,
        idempotency_key, raw_response (keep the answer's bytes in result.response.content).
        """
        call_options, params = _call_options(params)
        call = self._prepare_generate(prompt, {**params, "stream": stream or None})
        return self._run(call, **call_options)

    @overload
    def edit(
        self,
        image: ImageInput | Sequence[ImageInput],
        prompt: str | ImageDescription,
        *,
        mask: ImageInput | None = None,
        stream: Literal[False] = False,
        **params: Any,
    ) -> ImagesResult: ...
    @overload
    def edit(
        self,
        image: ImageInput | Sequence[ImageInput],
        prompt: str | ImageDescription,
        *,
        mask: ImageInput | None = None,
        stream: Literal[True],
        **params: Any,
    ) -> ImageStream: ...
    def edit(
        self,
        image: ImageInput | Sequence[ImageInput],
        prompt: str | ImageDescription,
        *,
        mask: ImageInput | None = None,
        stream: bool = False,
        **params: Any,
    ) -> ImagesResult | ImageStream:
        """Edit one image or several (paths, bytes, file objects or Pillow images).

        With a `mask` (a PNG with alpha, the first image's size), pixels whose mask alpha is 0 are
        repainted. Files are checked before anything is sent. Other fields as for `generate`.
        """
        call_options, params = _call_options(params)
        call = self._prepare_edit(image, prompt, mask, {**params, "stream": stream or None})
        return self._run(call, **call_options)

    def vary(self, image: ImageInput, **params: Any) -> ImagesResult:
        """Create variations of one image (model, n, size, response_format, user)."""
        call_options, params = _call_options(params)
        return self._run(self._prepare_vary(image, params), **call_options)  # type: ignore[return-value]

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
    ) -> ImagesResult | ImageStream:
        request = self._request(call, extra_headers, idempotency_key)
        response = self._send(request, self._policy(max_retries), self._timeout(timeout), stream=call.stream)
        if call.stream:
            return ImageStream(response, event_reader(call.expected_images, self._image_from_b64))
        answer = self._answer(response, response.content)
        images = [
            GeneratedImage(index=i, b64_json=b64, url=url, revised_prompt=revised, download=self._download)
            for i, (b64, url, revised) in enumerate(image_sources(answer))
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
        for attempt in range(policy.max_retries + 1):
            last = attempt == policy.max_retries
            started = time.monotonic()
            try:
                response = self._http.send(request, stream=True)
                if response.is_success and stream:
                    _log(request, response, started)
                    return response
                content = response.read()  # a connection dropped here is retried like any other
                response.close()
            except httpx.TransportError as error:
                failure: ImagesError = _transport_error(error, request)
                if last:
                    raise failure from error
                wait = policy.delay_s(attempt)
            else:
                _log(request, response, started)
                if response.is_success:
                    return response
                failure = error_for_status(response.status_code, content, response.headers, self._secrets())
                if last or not policy.retries_status(response.status_code, response.headers):
                    raise failure
                wait = policy.delay_s(attempt, response.headers)
            logger.info("retrying %s %s in %.2f s after: %s", request.method, request.url.path, wait, failure)
            time.sleep(wait)
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
            **dataclasses.asdict(options),
            http_client=self._http if shares_http and not self._owns_http else None,
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
        self, prompt: str | ImageDescription, *, stream: Literal[False] = False, **params: Any
    ) -> AsyncImagesResult: ...
    @overload
    async def generate(
        self, prompt: str | ImageDescription, *, stream: Literal[True], **params: Any
    ) -> AsyncImageStream: ...
    async def generate(
        self, prompt: str | ImageDescription, *, stream: bool = False, **params: Any
    ) -> AsyncImagesResult | AsyncImageStream:
        """Create images from a prompt; see ImagesClient.generate."""
        call_options, params = _call_options(params)
        call = self._prepare_generate(prompt, {**params, "stream": stream or None})
        return await self._run(call, **call_options)

    @overload
    async def edit(
        self,
        image: ImageInput | Sequence[ImageInput],
        prompt: str | ImageDescription,
        *,
        mask: ImageInput | None = None,
        stream: Literal[False] = False,
        **params: Any,
    ) -> AsyncImagesResult: ...
    @overload
    async def edit(
        self,
        image: ImageInput | Sequence[ImageInput],
        prompt: str | ImageDescription,
        *,
        mask: ImageInput | None = None,
        stream: Literal[True],
        **params: Any,
    ) -> AsyncImageStream: ...
    async def edit(
        self,
        image: ImageInput | Sequence[ImageInput],
        prompt: str | ImageDescription,
        *,
        mask: ImageInput | None = None,
        stream: bool = False,
        **params: Any,
    ) -> AsyncImagesResult | AsyncImageStream:
        """Edit one image or several; see ImagesClient.edit."""
        call_options, params = _call_options(params)
        call = self._prepare_edit(image, prompt, mask, {**params, "stream": stream or None})
        return await self._run(call, **call_options)

    async def vary(self, image: ImageInput, **params: Any) -> AsyncImagesResult:
        """Create variations of one image; see ImagesClient.vary."""
        call_options, params = _call_options(params)
        return await self._run(self._prepare_vary(image, params), **call_options)  # type: ignore[return-value]

    async def _run(
        self,
        call: Call,
        *,
        timeout: TimeoutTypes | Literal["default"] = "default",
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        raw_response: bool = False,
    ) -> AsyncImagesResult | AsyncImageStream:
        request = self._request(call, extra_headers, idempotency_key)
        response = await self._send(
            request, self._policy(max_retries), self._timeout(timeout), stream=call.stream
        )
        if call.stream:
            return AsyncImageStream(response, event_reader(call.expected_images, self._image_from_b64))
        answer = self._answer(response, response.content)
        images = [
            AsyncGeneratedImage(
                index=i, b64_json=b64, url=url, revised_prompt=revised, download=self._download
            )
            for i, (b64, url, revised) in enumerate(image_sources(answer))
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
        for attempt in range(policy.max_retries + 1):
            last = attempt == policy.max_retries
            started = time.monotonic()
            try:
                response = await self._http.send(request, stream=True)
                if response.is_success and stream:
                    _log(request, response, started)
                    return response
                content = await response.aread()  # a connection dropped here is retried like any other
                await response.aclose()
            except httpx.TransportError as error:
                failure: ImagesError = _transport_error(error, request)
                if last:
                    raise failure from error
                wait = policy.delay_s(attempt)
            else:
                _log(request, response, started)
                if response.is_success:
                    return response
                failure = error_for_status(response.status_code, content, response.headers, self._secrets())
                if last or not policy.retries_status(response.status_code, response.headers):
                    raise failure
                wait = policy.delay_s(attempt, response.headers)
            logger.info("retrying %s %s in %.2f s after: %s", request.method, request.url.path, wait, failure)
            await asyncio.sleep(wait)
        raise AssertionError("unreachable")  # the loop always returns or raises


_CALL_OPTIONS = ("timeout", "max_retries", "extra_headers", "idempotency_key", "raw_response")


def _call_options(params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split per-call options (timeout, max_retries, ...) from request fields."""
    options = {key: params.pop(key) for key in _CALL_OPTIONS if key in params}
    return options, params


def _log(request: httpx.Request, response: httpx.Response, started: float) -> None:
    if not logger.isEnabledFor(logging.DEBUG):
        return
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
