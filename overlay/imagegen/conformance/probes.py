"""Requests the runner makes before schemathesis runs, to learn what to test and to test what no
generated case can.

- Which operations the server implements: a route answering 404, 405 or 501 is "not
  implemented" (LocalAI has no edits or variations) and is left out of the run, except a 404
  naming the made-up id of a path such as `/files/{file_id}`: the route is there, the file is not.
- Authentication: a request without a key, and one with a wrong key, must be refused with 401
  (or 403) in the error envelope, judged by schemathesis' own checks. A 429 or 503 answered
  before the key is looked at says nothing about authentication: a note, not a finding.
- Streaming: one `stream: true` request. A model whose rules say it streams must answer with an
  event stream; plain JSON, or a 5xx while the same request without `stream` succeeds, is the
  finding `stream_not_supported`. A refused or failed probe tells nothing and narrows nothing.
- Idempotency: whether the server honours `Idempotency-Key` (the same key with another body is
  a 409, or the first answer again). One that ignores the header is not held to its length limit.
- Masks: an edit whose mask is not the first image's size must be refused (`mask_size_rejection`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests

from ..contract import IMAGE, MASK, Contract, OperationInfo
from ..contract.operations import MULTIPART
from ..masking import mask
from .bodies import Built, square_png
from .findings import TOKEN_PLACEHOLDER, Finding, SentRequest
from .hooks import IDEMPOTENCY_HEADER
from .refusals import envelope_problems
from .session import Http, RunStopped
from .strategies import mask_for
from .stream_checks import STREAM_NOT_SUPPORTED, STREAM_NOT_SUPPORTED_TITLE, not_streamed_message

NOT_IMPLEMENTED = frozenset({404, 405, 501})
NOT_JUDGED = frozenset({429, 503})  # answered before the request was looked at: rate limits, overload
MASK_CHECK = "mask_size_rejection"
_WRONG_KEY = "sk-imagegen-conformance-wrong-key"
_UNTOLD = " streaming is tested as the contract says."  # a probe that tells nothing narrows nothing


class SetupError(Exception):
    """The run cannot happen (server unreachable, nothing to test); the message says why."""


def check_reachable(http: Http) -> None:
    """Raise SetupError unless something answers HTTP at the server's root."""
    try:
        http.request("GET", http.root)
    except RunStopped:
        raise
    except requests.RequestException as error:
        reason = str(error) or type(error).__name__
        raise SetupError(f"no server answers at {http.root}: {reason[:300]}") from None


PROBE_ID = "imagegen-probe"


def implemented(http: Http, operation: OperationInfo, headers: Mapping[str, str]) -> bool:
    """Whether the server has a route for `operation` (anything but 404, 405 or 501 to an empty
    body). On a path with an id in it (`/files/{file_id}`) a 404 that names the probe's id is
    "no such object", which only a server that looked the object up can say."""
    url = http.root + re.sub(r"\{[^}]+\}", PROBE_ID, operation.path)
    try:
        if operation.method in ("GET", "DELETE", "HEAD"):
            answer = http.request(operation.method, url, headers=headers)
        else:
            answer = http.request(operation.method, url, json={}, headers=headers)
    except RunStopped:
        raise
    except requests.RequestException:
        return True  # it did not say it lacks the route; schemathesis will meet the same trouble
    if answer.status_code == 404 and "{" in operation.path:
        return PROBE_ID in answer.text[:2000]
    return answer.status_code not in NOT_IMPLEMENTED


def sent(request: requests.PreparedRequest, token: str | None) -> SentRequest:
    """A request as it went out, with the token replaced by $IMAGEGEN_TOKEN."""
    headers = {str(name): redact(str(value), token) for name, value in request.headers.items()}
    body = request.body
    data = body.encode() if isinstance(body, str) else body if isinstance(body, bytes) else None
    return SentRequest(str(request.method), redact(str(request.url), token), headers, data)


def redact(value: str, token: str | None) -> str:
    """`value` with the token replaced by $IMAGEGEN_TOKEN (imagegen.masking, the one masking
    function: tokens too short to be secrets, such as a local server's "t", are left alone)."""
    return mask(value, [token], placeholder=TOKEN_PLACEHOLDER)


def answer_text(answer: requests.Response) -> str:
    return answer.content[:2000].decode("utf-8", errors="replace")


def probe_finding(
    operation: OperationInfo,
    check: str,
    title: str,
    rule: str,
    message: str,
    answer: requests.Response,
    token: str | None,
    trigger: str | None = None,
) -> Finding:
    """A finding of one of the runner's own requests."""
    return Finding(
        operation=operation.label,
        check=check,
        title=title,
        message=redact(message, token),
        phase="probe",
        status=answer.status_code,
        request=sent(answer.request, token),
        response_body=redact(answer_text(answer), token),
        rule=rule,
        trigger=trigger,
    )


@dataclass
class ProbeResult:
    """What a probe found: findings, notes for the report, and counted checks."""

    findings: list[Finding]
    notes: list[str]
    counted: list[tuple[str, str, str]]  # (operation, check, status)


def auth_probe(http: Http, schema: Any, built: Built, token: str) -> ProbeResult:
    """Send `built` without a key and with a wrong one: each must be refused with 401 or 403 in
    the error envelope. A 2xx is left to schemathesis' ignored_auth; 429/503 are not judged."""
    result = ProbeResult([], [], [])
    operation = built.operation
    for label, headers in (
        ("without an API key", {}),
        ("with a wrong API key", {"Authorization": f"Bearer {_WRONG_KEY}"}),
    ):
        try:
            answer = built.send(http, headers)
        except requests.RequestException as error:
            result.notes.append(f"The authentication probe {label} got no answer ({type(error).__name__}).")
            continue
        status = answer.status_code
        if status in NOT_JUDGED:
            result.notes.append(
                f"A request {label} was answered {status} (rate limit or overload) before the key was "
                "looked at, so authentication was not judged by it."
            )
            continue
        if not 400 <= status < 500:
            continue  # accepted: schemathesis' ignored_auth reports it, with its own probes
        rule = f"A request {label} must be refused with 401 (or 403) in the contract's error envelope (JSON)."
        problems = envelope_problems(schema, operation, answer)
        for check, title, message in problems:
            result.findings.append(probe_finding(operation, check, title, rule, message, answer, token))
        for check in ("content_type_conformance", "response_schema_conformance"):
            failed = any(problem[0] == check for problem in problems)
            result.counted.append((operation.label, check, "failure" if failed else "success"))
    return result


@dataclass(frozen=True)
class StreamProbe:
    """What a `stream: true` request got: `supported`, `not supported`, or untold (None)."""

    streaming: str | None
    finding: Finding | None = None
    note: str | None = None


def stream_probe(
    http: Http, built: Built, headers: Mapping[str, str], model: str, promised: bool, token: str | None
) -> StreamProbe:
    """Ask `built` with `stream: true` and judge the answer (see the module's docstring)."""
    streamed = built.with_fields(stream=True)
    operation = built.operation
    try:
        answer = streamed.send(http, headers)
    except requests.RequestException as error:
        return StreamProbe(
            None,
            note=f"The streaming probe got no answer ({type(error).__name__});{_UNTOLD}",
        )
    kind = answer.headers.get("content-type", "").split(";")[0].strip().lower()
    if answer.status_code == 200 and kind == "text/event-stream":
        return StreamProbe("supported")
    if answer.status_code == 200:
        problem = f"200 {kind or 'with no content type'}"
    elif answer.status_code in NOT_JUDGED:
        return StreamProbe(
            None,
            note=f"The streaming probe was answered {answer.status_code} (overload, rate limit);{_UNTOLD}",
        )
    elif answer.status_code >= 500:
        try:
            control = built.send(http, headers)
        except requests.RequestException:
            control = None
        if control is None or control.status_code != 200:
            return StreamProbe(
                None,
                note=f"The streaming probe was answered {answer.status_code}, and so was the same request "
                f"without stream;{_UNTOLD}",
            )
        problem = f"{answer.status_code} while the same request without stream succeeds"
    else:
        return StreamProbe(
            None,
            note=f"The streaming probe was refused ({answer.status_code}: {answer_text(answer)[:160]});"
            f"{_UNTOLD}",
        )
    if not promised:
        return StreamProbe(
            "not supported",
            note=f"stream: true was answered {problem}; no rule of {model} promises streaming, "
            "so this is not a finding.",
        )
    rule = f"{model} streams, by its rules: a stream: true request must be answered with text/event-stream."
    finding = probe_finding(
        operation,
        STREAM_NOT_SUPPORTED,
        STREAM_NOT_SUPPORTED_TITLE,
        rule,
        not_streamed_message(model, problem),
        answer,
        token,
        trigger="stream: true",
    )
    return StreamProbe("not supported", finding=finding)


def idempotency_honoured(http: Http, built: Built, headers: Mapping[str, str], key: str) -> bool | None:
    """Whether the server honours Idempotency-Key: the same key with another body is a 409, or
    the first answer again. None when the probe could not tell (an answer other than 200)."""
    if IDEMPOTENCY_HEADER not in built.operation.headers:
        return None
    keyed = {**headers, IDEMPOTENCY_HEADER: key}
    try:
        first = built.send(http, keyed)
        if first.status_code != 200:
            return None
        again = built.with_fields(prompt=f"{built.fields.get('prompt', 'x')} (again)").send(http, keyed)
    except requests.RequestException:
        return None
    replayed: bool = again.status_code == 200 and again.content == first.content
    return again.status_code == 409 or replayed


def mask_probe_operation(contract: Contract, tested: list[OperationInfo]) -> OperationInfo | None:
    """The operation the mask probe uses: the first tested one with a multipart image and mask."""
    for op in tested:
        schema = op.bodies.get(MULTIPART)
        if schema is not None and {IMAGE, MASK} <= set(contract.upload_fields(schema).values()):
            return op
    return None


def mask_size_probe(
    http: Http,
    contract: Contract,
    operation: OperationInfo,
    model: str,
    headers: Mapping[str, str],
    token: str | None,
) -> Finding | None:
    """An edit with a mask half the image's size must be refused (4xx); a Finding if it is not."""
    fields = contract.fields(operation.bodies[MULTIPART])
    images = [field for field in fields if field.upload == IMAGE]
    image_field = next((field.name for field in images if field.kind != "array"), images[0].name)
    mask_field = next(field.name for field in fields if field.upload == MASK)
    files = [
        (image_field, ("image.png", square_png(64), "image/png")),
        (mask_field, ("mask.png", mask_for(32, 32), "image/png")),
    ]
    data = {"prompt": "Repaint the transparent part", "model": model}
    answer = http.request("POST", http.root + operation.path, files=files, data=data, headers=headers)
    if 400 <= answer.status_code < 500:
        return None
    return probe_finding(
        operation,
        MASK_CHECK,
        "Mask of the wrong size accepted",
        "A mask must have the first image's size; an edit whose mask does not must be refused with a 4xx.",
        f"An edit whose mask is 32x32 while the image is 64x64 should be refused with a 4xx,\n"
        f"but the server answered {answer.status_code}.",
        answer,
        token,
        trigger="mask: 32x32 PNG, image: 64x64 PNG",
    )


__all__ = [
    "IDEMPOTENCY_HEADER",
    "MASK_CHECK",
    "NOT_IMPLEMENTED",
    "NOT_JUDGED",
    "ProbeResult",
    "SetupError",
    "StreamProbe",
    "auth_probe",
    "check_reachable",
    "idempotency_honoured",
    "implemented",
    "mask_probe_operation",
    "mask_size_probe",
    "probe_finding",
    "redact",
    "sent",
    "stream_probe",
]
