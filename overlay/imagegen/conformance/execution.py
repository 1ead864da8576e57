"""Run schemathesis on the narrowed contract and collect what it found into the run's outcome.

Every check result of every case is counted per (operation, check, status); each distinct failure
becomes one Finding with the request that showed it (for ignored_auth, the probe without the key),
the rule in words, and the value that triggered it when schemathesis says which it mutated. An
ignored_auth failure whose probe was answered 429 or 503 (a rate limit or overload in front of
the authentication) is not a finding: it says nothing about authentication.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from requests.structures import CaseInsensitiveDict
from schemathesis import GenerationMode
from schemathesis.core.parameters import ParameterLocation
from schemathesis.engine import Status, events, from_schema

from .explain import explanation
from .findings import Finding, SentRequest
from .hooks import IDEMPOTENCY_HEADER
from .probes import NOT_JUDGED, redact

AUTH_CHECK = "ignored_auth"
SERVER_ERROR_CHECK = "not_a_server_error"
MAX_SUSPECTS = 3  # fields tried one at a time to find which value makes a server fail
Progress = Callable[[str], None]


class Sink(Protocol):
    """Where collected results go (the runner's outcome, guarded by its lock)."""

    def count(self, operation: str, check: str, status: str, times: int = 1) -> None: ...
    def add_finding(self, finding: Finding) -> None: ...
    def add_error(self, text: str) -> None: ...
    def add_note(self, text: str) -> None: ...
    def valid_request(self, operation: str, body: Mapping[str, Any]) -> None: ...
    def checks_so_far(self) -> int: ...


def execute(
    schema: Any,
    sink: Sink,
    token: str | None,
    headers: Mapping[str, str],
    progress: Progress,
    stopped: Callable[[], bool],
    started: Callable[[Any], None],
) -> None:
    """Run the schema's tests until they end or `stopped()`; `started(stream)` gets the event stream."""
    stream = from_schema(schema).execute()
    started(stream)
    for event in stream:
        if stopped():
            stream.stop()
            break
        if isinstance(event, events.ScenarioFinished):
            collect(event, sink, token, headers)
            progress(f"{event.recorder.label} [{event.phase.name.lower()}] {sink.checks_so_far()} checks")
        elif isinstance(event, events.NonFatalError):
            sink.add_error(f"{event.label}: {event.info.message}")
        elif isinstance(event, events.FatalError):
            sink.add_error(f"the run stopped: {event.exception}")


def collect(event: Any, sink: Sink, token: str | None, headers: Mapping[str, str] | None = None) -> None:
    """Count and keep what one finished scenario found; `headers` (the key) let a server error be
    sent again to find which value caused it."""
    recorder = event.recorder
    for node in recorder.cases.values():
        case = node.value
        meta = case.meta
        positive = meta is not None and meta.generation.mode is GenerationMode.POSITIVE
        if node.parent_id is None and positive and isinstance(case.body, Mapping):
            sink.valid_request(case.operation.label, case.body)
    for case_id, checks in recorder.checks.items():
        node = recorder.cases.get(case_id)
        # A stateful scenario's cases are of several operations: each is counted under its own.
        label = node.value.operation.label if node is not None else recorder.label
        for check in checks:
            failure = check.failure_info.failure if check.failure_info is not None else None
            if check.status is Status.FAILURE and failure is not None and check.name == AUTH_CHECK:
                probe = recorder.interactions.get(getattr(failure, "case_id", None) or "")
                status = (
                    probe.response.status_code if probe is not None and probe.response is not None else None
                )
                if status in NOT_JUDGED:
                    sink.count(label, check.name, "skip")
                    sink.add_note(
                        f"{label}: a request without valid authentication was answered {status} "
                        "(a rate limit or overload in front of the authentication), so ignored_auth "
                        "was not judged."
                    )
                    continue
            sink.count(label, check.name, check.status.value)
            if check.status is not Status.FAILURE or failure is None:
                continue
            shown_id = getattr(failure, "case_id", None) or case_id
            interaction = recorder.interactions.get(shown_id) or recorder.interactions.get(case_id)
            response = interaction.response if interaction is not None else None
            trigger = trigger_of(node.value) if node is not None else None
            if node is not None and check.name == SERVER_ERROR_CHECK and headers is not None:
                trigger = minimal_trigger(node.value, headers) or trigger
            sink.add_finding(
                Finding(
                    operation=label,
                    check=check.name,
                    title=failure.title,
                    message=redact(failure.message, token),
                    phase=event.phase.name.lower(),
                    status=response.status_code if response is not None else None,
                    request=_sent(interaction.request, token) if interaction is not None else None,
                    response_body=redact(_text(response.content), token) if response is not None else "",
                    rule=explanation(check.name),
                    trigger=trigger,
                )
            )


def trigger_of(case: Any) -> str | None:
    """The value that made this case what it is, when schemathesis says which it changed, or
    else a value that stands out (a very long or non-ASCII string)."""
    meta = case.meta
    data = meta.phase.data if meta is not None else None
    parameter = getattr(data, "parameter", None)
    location = getattr(data, "parameter_location", None)
    description = getattr(data, "description", None)
    if parameter:
        container = case.headers if location is ParameterLocation.HEADER else case.body
        value = container.get(parameter) if isinstance(container, Mapping) else None
        shown = f"{parameter}={describe_value(value)}" if value is not None else f"{parameter} left out"
        return f"{shown} ({description})" if description else shown
    if isinstance(case.body, Mapping):
        for name, value in case.body.items():
            if isinstance(value, str) and (len(value) > 1000 or not value.isascii()):
                return f"{name}={describe_value(value)}"
    return None


def minimal_trigger(case: Any, headers: Mapping[str, str]) -> str | None:
    """For a case the server failed on (5xx): the field whose value is the cause, found by sending
    the case again with each suspect (a non-ASCII or very long string) made plain, one at a time;
    None when no single one is the cause (or it cannot be told)."""
    body = case.body
    if not isinstance(body, Mapping) or trigger_of_parameter(case):
        return None
    suspects = [
        name
        for name, value in body.items()
        if isinstance(value, str) and (len(value) > 1000 or not value.isascii())
    ]
    for name in suspects[:MAX_SUSPECTS]:
        # Another body under the same key would be a 409 from a server that honours the key.
        kept = {
            key: value for key, value in case.headers.items() if key.lower() != IDEMPOTENCY_HEADER.lower()
        }
        plain = case.derive(headers=CaseInsensitiveDict(kept), keep_auth=True)
        plain.body[name] = "a" * max(1, min(len(body[name]), 1000))
        try:
            answer = plain.call(headers=dict(headers))
        except Exception:  # a probe that fails tells nothing: keep the first guess
            return None
        if 200 <= answer.status_code < 300:
            return f"{name}={describe_value(body[name])} (the same request with a plain {name} succeeds)"
    return None


def trigger_of_parameter(case: Any) -> bool:
    """Whether schemathesis says which parameter this case changed."""
    meta = case.meta
    return bool(getattr(meta.phase.data, "parameter", None)) if meta is not None else False


def describe_value(value: Any) -> str:
    """A value as a report shows it: strings as text (cut, with their length), the characters
    outside ASCII named."""
    if isinstance(value, bytes) or hasattr(value, "data"):
        data = value if isinstance(value, bytes) else getattr(value, "data", b"")
        return f"<file of {len(data)} bytes>"
    if not isinstance(value, str):
        text = repr(value)
        return text if len(text) <= 80 else text[:77] + "..."
    cut = value if len(value) <= 60 else value[:40] + "…"
    shown = repr(cut)
    if len(value) > 60:
        shown += f" ({len(value)} characters)"
    unusual = list(dict.fromkeys(char for char in value if not char.isascii() or not char.isprintable()))[:3]
    if unusual:
        named = ", ".join(f"U+{ord(char):04X} {unicodedata.name(char, 'unnamed')}" for char in unusual)
        shown += f", with {named}"
    return shown


def _sent(request: Any, token: str | None) -> SentRequest:
    headers: dict[str, str] = {}
    for name, values in dict(request.headers).items():
        value = ", ".join(values) if isinstance(values, list) else str(values)
        headers[str(name)] = redact(value, token)
    body = request.body if isinstance(request.body, bytes) else None
    return SentRequest(request.method, redact(request.uri, token), headers, body)


def _text(content: bytes | None) -> str:
    return (content or b"")[:2000].decode("utf-8", errors="replace")


__all__ = ["Sink", "collect", "describe_value", "execute", "trigger_of"]
