"""Judging the runner's own requests from the rules: the valid ones (the `rules` phase) by every
response check, schemathesis' and imagegen's; the ones that must be refused by their status, the
error envelope (schemathesis' own checks) and the `param` that names the field at fault."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Protocol

from . import image_checks, stream_checks
from .bodies import Built
from .context import RunContext
from .explain import explanation
from .findings import Finding
from .negatives import RULE_CHECK, Negative
from .positives import PHASE as POSITIVE_PHASE
from .positives import case_body
from .probes import probe_finding
from .refusals import envelope_problems, error_body
from .session import Http


class Recorder(Protocol):
    """Where judgements go (the runner, which keeps the outcome)."""

    selected: set[str] | None

    def count(self, operation: str, check: str, status: str, times: int = 1) -> None: ...
    def add_finding(self, finding: Finding) -> None: ...
    def add_error(self, text: str) -> None: ...
    def valid_request(self, operation: str, body: Mapping[str, Any]) -> None: ...
    def rule_tested(self, operation: str, what: str, outcome: str) -> None: ...


# Schemathesis' checks that judge an answer alone (the others compare cases or need their metadata).
SCHEMATHESIS_RESPONSE_CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
)


def response_checks(selected: set[str] | None) -> list[Any]:
    """The check functions that judge the answers to the rules phase's requests."""
    from schemathesis.checks import CHECKS, load_all_checks

    load_all_checks()
    names = [*SCHEMATHESIS_RESPONSE_CHECKS, *image_checks.IMAGE_CHECKS, *stream_checks.STREAM_CHECKS]
    return [CHECKS.get_one(name) for name in names if selected is None or name in selected]


def judge_valid(
    sink: Recorder,
    schema: Any,
    context: RunContext,
    what: str,
    request: Built,
    http: Http,
    headers: Mapping[str, str],
    token: str | None,
) -> None:
    """Send one valid request of the rules phase and judge its answer with every response check."""
    import requests
    from schemathesis.core.failures import Failure, FailureGroup
    from schemathesis.core.transport import Response

    operation = request.operation
    try:
        answer = request.send(http, headers)
    except requests.RequestException as error:
        sink.add_error(
            f"{operation.label}: {what} got no answer ({type(error).__name__}: {str(error)[:200]})"
        )
        return
    response = Response.from_requests(answer, verify=True)
    case = schema[operation.path][operation.method].Case(body=case_body(request), media_type=request.media)
    sink.valid_request(operation.label, case.body)
    context.known_valid.add(id(case))
    try:
        for check in response_checks(sink.selected):
            name = getattr(check, "__name__", str(check))
            failures: list[Failure] = []
            if name in SCHEMATHESIS_RESPONSE_CHECKS:
                try:
                    case.validate_response(response, checks=[check])
                except FailureGroup as group:
                    failures = list(group.exceptions)
            else:
                try:
                    if check(None, response, case):
                        continue  # nothing to judge in this answer
                except FailureGroup as group:
                    failures = list(group.exceptions)
                except Failure as single:
                    failures = [single]
            sink.count(operation.label, name, "failure" if failures else "success")
            for failure in failures:
                finding = probe_finding(
                    operation,
                    name,
                    failure.title,
                    explanation(name),
                    failure.message,
                    answer,
                    token,
                    trigger=what,
                )
                sink.add_finding(dataclasses.replace(finding, phase=POSITIVE_PHASE))
    finally:
        context.known_valid.discard(id(case))


def judge_negative(
    sink: Recorder,
    schema: Any,
    negative: Negative,
    http: Http,
    headers: Mapping[str, str],
    token: str | None,
    model: str,
) -> None:
    """Send one request that must be refused and judge its answer: a 4xx, the envelope, the param."""
    import requests

    operation = negative.request.operation
    try:
        answer = negative.request.send(http, headers)
    except requests.RequestException as error:
        sink.rule_tested(operation.label, negative.trigger, f"no answer ({type(error).__name__})")
        sink.count(operation.label, negative.check, "error")
        return
    status = answer.status_code
    problems: list[tuple[str, str, str]] = []
    if 200 <= status < 300:
        what = f"{model} accepted" if negative.check == RULE_CHECK else "Accepted"
        problems.append(
            (
                negative.check,
                f"{what} {negative.trigger}",
                f"{negative.trigger} must be refused with a 4xx; it was answered {status}.",
            )
        )
    elif status >= 500 or status < 400:
        problems.append(
            (
                negative.check,
                f"Answered {status} to {negative.trigger}",
                f"{negative.trigger} must be refused with a 4xx; it was answered {status}.",
            )
        )
        if status >= 500:
            problems += envelope_problems(schema, operation, answer)  # an error is still the envelope
    else:
        problems += envelope_problems(schema, operation, answer)
        body = error_body(answer.content)
        if body.enveloped and body.param not in negative.params:
            expected = " or ".join(sorted(negative.params))
            problems.append(
                (
                    negative.check,
                    "The refusal does not name the field at fault",
                    f"{negative.trigger} was refused ({status}), but its param was {body.param!r},"
                    f" not {expected}.",
                )
            )
    outcome_text = f"answered {status}" + (
        f", param {error_body(answer.content).param}" if 400 <= status < 500 else ""
    )
    sink.rule_tested(
        operation.label, negative.trigger, outcome_text + ("" if not problems else " (a finding)")
    )
    own = [problem for problem in problems if problem[0] == negative.check]
    sink.count(operation.label, negative.check, "failure" if own else "success")
    for check, title, message in problems:
        if check != negative.check:
            sink.count(operation.label, check, "failure")
        sink.add_finding(
            probe_finding(
                operation,
                check,
                title,
                negative.rule,
                message,
                answer,
                token,
                trigger=negative.trigger,
            )
        )


__all__ = ["SCHEMATHESIS_RESPONSE_CHECKS", "Recorder", "judge_negative", "judge_valid", "response_checks"]
