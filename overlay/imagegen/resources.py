"""What `client.files` and `client.batches` share: requests built by the generated endpoints of
the operations they are bound to, sent by the client (key, retries, timeouts, errors)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Literal, TypedDict, TypeVar

from .calls import Call, endpoint_call
from .errors import InvalidResponseError

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


Item = TypeVar("Item")


@dataclass(frozen=True)
class Page(Generic[Item]):
    """One page of a list: its items, whether another page follows, and the id to ask after."""

    data: list[Item]
    has_more: bool
    last_id: str | None

    def __iter__(self) -> Iterator[Item]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)


def page_of(answer: Mapping[str, Any], parse: Callable[[Mapping[str, Any]], Item], what: str) -> Page[Item]:
    """The Page of a list answer (`{"data": [...], "has_more", "last_id"}`), each item parsed."""
    items = answer.get("data")
    if not isinstance(items, list):
        raise InvalidResponseError(f"the server's list of {what} has no `data` list")
    given = [item for item in items if isinstance(item, Mapping)]
    last = answer.get("last_id")
    if not isinstance(last, str):
        last = str(given[-1].get("id")) if given and given[-1].get("id") else None
    return Page([parse(item) for item in given], answer.get("has_more") is True, last)


def every_item(list_page: Callable[[str | None], Page[Item]], max_pages: int) -> Iterator[Item]:
    """Every item, page after page (`list_page(after)`; at most `max_pages` requests)."""
    after: str | None = None
    for _ in range(max_pages):
        page = list_page(after)
        yield from page
        if not page.has_more or page.last_id is None:
            return
        after = page.last_id


async def every_item_async(
    list_page: Callable[[str | None], Awaitable[Page[Item]]], max_pages: int
) -> AsyncIterator[Item]:
    """The async twin of every_item."""
    after: str | None = None
    for _ in range(max_pages):
        page = await list_page(after)
        for item in page:
            yield item
        if not page.has_more or page.last_id is None:
            return
        after = page.last_id


def whole_number(value: Any) -> int | None:
    """`value` if it is an int (not a bool), else None: how answers' counts and times are read."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def mapping_of(value: Any) -> Mapping[str, Any]:
    """`value` if it is a mapping, else an empty one."""
    return value if isinstance(value, Mapping) else {}


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
