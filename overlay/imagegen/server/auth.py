"""Bearer-token authentication. Tokens are compared in constant time and never echoed."""

from __future__ import annotations

import hmac
from collections.abc import Iterable

from starlette.requests import Request

from .errors import ApiError


def check_bearer(request: Request, tokens: Iterable[str]) -> str:
    """The token of an authorised request; a 401 in the OpenAI envelope otherwise."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise ApiError(
            401,
            "No API key was sent. Send it as 'Authorization: Bearer <key>'.",
            code="missing_api_key",
        )
    if not any(hmac.compare_digest(token.encode(), known.encode()) for known in tokens):
        raise ApiError(401, "The API key is not valid for this server.", code="invalid_api_key")
    return token
