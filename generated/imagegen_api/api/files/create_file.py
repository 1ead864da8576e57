from typing import Any

import httpx

from ...client import AuthenticatedClient, Client
from ...models.create_file_request import CreateFileRequest
from ...models.error_response import ErrorResponse
from ...models.open_ai_file import OpenAIFile
from ...types import UNSET, Response, Unset, http_status


def _get_kwargs(
    *,
    body: CreateFileRequest,
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
        "url": "/files",
    }

    _kwargs["files"] = body.to_multipart()

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> ErrorResponse | OpenAIFile:
    if response.status_code == 200:
        response_200 = OpenAIFile.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = ErrorResponse.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = ErrorResponse.from_dict(response.json())

        return response_401

    if response.status_code == 409:
        response_409 = ErrorResponse.from_dict(response.json())

        return response_409

    if response.status_code == 413:
        response_413 = ErrorResponse.from_dict(response.json())

        return response_413

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

    if response.status_code == 503:
        response_503 = ErrorResponse.from_dict(response.json())

        return response_503

    response_default = ErrorResponse.from_dict(response.json())

    return response_default


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[ErrorResponse | OpenAIFile]:
    parsed: ErrorResponse | OpenAIFile | None
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
    body: CreateFileRequest,
    open_ai_organization: str | Unset = UNSET,
    open_ai_project: str | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> Response[ErrorResponse | OpenAIFile]:
    """Upload a file

     Uploads a file to refer to later by its id: an image to edit by `file_id` (purpose
    `vision` or `user_data`), or the JSONL input of a batch (purpose `batch`). A server
    bounds what it keeps; a file over its limit is refused with 413.

    Args:
        open_ai_organization (str | Unset):
        open_ai_project (str | Unset):
        idempotency_key (str | Unset):
        body (CreateFileRequest): The multipart form of an upload.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorResponse | OpenAIFile]
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
    body: CreateFileRequest,
    open_ai_organization: str | Unset = UNSET,
    open_ai_project: str | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> ErrorResponse | OpenAIFile | None:
    """Upload a file

     Uploads a file to refer to later by its id: an image to edit by `file_id` (purpose
    `vision` or `user_data`), or the JSONL input of a batch (purpose `batch`). A server
    bounds what it keeps; a file over its limit is refused with 413.

    Args:
        open_ai_organization (str | Unset):
        open_ai_project (str | Unset):
        idempotency_key (str | Unset):
        body (CreateFileRequest): The multipart form of an upload.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorResponse | OpenAIFile
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
    body: CreateFileRequest,
    open_ai_organization: str | Unset = UNSET,
    open_ai_project: str | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> Response[ErrorResponse | OpenAIFile]:
    """Upload a file

     Uploads a file to refer to later by its id: an image to edit by `file_id` (purpose
    `vision` or `user_data`), or the JSONL input of a batch (purpose `batch`). A server
    bounds what it keeps; a file over its limit is refused with 413.

    Args:
        open_ai_organization (str | Unset):
        open_ai_project (str | Unset):
        idempotency_key (str | Unset):
        body (CreateFileRequest): The multipart form of an upload.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorResponse | OpenAIFile]
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
    body: CreateFileRequest,
    open_ai_organization: str | Unset = UNSET,
    open_ai_project: str | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> ErrorResponse | OpenAIFile | None:
    """Upload a file

     Uploads a file to refer to later by its id: an image to edit by `file_id` (purpose
    `vision` or `user_data`), or the JSONL input of a batch (purpose `batch`). A server
    bounds what it keeps; a file over its limit is refused with 413.

    Args:
        open_ai_organization (str | Unset):
        open_ai_project (str | Unset):
        idempotency_key (str | Unset):
        body (CreateFileRequest): The multipart form of an upload.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorResponse | OpenAIFile
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
