"""What `client.files` and `client.batches` share: requests built by the generated endpoints of
the operations they are bound to, sent by the client (key, retries, timeouts, errors)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, TypedDict

from .calls import Call, endpoint_call

if TYPE_CHECKING:
    import httpx

    from .client import AsyncImagesClient, ImagesClient, _ClientCore
    from .client_options import TimeoutTypes


class ResourceCallOptions(TypedDict, total=False):
    """Options of one call of client.files or client.batches."""

    timeout: float | httpx.Timeout | None
    max_retries: int
    extra_headers: Mapping[str, str]
    extra_query: Mapping[str, str]
    idempotency_key: str


class Resource:
    """Requests of the operations in OPERATION_OF ({method name: operationId}) for one client."""

    OPERATION_OF: Mapping[str, str] = {}
    _client: _ClientCore

    def __init__(self, client: _ClientCore) -> None:
        self._client = client

    def _call(self, method: str, **arguments: Any) -> Call:
        contract = self._client._contract
        operation = contract.operation(self.OPERATION_OF[method])
        options = self._client.options
        return endpoint_call(
            contract, operation, organization=options.organization, project=options.project, **arguments
        )

    def _id_call(self, method: str, what: str, **identifier: str) -> Call:
        for value in identifier.values():
            if not isinstance(value, str) or not value:
                raise ValueError(f"a {what} id is a non-empty string such as '{what}-abc123', not {value!r}")
        return self._call(method, **identifier)

    def _request(self, call: Call, options: Mapping[str, Any]) -> tuple[httpx.Request, Any, httpx.Timeout]:
        client = self._client
        request = client._request(
            call, options.get("extra_headers"), options.get("idempotency_key"), options.get("extra_query")
        )
        timeout: TimeoutTypes | Literal["default"] = options.get("timeout", "default")
        return request, client._policy(options.get("max_retries")), client._timeout(timeout)

    def _json(self, response: httpx.Response) -> dict[str, Any]:
        return self._client._answer(response, response.content)


class SyncResource(Resource):
    """A resource of ImagesClient."""

    _client: ImagesClient

    def _send(self, call: Call, options: Mapping[str, Any]) -> httpx.Response:
        request, policy, timeout = self._request(call, options)
        return self._client._send(request, policy, timeout, stream=False)


class AsyncResource(Resource):
    """A resource of AsyncImagesClient."""

    _client: AsyncImagesClient

    async def _send(self, call: Call, options: Mapping[str, Any]) -> httpx.Response:
        request, policy, timeout = self._request(call, options)
        return await self._client._send(request, policy, timeout, stream=False)


def optional(**given: Any) -> dict[str, Any]:
    """The arguments that were given (None leaves one out)."""
    return {key: value for key, value in given.items() if value is not None}
