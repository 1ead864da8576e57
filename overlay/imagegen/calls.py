"""Requests built with the generated client, for any operation of the contract.

The generated endpoint module gives the route and headers (`imagegen_api.api.<tag>.<operation>`),
the generated model of a multipart schema encodes its fields (`imagegen_api.models.<schema>`:
booleans as true/false, None left out); this module finds both from the contract and adds the
files: each upload goes in the field the contract marks for its role, one image as the
single-file field when the schema has one (what the official clients send), several as the
repeated array field.

A JSON body is sent as given: for a body of JSON values the generated model's
`from_dict(body).to_dict()` is the body itself (tests/test_calls.py checks it), and that round
trip would be most of the client's own time per call.
"""

from __future__ import annotations

import importlib
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from .contract import Contract, OperationInfo
from .contract.operations import JSON, MULTIPART
from .uploads import PreparedUpload


@dataclass(slots=True)  # not frozen: a frozen dataclass costs a microsecond more per call
class Call:
    """A request ready to send (without auth, retries or timeouts, which the client adds)."""

    operation: str
    method: str
    path: str
    headers: dict[str, str]
    json: dict[str, Any] | None = None
    files: list[tuple[str, Any]] | None = None
    stream: bool = False
    expected_images: int = 1
    images_required: bool = False
    """An answer without images is an error (generate, edit, vary; not a generic request)."""
    model: str | None = None
    """The request's model (Azure routes a request to the deployment of that name)."""
    params: dict[str, Any] | None = None
    """Query parameters the operation itself takes (a listing's `limit`, ...)."""


def json_call(
    contract: Contract,
    operation: OperationInfo,
    body: Mapping[str, Any],
    organization: str | None,
    project: str | None,
) -> Call:
    """`operation` with `body` as JSON, on the generated endpoint's route and headers."""
    route = _route(contract, operation, organization, project)
    return _call(operation, {"url": route["url"], "headers": route["headers"], "json": dict(body)}, body)


def _route(
    contract: Contract, operation: OperationInfo, organization: str | None, project: str | None
) -> dict[str, Any]:
    """The generated endpoint's url and headers for a JSON body (built once per account)."""
    key = (operation.id, organization, project)
    known = _ROUTES.get(key)
    if known is None:
        schema_name = operation.bodies[JSON]
        required = [field for field in contract.fields(schema_name) if field.required]
        model = _model_class(schema_name).from_dict(
            {field.name: _EMPTY.get(field.kind or "") for field in required}
        )
        kwargs = _endpoint(contract, operation)._get_kwargs(body=model, **_account(organization, project))
        known = {
            "url": kwargs["url"],
            "headers": {str(k): str(v) for k, v in kwargs.get("headers", {}).items()},
        }
        _ROUTES[key] = known
    return known


_ROUTES: dict[tuple[str, str | None, str | None], dict[str, Any]] = {}
_EMPTY: dict[str, Any] = {
    "string": "",
    "array": [],
    "object": {},
    "integer": 0,
    "number": 0,
    "boolean": False,
}


def multipart_call(
    contract: Contract,
    operation: OperationInfo,
    body: Mapping[str, Any],
    uploads: Mapping[str, Sequence[PreparedUpload]],
    organization: str | None,
    project: str | None,
) -> Call:
    """`operation` as multipart: the fields by the generated model, `uploads` (by role) as file parts."""
    schema_name = operation.bodies[MULTIPART]
    upload_fields = [field for field in contract.fields(schema_name) if field.upload]
    placeholders = {
        field.name: [b""] if field.kind == "array" else b"" for field in upload_fields if field.required
    }
    model = _model_class(schema_name).from_dict({**body, **placeholders})
    kwargs = _endpoint(contract, operation)._get_kwargs(body=model, **_account(organization, project))
    names = {field.name for field in upload_fields}
    parts = [(name, part) for name, part in kwargs.get("files", []) if name not in names]
    kwargs["files"] = [*_file_parts(upload_fields, uploads), *parts]
    return _call(operation, kwargs, body)


def _file_parts(
    fields: Sequence[Any], uploads: Mapping[str, Sequence[PreparedUpload]]
) -> list[tuple[str, Any]]:
    parts = []
    for role, items in uploads.items():
        candidates = [field for field in fields if field.upload == role]
        single = next((field.name for field in candidates if field.kind != "array"), None)
        many = next((field.name for field in candidates if field.kind == "array"), single)
        name = single if len(items) == 1 and single is not None else many
        if name is None:
            raise ValueError(f"the contract has no field for {role} uploads")
        parts += [(name, (item.filename, io.BytesIO(item.data), item.content_type)) for item in items]
    return parts


def _call(operation: OperationInfo, kwargs: dict[str, Any], body: Mapping[str, Any]) -> Call:
    n = body.get("n", 1)
    model = body.get("model")
    return Call(
        operation=operation.name,
        method=operation.method,
        path=str(kwargs["url"]),
        headers=kwargs.get("headers", {}),  # read, never changed: the client merges into a new dict
        json=kwargs.get("json"),
        files=kwargs.get("files"),
        stream=body.get("stream") is True,
        expected_images=n if isinstance(n, int) and not isinstance(n, bool) and n > 0 else 1,
        model=model if isinstance(model, str) else None,
    )


def endpoint_call(
    contract: Contract,
    operation: OperationInfo,
    *,
    body: Mapping[str, Any] | None = None,
    files: Mapping[str, tuple[str, bytes, str]] | None = None,
    organization: str | None = None,
    project: str | None = None,
    **arguments: Any,
) -> Call:
    """`operation` as the generated endpoint builds it from `arguments` (path and query
    parameters by their Python names) and, for a multipart body, `body` with its binary fields
    in `files` ({field: (file name, bytes, content type)}). For the operations that are not
    images: files, batches."""
    endpoint = _endpoint(contract, operation)
    if body is not None:
        arguments["body"] = _multipart_model(contract, operation, body, files or {})
    account = _account(organization, project)
    accepted = endpoint._get_kwargs.__code__.co_varnames
    kwargs = endpoint._get_kwargs(
        **arguments, **{key: value for key, value in account.items() if key in accepted}
    )
    params = {key: value for key, value in (kwargs.get("params") or {}).items() if value is not None}
    return Call(
        operation=operation.name,
        method=operation.method,
        path=str(kwargs["url"]),
        headers={str(k): str(v) for k, v in kwargs.get("headers", {}).items()},
        json=kwargs.get("json"),
        files=kwargs.get("files"),
        params=params or None,
    )


def _multipart_model(
    contract: Contract,
    operation: OperationInfo,
    body: Mapping[str, Any],
    files: Mapping[str, tuple[str, bytes, str]],
) -> Any:
    from imagegen_api.types import File

    binary = {field.name for field in contract.fields(operation.bodies[MULTIPART]) if field.binary}
    model = _model_class(operation.bodies[MULTIPART]).from_dict({**body, **{name: b"" for name in binary}})
    for name, (filename, data, content_type) in files.items():
        if name not in binary:
            raise ValueError(f"{operation.label} has no file field {name!r}")
        setattr(model, name, File(payload=io.BytesIO(data), file_name=filename, mime_type=content_type))
    return model


@cache
def _model_class(schema_name: str) -> Any:
    return getattr(importlib.import_module("imagegen_api.models"), schema_name)


def _endpoint(contract: Contract, operation: OperationInfo) -> Any:
    return _endpoint_module(_tag_of(contract, operation), operation.id)


@cache
def _endpoint_module(tag: str, operation_id: str) -> Any:
    # openapi-python-client writes api/<tag>/<operation id>.py, both in snake case.
    return importlib.import_module(f"imagegen_api.api.{_snake(tag)}.{_snake(operation_id)}")


def _tag_of(contract: Contract, operation: OperationInfo) -> str:
    return operation.tags[0] if operation.tags else "default"


def _snake(name: str) -> str:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return re.sub(r"[^0-9a-zA-Z]+", "_", spaced).strip("_").lower()


def _account(organization: str | None, project: str | None) -> dict[str, Any]:
    # The generated endpoints take the account headers as keyword arguments; none means UNSET.
    account: dict[str, Any] = {}
    if organization:
        account["open_ai_organization"] = organization
    if project:
        account["open_ai_project"] = project
    return account


__all__ = ["Call", "json_call", "multipart_call"]
