"""The requests of a batch, read a line at a time from JSONL, CSV or plain text, and checked.

- JSONL (`.jsonl`, `.ndjson`, or any file whose first line starts with `{`): the Batch API's
  format, `{"custom_id", "method": "POST", "url": "/v1/images/generations", "body": {...}}`;
  edits in their JSON form (images by `image_url` or `file_id`).
- CSV (`.csv`): a header row; a `prompt` column, an optional `custom_id` column, and any other
  column is a request field (`model`, `size`, ...; numbers and booleans read as JSON).
- Plain text (anything else): one prompt a line; blank lines and lines starting with `#` skipped.

CSV and text lines are generations, with `defaults` (the command line's `--model`, `--size`,
...) for the fields a line leaves out. Each line is checked against the contract's schema (when
jsonschema is installed) and the model's rules, so that a bad line is found before anything is
sent; it comes back as a `BadLine` naming its line number and what is wrong.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TextIO

from ..arguments import OPERATION_OF
from ..batches import BATCH_OPERATION_OF
from ..checks import check_request
from ..contract import Contract
from ..contract.operations import JSON
from ..contract.validation import RequestValidator
from ..errors import RequestRulesError, UploadError

InputFormat = Literal["jsonl", "csv", "text"]
METHOD = "POST"
_SAFE = re.compile(r"[^A-Za-z0-9._-]")


@dataclass(frozen=True)
class BatchLine:
    """One request of a batch, checked."""

    line: int
    custom_id: str
    url: str
    """As the Batch API writes it, e.g. /v1/images/generations."""
    operation_id: str
    body: dict[str, Any]


@dataclass(frozen=True)
class BadLine:
    """A line that cannot be sent, and why."""

    line: int
    message: str
    custom_id: str | None = None

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


def input_format(path: Path) -> InputFormat:
    """The format of `path`, by its extension, else by its first line."""
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix == ".csv":
        return "csv"
    with path.open("rb") as handle:
        for raw in handle:
            if raw.strip():
                return "jsonl" if raw.lstrip().startswith(b"{") else "text"
    return "text"


def file_stem(custom_id: str) -> str:
    """The start of the file names of a request's images: its custom_id, made safe for a file
    name, with a short hash when that changed it (so two ids never share a name)."""
    safe = _SAFE.sub("_", custom_id)[:100]
    if safe == custom_id and not custom_id.startswith("."):
        return safe
    return f"{safe.lstrip('.') or 'request'}-{hashlib.sha256(custom_id.encode()).hexdigest()[:8]}"


def read_requests(
    path: Path,
    contract: Contract,
    *,
    defaults: Mapping[str, Any] | None = None,
    check_rules: bool = True,
) -> Iterator[BatchLine | BadLine]:
    """Every line of `path` as a checked request or a BadLine, in order, read as a stream."""
    kind = input_format(path)
    checker = _Checker(contract, check_rules)
    generations = contract.operation(OPERATION_OF["generate"])
    with path.open("r", encoding="utf-8", newline="") as handle:
        if kind == "jsonl":
            for number, text in enumerate(handle, start=1):
                if text.strip():
                    yield checker.jsonl(number, text)
        elif kind == "csv":
            yield from _csv_lines(handle, checker, generations.path, defaults or {})
        else:
            for number, text in enumerate(handle, start=1):
                prompt = text.strip()
                if prompt and not prompt.startswith("#"):
                    body = {**(defaults or {}), "prompt": prompt}
                    yield checker.request(
                        number, f"line-{number}", contract.base_path + generations.path, body
                    )


def _csv_lines(
    handle: TextIO, checker: _Checker, path: str, defaults: Mapping[str, Any]
) -> Iterator[BatchLine | BadLine]:
    reader = csv.DictReader(handle)
    if reader.fieldnames is None or "prompt" not in reader.fieldnames:
        yield BadLine(1, f"a CSV batch needs a header row with a `prompt` column; it has {reader.fieldnames}")
        return
    for row in reader:
        number = reader.line_num
        body: dict[str, Any] = dict(defaults)
        custom_id = ""
        for column, value in row.items():
            if column is None or value is None or value == "":
                continue
            if column == "custom_id":
                custom_id = value
            else:
                body[column] = value if column == "prompt" else _typed(value)
        yield checker.request(number, custom_id or f"row-{number}", checker.base_path + path, body)


class _Checker:
    """Checks lines against the contract (schema and model rules)."""

    def __init__(self, contract: Contract, check_rules: bool) -> None:
        self.contract = contract
        self.base_path = contract.base_path
        self.check_rules = check_rules
        self.endpoints = batch_endpoints(contract)
        self.validator: RequestValidator | None = None
        try:
            import jsonschema  # noqa: F401  (the schema check needs it; the rules do not)

            self.validator = contract.validator
        except ImportError:
            pass

    def jsonl(self, number: int, text: str) -> BatchLine | BadLine:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            return BadLine(number, f"is not JSON ({error.msg} at column {error.colno})")
        if not isinstance(data, dict):
            return BadLine(number, "is not a JSON object")
        custom_id = data.get("custom_id")
        if not isinstance(custom_id, str) or not custom_id:
            return BadLine(number, 'has no "custom_id" (a non-empty string naming the request)')
        method = data.get("method", METHOD)
        if not isinstance(method, str) or method.upper() != METHOD:
            return BadLine(number, f'has method {method!r}; batch requests are "POST"', custom_id)
        url, body = data.get("url"), data.get("body")
        if not isinstance(url, str):
            return BadLine(number, 'has no "url" (e.g. "/v1/images/generations")', custom_id)
        if not isinstance(body, dict):
            return BadLine(number, 'has no "body" object (the request\'s fields)', custom_id)
        return self.request(number, custom_id, url, body)

    def request(self, number: int, custom_id: str, url: str, body: dict[str, Any]) -> BatchLine | BadLine:
        operation = self.contract.find_url(METHOD, url)
        if (
            operation is None
            or JSON not in operation.bodies
            or self.base_path + operation.path not in self.endpoints
        ):
            listed = " or ".join(self.endpoints)
            return BadLine(number, f"url {url!r} is not one a batch can call; use {listed}", custom_id)
        if body.get("stream"):
            return BadLine(number, "asks for a stream; a batch's requests are answered whole", custom_id)
        schema = operation.bodies[JSON]
        if self.validator is not None and not self.validator.is_valid(schema, body):
            problems = self.validator.errors(schema, body)
            if problems:
                return BadLine(number, f"the body breaks the contract: {problems[0]}", custom_id)
        try:
            check_request(
                operation.name,
                body,
                None,
                catalog=self.contract.catalog if self.check_rules else None,
                fields=self.contract.fields(schema),
            )
        except (RequestRulesError, UploadError) as error:
            return BadLine(number, str(error), custom_id)
        return BatchLine(number, custom_id, url, operation.id, body)


def batch_endpoints(contract: Contract) -> tuple[str, ...]:
    """The URLs a batch may call, as the contract's batch creation lists them."""
    schema = contract.operation(BATCH_OPERATION_OF["create"]).bodies[JSON]
    endpoint = next(field for field in contract.fields(schema) if field.name == "endpoint")
    return tuple(str(value) for value in endpoint.enum or ())


def _typed(value: str) -> Any:
    """A CSV cell: JSON when it reads as JSON (42, true, [1,2]), else the text itself."""
    try:
        return json.loads(value)
    except ValueError:
        return value
