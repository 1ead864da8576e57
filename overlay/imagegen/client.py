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
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, Unpack, overload
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
from .client_options import (
    AUTHORIZATION,
    DEFAULT_BASE_URL,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    AuthHeader,
    ClientOptions,
    Routes,
    TimeoutTypes,
    auth_headers,
    check_headers,
    check_query,
    resolve,
    secret_parts,
    tls,
)
from .contract import IMAGE, MASK, Contract, default_contract
from .contract.operations import JSON, MULTIPART
from .description import ImageDescription
from .edit_inputs import EditForm, edit_inputs
from .errors import (
    APIConnectionError,
    APITimeoutError,
    ImagesError,
    InvalidResponseError,
    RequestRulesError,
    UploadError,
    error_for_status,
)
from .image_urls import decode_data_url, read_local, refuse_other, url_kind
from .masking import mask
from .pools import PooledTransport
from .prefetch import async_prefetch, prefetch
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
from .uploads import ImageInput, PreparedUpload, prepare_upload

if TYPE_CHECKING:
    from .batches import AsyncBatches, Batches
    from .files import AsyncFiles, Files

logger = logging.getLogger("imagegen")


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
        media = form or (MULTIPART if uploads or JSON not in info.bodies else JSON)
        if self.options.check_rules:
            # The fields of the form sent: an edit's `mask` is a file in one, an object in the other.
            fields = (
                contract.fields(info.bodies[media]) if media in info.bodies else contract.request_fields(info)
            )
            check_request(info.name, body, uploads, catalog=contract.catalog, fields=fields)
        else:
            check_request(info.name, body, uploads, catalog=None)  # the rules every server has
        organization, project = self.options.organization, self.options.project
        if media == MULTIPART:
            return multipart_call(contract, info, body, uploads or {}, organization, project)
        return json_call(contract, info, body, organization, project)

    def _generation(
        self, prompt: str | ImageDescription, stream: bool, fields: dict[str, Any], extra: Any
    ) -> Call:
        call = self._prepare(OPERATION_OF["generate"], _body(prompt, fields, stream, extra))
        call.images_required = True
        return call

    def _edit(
        self,
        image: Any,
        prompt: str | ImageDescription,
        mask: Any | None,
        stream: bool,
        fields: dict[str, Any],
        extra: Any,
        form: EditForm | None = None,
    ) -> Call:
        contract = self._contract
        info = contract.operation(OPERATION_OF["edit"])
        sources = list(image) if isinstance(image, (list, tuple)) else [image]
        inputs = edit_inputs(sources, mask, form, takes_json=JSON in info.bodies)
        body = _body(prompt, fields, stream, extra)
        if inputs.media == JSON:
            roles = {role: name for name, role in contract.upload_fields(info.bodies[JSON]).items()}
            body[roles[IMAGE]] = inputs.references[IMAGE]
            if MASK in inputs.references:
                body[roles[MASK]] = inputs.references[MASK][0]
        try:
            call = self._prepare(info.id, body, inputs.uploads or None, form=inputs.media)
        except RequestRulesError as error:
            if inputs.media == JSON and error.param in body and isinstance(body[error.param], list | dict):
                model = body.get("model")
                raise UploadError(
                    f"{model} takes no JSON edits (images by URL, file id or form='json'): give the "
                    "images themselves and leave form out, to upload them in the multipart form"
                ) from None
            raise
        call.images_required = True
        return call

    def _variation(self, image: ImageInput, fields: dict[str, Any], extra: Any) -> Call:
        body = _fields(fields, extra)
        call = self._prepare(OPERATION_OF["vary"], body, {IMAGE: [prepare_upload(image, role=IMAGE)]})
        call.images_required = True
        return call

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
        if isinstance(self.options.auth_header, str):
            headers.update(auth_headers(self.options.auth_header, self.options.api_key))
        return headers

    @functools.cached_property
    def _guarded_auth(self) -> tuple[str, ...]:
        """Auth headers that httpx would not drop on a redirect to another origin (it drops only
        Authorization): the redirect hook drops these."""
        auth = self.options.auth_header
        if isinstance(auth, str):
            return (auth,) if self.options.api_key and auth.lower() != AUTHORIZATION.lower() else ()
        return ("*",)  # a function's headers: known per request

    def _auth_now(self) -> dict[str, str]:
        """The headers of an auth_header function, called for each request (tokens expire)."""
        auth = self.options.auth_header
        if isinstance(auth, str):
            return {}
        produced = auth_headers(auth, self.options.api_key)
        self._produced_secrets = secret_parts(produced)
        return produced

    def _request(
        self,
        call: Call,
        extra_headers: Mapping[str, str] | None,
        idempotency_key: str | None,
        extra_query: Mapping[str, str] | None = None,
    ) -> httpx.Request:
        if extra_headers:
            check_headers(extra_headers, "extra_headers")
        if idempotency_key is not None:
            check_headers({"Idempotency-Key": idempotency_key}, "idempotency_key")
        produced = self._auth_now() if not isinstance(self.options.auth_header, str) else None
        headers = {
            **self._fixed_headers,
            **(produced or {}),
            "Accept": "text/event-stream" if call.stream else "application/json",
            **call.headers,
            **(extra_headers or {}),
            # The same key on every retry of this call, so a server can answer it once.
            "Idempotency-Key": idempotency_key or f"imagegen-{os.urandom(16).hex()}",
        }
        routes = self.options.routes
        url = (
            routes.url(self.options.base_url, call.path, call.model)
            if routes
            else self.options.base_url + call.path
        )
        request = httpx.Request(
            call.method,
            url,
            headers=headers,
            json=call.json,
            files=call.files,
            params=self._query(extra_query, call.params),
        )
        self._guard(request, produced)
        return request

    def _query(
        self, extra_query: Mapping[str, str] | None, own: Mapping[str, Any] | None = None
    ) -> dict[str, Any] | None:
        if extra_query:
            check_query(extra_query, "extra_query")
        if not (extra_query or own):
            return dict(self.options.default_query) if self.options.default_query else None
        return {**self.options.default_query, **(own or {}), **(extra_query or {})}

    def _guard(self, request: httpx.Request, produced: Mapping[str, str] | None) -> None:
        guarded = self._guarded_auth
        if guarded:
            names = tuple(produced or ()) if guarded == ("*",) else guarded
            request.extensions[AUTH_EXTENSION] = (_origin(str(request.url)), names)

    def _download_request(self, url: str) -> httpx.Request:
        headers = {"User-Agent": f"imagegen/{__version__}"}
        produced = None
        # The key goes only to the server it belongs to, never to a storage host of another origin.
        if _origin(url) == _origin(self.options.base_url):
            if isinstance(self.options.auth_header, str):
                headers.update(auth_headers(self.options.auth_header, self.options.api_key))
            else:
                produced = self._auth_now()
                headers.update(produced)
        request = httpx.Request("GET", url, headers=headers)
        self._guard(request, produced)
        return request

    def _not_downloaded(self, url: str, index: int) -> bytes:
        """The bytes of an image whose `url` is not http(s): read here, or refused (never sent)."""
        kind = url_kind(url)
        if kind == "data":
            return decode_data_url(url, index)
        if kind == "local":
            return read_local(url, index, allowed=self.options.allow_local_paths)
        raise refuse_other(url, index)

    _produced_secrets: tuple[str, ...] = ()

    def _secrets(self) -> tuple[str, ...]:
        """What no message may show: the key, and the last headers an auth_header function made."""
        key = (self.options.api_key,) if self.options.api_key else ()
        return key + self._produced_secrets if self._produced_secrets else key

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


def no_images(response: httpx.Response, asked: int) -> InvalidResponseError:
    """The error for a success without images (a caller cannot ask for none: n is at least 1)."""
    request_id = response.headers.get("x-request-id")
    quoted = f" (request id {request_id})" if request_id else ""
    return InvalidResponseError(
        f"the server answered {response.status_code} with no images (an empty `data`), where "
        f"{asked} were asked for{quoted}; nothing was made, so there is nothing to save"
    )


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


AUTH_EXTENSION = "imagegen.auth"


def strip_foreign_auth(request: httpx.Request) -> None:
    """httpx event hook: on a redirect to another origin, drop the auth headers httpx keeps (it
    drops only Authorization), so Azure's api-key never reaches a storage host."""
    guarded = request.extensions.get(AUTH_EXTENSION)
    if guarded is not None and _origin(str(request.url)) != guarded[0]:
        names = guarded[1]
        for name in names:
            request.headers.pop(name, None)


async def async_strip_foreign_auth(request: httpx.Request) -> None:
    """The async twin of strip_foreign_auth."""
    strip_foreign_auth(request)


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
        default_query: Mapping[str, str] | None = None,
        auth_header: AuthHeader = AUTHORIZATION,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        proxy: str | None = None,
        verify: bool | str | ssl.SSLContext = True,
        check_rules: bool = True,
        allow_local_paths: bool = False,
        contract: Contract | None = None,
        routes: Routes | None = None,
        http_client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        _key_variable: str | None = "OPENAI_API_KEY",
    ) -> None:
        self.options = resolve(
            base_url,
            api_key,
            organization,
            project,
            key_variable=_key_variable,
            default_query=default_query,
            default_headers=dict(default_headers or {}),
            auth_header=auth_header,
            timeout=timeout,
            max_retries=max_retries,
            proxy=proxy,
            verify=verify,
            check_rules=check_rules,
            allow_local_paths=allow_local_paths,
            contract=contract,
            routes=routes,
        )
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(
            proxy=proxy, verify=tls(verify), transport=transport, follow_redirects=True
        )
        if self._guarded_auth and strip_foreign_auth not in self._http.event_hooks["request"]:
            self._http.event_hooks["request"].append(strip_foreign_auth)
        self._transport = transport

    @functools.cached_property
    def files(self) -> Files:
        """Upload files once and refer to them by id: `client.files.upload("photo.png")`, then
        `client.edit(that, ...)`; also get, content, delete, list."""
        from .files import Files  # on first use: `import imagegen` stays light

        return Files(self)

    @functools.cached_property
    def batches(self) -> Batches:
        """OpenAI's Batch API: create, get, cancel, list (`imagegen.batch` drives it end to end)."""
        from .batches import Batches

        return Batches(self)

    def with_options(self, **changes: Any) -> ImagesClient:
        """A client with some options changed (base_url, api_key, timeout, max_retries, proxy, ...)."""
        options = dataclasses.replace(self.options, **changes)
        shares_http = options.proxy == self.options.proxy and options.verify == self.options.verify
        clone = object.__new__(type(self))  # an AzureImagesClient stays one: its routes are options
        ImagesClient.__init__(
            clone,
            **_as_arguments(options),
            # The same connection pool as this client (which keeps owning it) when the
            # transport options are the same: with_options is cheap, as in openai-python.
            http_client=self._http if shares_http else None,
            transport=self._transport,
            _key_variable=None,  # the options are already resolved: a key set to None stays None
        )
        return clone

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
        form: EditForm | None = None,
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
        form: EditForm | None = None,
        stream: Literal[True],
        **arguments: Unpack[EditArguments],
    ) -> ImageStream: ...
    def edit(
        self,
        image: ImageInput | Sequence[ImageInput],
        prompt: str | ImageDescription,
        *,
        mask: ImageInput | None = None,
        form: EditForm | None = None,
        stream: bool = False,
        **arguments: Unpack[EditArguments],
    ) -> ImagesResult | ImageStream:
        """Edit one image or several: local images (paths, bytes, binary files, Pillow images),
        image URLs (`https://...` or `data:` URLs), or files uploaded with `client.files.upload`
        (the FileObject, or `{"file_id": ...}`).

        With a `mask` (a PNG with alpha, the first image's size; given the same ways), pixels
        whose mask alpha is 0 are repainted. References go in the JSON form of the request, local
        images in the multipart form unless `form="json"` (then as data: URLs); `form` chooses.
        Local files are checked before anything is sent. Other fields as for `generate`.
        """
        options, fields = split_arguments("edit", arguments, EDIT_FIELDS)
        call = self._edit(image, prompt, mask, stream, fields, options.get("extra_body"), form)
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
        extra_query: Mapping[str, str] | None = None,
    ) -> ImagesResult | ImageStream:
        request = self._request(call, extra_headers, idempotency_key, extra_query)
        response = self._send(request, self._policy(max_retries), self._timeout(timeout), stream=call.stream)
        if call.stream:
            return ImageStream(
                response, event_reader(call.expected_images, self._stream_image, self._secrets())
            )
        answer = self._answer(response, response.content)
        sources = image_sources(answer)  # checked now: a malformed answer fails the call
        if call.images_required and not sources:
            raise no_images(response, call.expected_images)
        download = self._download

        def images() -> list[GeneratedImage]:
            return [
                GeneratedImage(index=i, b64_json=b64, url=url, revised_prompt=revised, download=download)
                for i, (b64, url, revised) in enumerate(sources)
            ]

        return ImagesResult(images, answer, self._raw(response, response.content, raw_response))

    def _stream_image(self, index: int, b64: str | None, url: str | None) -> GeneratedImage:
        return GeneratedImage(index=index, b64_json=b64, url=url, download=self._download)

    def _download(self, url: str, index: int) -> bytes:
        if url_kind(url) != "http":
            return self._not_downloaded(url, index)
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
                        prefetch(response)
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
        default_query: Mapping[str, str] | None = None,
        auth_header: AuthHeader = AUTHORIZATION,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        proxy: str | None = None,
        verify: bool | str | ssl.SSLContext = True,
        check_rules: bool = True,
        allow_local_paths: bool = False,
        contract: Contract | None = None,
        routes: Routes | None = None,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        _key_variable: str | None = "OPENAI_API_KEY",
    ) -> None:
        self.options = resolve(
            base_url,
            api_key,
            organization,
            project,
            key_variable=_key_variable,
            default_query=default_query,
            default_headers=dict(default_headers or {}),
            auth_header=auth_header,
            timeout=timeout,
            max_retries=max_retries,
            proxy=proxy,
            verify=verify,
            check_rules=check_rules,
            allow_local_paths=allow_local_paths,
            contract=contract,
            routes=routes,
        )
        self._owns_http = http_client is None
        if http_client is None:
            checked = tls(verify)
            http_client = httpx.AsyncClient(
                proxy=proxy,
                verify=checked,
                transport=transport or PooledTransport(checked),
                follow_redirects=True,
            )
        self._http = http_client
        if self._guarded_auth and async_strip_foreign_auth not in self._http.event_hooks["request"]:
            self._http.event_hooks["request"].append(async_strip_foreign_auth)
        self._transport = transport

    @functools.cached_property
    def files(self) -> AsyncFiles:
        """Upload files once and refer to them by id: `client.files.upload("photo.png")`, then
        `client.edit(that, ...)`; also get, content, delete, list."""
        from .files import AsyncFiles  # on first use: `import imagegen` stays light

        return AsyncFiles(self)

    @functools.cached_property
    def batches(self) -> AsyncBatches:
        """OpenAI's Batch API: create, get, cancel, list (`imagegen.batch` drives it end to end)."""
        from .batches import AsyncBatches

        return AsyncBatches(self)

    def with_options(self, **changes: Any) -> AsyncImagesClient:
        """A client with some options changed (base_url, api_key, timeout, max_retries, proxy, ...)."""
        options = dataclasses.replace(self.options, **changes)
        shares_http = options.proxy == self.options.proxy and options.verify == self.options.verify
        clone = object.__new__(type(self))  # an AzureImagesClient stays one: its routes are options
        AsyncImagesClient.__init__(
            clone,
            **_as_arguments(options),
            # The same connection pool as this client (which keeps owning it) when the
            # transport options are the same: with_options is cheap, as in openai-python.
            http_client=self._http if shares_http else None,
            transport=self._transport,
            _key_variable=None,  # the options are already resolved: a key set to None stays None
        )
        return clone

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
        form: EditForm | None = None,
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
        form: EditForm | None = None,
        stream: Literal[True],
        **arguments: Unpack[EditArguments],
    ) -> AsyncImageStream: ...
    async def edit(
        self,
        image: ImageInput | Sequence[ImageInput],
        prompt: str | ImageDescription,
        *,
        mask: ImageInput | None = None,
        form: EditForm | None = None,
        stream: bool = False,
        **arguments: Unpack[EditArguments],
    ) -> AsyncImagesResult | AsyncImageStream:
        """Edit one image or several; see ImagesClient.edit."""
        options, fields = split_arguments("edit", arguments, EDIT_FIELDS)
        call = self._edit(image, prompt, mask, stream, fields, options.get("extra_body"), form)
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
        extra_query: Mapping[str, str] | None = None,
    ) -> AsyncImagesResult | AsyncImageStream:
        request = self._request(call, extra_headers, idempotency_key, extra_query)
        response = await self._send(
            request, self._policy(max_retries), self._timeout(timeout), stream=call.stream
        )
        if call.stream:
            return AsyncImageStream(
                response, event_reader(call.expected_images, self._stream_image, self._secrets())
            )
        answer = self._answer(response, response.content)
        sources = image_sources(answer)  # checked now: a malformed answer fails the call
        if call.images_required and not sources:
            raise no_images(response, call.expected_images)
        download = self._download

        def images() -> list[AsyncGeneratedImage]:
            return [
                AsyncGeneratedImage(index=i, b64_json=b64, url=url, revised_prompt=revised, download=download)
                for i, (b64, url, revised) in enumerate(sources)
            ]

        return AsyncImagesResult(images, answer, self._raw(response, response.content, raw_response))

    def _stream_image(self, index: int, b64: str | None, url: str | None) -> AsyncGeneratedImage:
        return AsyncGeneratedImage(index=index, b64_json=b64, url=url, download=self._download)

    async def _download(self, url: str, index: int) -> bytes:
        if url_kind(url) != "http":
            return self._not_downloaded(url, index)
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
                        await async_prefetch(response)
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
