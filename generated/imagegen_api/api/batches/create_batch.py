from typing import Any

import httpx

from ...client import AuthenticatedClient, Client
from ...models.batch import Batch
from ...models.create_batch_request import CreateBatchRequest
from ...models.error_response import ErrorResponse
from ...types import UNSET, Response, Unset, http_status


def _get_kwargs(
    *,
    body: CreateBatchRequest,
    open_ai_organization: str | Unset = UNSET,
    open_ai_project: str | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(open_ai_organization, Unset):
        headers["OpenAI-Organization"] = open_ai_organization

    if not isinstance(open_ai_project, Unset):
        headers["OpenAI-Project"] = open_ai_project

    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/batches",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Batch | ErrorResponse:
    if response.status_code == 200:
        response_200 = Batch.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = ErrorResponse.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = ErrorResponse.from_dict(response.json())

        return response_401

    if response.status_code == 404:
        response_404 = ErrorResponse.from_dict(response.json())

        return response_404

    if response.status_code == 409:
        response_409 = ErrorResponse.from_dict(response.json())

        return response_409

    if response.status_code == 415:
        response_415 = ErrorResponse.from_dict(response.json())

        return response_415

    if response.status_code == 422:
        response_422 = ErrorResponse.from_dict(response.json())

        return response_422

    if response.status_code == 429:
        response_429 = ErrorResponse.from_dict(response.json())

        return response_429

    if response.status_code == 500:
        response_500 = ErrorResponse.from_dict(response.json())

        return response_500

    response_default = ErrorResponse.from_dict(response.json())

    return response_default


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Batch | ErrorResponse]:
    parsed: Batch | ErrorResponse | None
    try:
        parsed = _parse_response(client=client, response=response)
    except (ValueError, TypeError, KeyError, AttributeError):
        parsed = None
    return Response(
        status_code=http_status(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=parsed,
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: CreateBatchRequest,
    open_ai_organization: str | Unset = UNSET,
    open_ai_project: str | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> Response[Batch | ErrorResponse]:
    """Create a batch

     Runs the requests of an uploaded JSONL file (purpose `batch`) in the background, each
    line `{"custom_id", "method": "POST", "url": <endpoint>, "body"}`. The batch's output
    file has a line per request, `{"id", "custom_id", "response": {"status_code",
    "request_id", "body"}, "error"}`; requests that failed go to its error file.

    Args:
        open_ai_organization (str | Unset):
        open_ai_project (str | Unset):
        idempotency_key (str | Unset):
        body (CreateBatchRequest): What a batch runs.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Batch | ErrorResponse]
    """

    kwargs = _get_kwargs(
        body=body,
        open_ai_organization=open_ai_organization,
        open_ai_project=open_ai_project,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    body: CreateBatchRequest,
    open_ai_organization: str | Unset = UNSET,
    open_ai_project: str | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> Batch | ErrorResponse | None:
    """Create a batch

     Runs the requests of an uploaded JSONL file (purpose `batch`) in the background, each
    line `{"custom_id", "method": "POST", "url": <endpoint>, "body"}`. The batch's output
    file has a line per request, `{"id", "custom_id", "response": {"status_code",
    "request_id", "body"}, "error"}`; requests that failed go to its error file.

    Args:
        open_ai_organization (str | Unset):
        open_ai_project (str | Unset):
        idempotency_key (str | Unset):
        body (CreateBatchRequest): What a batch runs.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Batch | ErrorResponse
    """

    return sync_detailed(
        client=client,
        body=body,
        open_ai_organization=open_ai_organization,
        open_ai_project=open_ai_project,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: CreateBatchRequest,
    open_ai_organization: str | Unset = UNSET,
    open_ai_project: str | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> Response[Batch | ErrorResponse]:
    """Create a batch

     Runs the requests of an uploaded JSONL file (purpose `batch`) in the background, each
    line `{"custom_id", "method": "POST", "url": <endpoint>, "body"}`. The batch's output
    file has a line per request, `{"id", "custom_id", "response": {"status_code",
    "request_id", "body"}, "error"}`; requests that failed go to its error file.

    Args:
        open_ai_organization (str | Unset):
        open_ai_project (str | Unset):
        idempotency_key (str | Unset):
        body (CreateBatchRequest): What a batch runs.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Batch | ErrorResponse]
    """

    kwargs = _get_kwargs(
        body=body,
        open_ai_organization=open_ai_organization,
        open_ai_project=open_ai_project,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: CreateBatchRequest,
    open_ai_organization: str | Unset = UNSET,
    open_ai_project: str | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> Batch | ErrorResponse | None:
    """Create a batch

     Runs the requests of an uploaded JSONL file (purpose `batch`) in the background, each
    line `{"custom_id", "method": "POST", "url": <endpoint>, "body"}`. The batch's output
    file has a line per request, `{"id", "custom_id", "response": {"status_code",
    "request_id", "body"}, "error"}`; requests that failed go to its error file.

    Args:
        open_ai_organization (str | Unset):
        open_ai_project (str | Unset):
        idempotency_key (str | Unset):
        body (CreateBatchRequest): What a batch runs.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Batch | ErrorResponse
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            open_ai_organization=open_ai_organization,
            open_ai_project=open_ai_project,
            idempotency_key=idempotency_key,
        )
    ).parsed
