"""The exceptions of imagegen: one hierarchy, rooted at ImagesError.

    ImagesError
    ├── ConfigurationError     a client option cannot work (base URL, key, timeout)
    ├── UploadError            a local file cannot be sent (missing, not an image, too big, ...)
    ├── RequestRulesError      the request breaks a rule of its model (client-side check)
    ├── APIConnectionError     the server could not be reached, or the connection broke
    │   └── APITimeoutError    no answer in time
    ├── StreamError            a stream ended before its images were complete
    ├── InvalidResponseError   a 2xx answer that is not an images answer
    └── APIStatusError         the server answered with an error status
        ├── BadRequestError           400
        ├── AuthenticationError       401
        ├── PermissionDeniedError     403
        ├── NotFoundError             404
        ├── ConflictError             409
        ├── UnprocessableEntityError  422
        ├── RateLimitError            429
        └── InternalServerError       500 and above (also 520, 599, ...)

Messages never contain the API key.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .masking import MIN_MASKED_SECRET, mask

__all__ = ["MIN_MASKED_SECRET"]  # re-exported for older imports; the masking lives in masking.py


class ImagesError(Exception):
    """Base of every error imagegen raises."""


class ConfigurationError(ImagesError, ValueError):
    """A client option cannot work (a base URL that is not http(s), a key no header can carry,
    a timeout of 0); raised when the client is made, before anything is sent."""


class UploadError(ImagesError, ValueError):
    """A file given to edit or vary cannot be sent; the message names the file and the rule."""


class RequestRulesError(ImagesError, ValueError):
    """The request breaks a rule of its model, found before sending (turn off with check_rules=False)."""

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


class APIConnectionError(ImagesError):
    """The request did not get an answer: connection refused, reset, dropped, ..."""


class APITimeoutError(APIConnectionError):
    """The server did not answer within the timeout."""


class StreamError(ImagesError):
    """A stream broke off, or ended before every image was completed."""


class InvalidResponseError(ImagesError):
    """The server answered 2xx with a body that is not an images answer."""


class InvalidImageDataError(ImagesError):
    """An image in the answer cannot be read (bad base64, or bytes that are not an image)."""


class APIStatusError(ImagesError):
    """The server answered with an error status. Carries what it said about it."""

    status_code: int
    message: str
    type: str | None
    param: str | None
    code: str | None
    request_id: str | None
    body: bytes
    headers: Mapping[str, str]

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        type: str | None = None,
        param: str | None = None,
        code: str | None = None,
        request_id: str | None = None,
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.status_code = status_code
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.request_id = request_id
        self.body = body
        self.headers = dict(headers or {})
        super().__init__(self._describe())

    def _describe(self) -> str:
        text = f"{self.status_code} {self.message}"
        details = [f"{key}={value}" for key, value in (("param", self.param), ("code", self.code)) if value]
        if self.request_id:
            details.append(f"request id {self.request_id}")
        return f"{text} ({', '.join(details)})" if details else text


class BadRequestError(APIStatusError):
    """400: the request is not valid; `param` names the field when the server says."""


class AuthenticationError(APIStatusError):
    """401: the API key is missing or not valid."""


class PermissionDeniedError(APIStatusError):
    """403: the key may not do this."""


class NotFoundError(APIStatusError):
    """404: no such route, model or file."""


class ConflictError(APIStatusError):
    """409: e.g. an Idempotency-Key reused for another request."""


class UnprocessableEntityError(APIStatusError):
    """422: the server could not read the request."""


class RateLimitError(APIStatusError):
    """429: too many requests; retried with the server's Retry-After when retries are on."""


class InternalServerError(APIStatusError):
    """500 and above: the server failed; retried when retries are on."""


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def error_for_status(
    status_code: int, body: bytes, headers: Mapping[str, str], secrets: tuple[str, ...] = ()
) -> APIStatusError:
    """The exception for an error answer, reading whatever error body the server sent.

    `secrets` (the API key) are masked in the message should the server repeat them; `body`
    keeps the bytes as they came.
    """
    message, kind, param, code = _read_error_body(body)
    if not message:
        message = _default_message(status_code)
    message = mask(message, secrets)
    cls = _BY_STATUS.get(status_code) or (InternalServerError if status_code >= 500 else APIStatusError)
    request_id = headers.get("x-request-id") or headers.get("request-id")
    return cls(
        message,
        status_code=status_code,
        type=kind,
        param=param,
        code=code,
        request_id=request_id,
        body=body,
        headers=headers,
    )


def _read_error_body(body: bytes) -> tuple[str, str | None, str | None, str | None]:
    """(message, type, param, code) from the OpenAI envelope, FastAPI's detail, or plain text."""
    text = body.decode("utf-8", errors="replace").strip()
    if not text:
        return "", None, None, None
    try:
        data: Any = json.loads(text)
    except ValueError:
        return _shorten(text), None, None, None
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        error = data["error"]
        return (
            str(error.get("message") or ""),
            _optional(error.get("type")),
            _optional(error.get("param")),
            _optional(error.get("code")),
        )
    if isinstance(data, dict) and "detail" in data:
        return _fastapi_detail(data["detail"])
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        return data["error"], None, None, None
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return data["message"], None, None, None
    return _shorten(text), None, None, None


def _fastapi_detail(detail: Any) -> tuple[str, str | None, str | None, str | None]:
    if isinstance(detail, str):
        return detail, None, None, None
    if isinstance(detail, list) and detail and isinstance(detail[0], dict):
        first = detail[0]
        location = [str(part) for part in first.get("loc", []) if part not in ("body", "query", "header")]
        param = ".".join(location) or None
        messages = "; ".join(
            f"{'.'.join(str(p) for p in item.get('loc', []))}: {item.get('msg', '')}"
            for item in detail
            if isinstance(item, dict)
        )
        return messages, _optional(first.get("type")), param, None
    return _shorten(json.dumps(detail)), None, None, None


def _optional(value: Any) -> str | None:
    return None if value is None else str(value)


def _shorten(text: str, limit: int = 500) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _default_message(status_code: int) -> str:
    from http import HTTPStatus

    try:
        return f"{HTTPStatus(status_code).phrase} (the server sent no error message)"
    except ValueError:
        return "the server answered with a non-standard status and no error message"
