"""Whether an error answer to one of the runner's own requests is the contract's error envelope.

Schemathesis judges the answers to its own requests; the runner's probes and rule negatives get
answers it never sees (a 401 to a request without a key, the 400 to a size the model refuses).
They are judged by schemathesis' own checks all the same (content type, response schema), so a
defect reads the same whichever request found it, and is one finding.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from schemathesis.core.failures import FailureGroup

from ..contract import OperationInfo

# (check, title, message): one way an answer departs from the contract.
Problem = tuple[str, str, str]


@dataclass(frozen=True)
class ErrorBody:
    """What an error answer's body says, when it is the envelope."""

    enveloped: bool
    param: str | None
    message: str


def error_body(content: bytes) -> ErrorBody:
    """The envelope's param and message, if `content` is `{"error": {...}}`."""
    try:
        parsed = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return ErrorBody(False, None, "")
    error = parsed.get("error") if isinstance(parsed, dict) else None
    if not isinstance(error, dict):
        return ErrorBody(False, None, "")
    param = error.get("param")
    return ErrorBody(True, str(param) if param is not None else None, str(error.get("message") or ""))


def envelope_problems(schema: Any, operation: OperationInfo, answer: Any) -> list[Problem]:
    """What schemathesis' content-type and response-schema checks find wrong with `answer`
    (a requests.Response) to `operation`, as (check, title, message)."""
    from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

    case = schema[operation.path][operation.method].Case(media_type=next(iter(operation.bodies), None))
    problems: list[Problem] = []
    for check in (content_type_conformance, response_schema_conformance):
        try:
            case.validate_response(answer, checks=[check])
        except FailureGroup as group:
            problems += [(check.__name__, failure.title, failure.message) for failure in group.exceptions]
    return problems


__all__ = ["ErrorBody", "Problem", "envelope_problems", "error_body"]
