"""Errors of the reference server, answered in the OpenAI envelope."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from starlette.responses import JSONResponse

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    409: "conflict_error",
    413: "invalid_request_error",
    415: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
    500: "server_error",
    503: "server_error",
}
MAX_ECHO_CHARS = 80
"""How much of a value the client sent an error message quotes (a 1 MB model name is not echoed)."""
MAX_MESSAGE_CHARS = 2000
MAX_PARAM_CHARS = 200
_LONGER = MAX_ECHO_CHARS + 1
_QUOTED = re.compile(rf"'[^']{{{_LONGER},}}'|\"[^\"]{{{_LONGER},}}\"")


@dataclass
class ApiError(Exception):
    """An answer other than 200: status, a message for people, and the field at fault."""

    status: int
    message: str
    param: str | None = None
    code: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.message}"

    def envelope(self) -> dict[str, dict[str, str | None]]:
        """The `{"error": {...}}` body."""
        kind = ERROR_TYPES.get(self.status, "server_error" if self.status >= 500 else "invalid_request_error")
        param = clip(self.param, MAX_PARAM_CHARS) if self.param is not None else None
        return {
            "error": {"message": clip_echoes(self.message), "type": kind, "param": param, "code": self.code}
        }

    def response(self) -> JSONResponse:
        """The JSON response carrying this error."""
        return JSONResponse(self.envelope(), status_code=self.status, headers=dict(self.headers))


def clip_echoes(message: str) -> str:
    """`message` with every quoted value longer than MAX_ECHO_CHARS shortened, and at most
    MAX_MESSAGE_CHARS long: error messages quote what was sent, never all of it."""
    shortened = _QUOTED.sub(lambda match: _clip_quoted(match.group()), message)
    return clip(shortened, MAX_MESSAGE_CHARS)


def clip(text: str, limit: int) -> str:
    """`text`, or its first `limit` characters and a note of how many were left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit} more characters)"


def _clip_quoted(quoted: str) -> str:
    mark, inner = quoted[0], quoted[1:-1]
    return f"{mark}{inner[:MAX_ECHO_CHARS]}{mark}… ({len(inner) - MAX_ECHO_CHARS} more characters)"


def invalid(message: str, param: str | None = None, code: str | None = None) -> ApiError:
    """A 400 naming the offending field."""
    return ApiError(400, message, param=param, code=code)
