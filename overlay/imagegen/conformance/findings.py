"""What a conformance run found, in a form reports and tests can use."""

from __future__ import annotations

import shlex
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

from .coverage import OperationCoverage

TOKEN_PLACEHOLDER = "$IMAGEGEN_TOKEN"
# Headers curl sets itself, or that would be wrong when the body is replayed from a file.
_SKIPPED_HEADERS = {"content-length", "host", "connection", "accept-encoding", "user-agent"}

Streaming = Literal["supported", "not supported", "not tested", "not documented by the profile"]


@dataclass(frozen=True)
class SentRequest:
    """A request as it went out, with the token replaced by $IMAGEGEN_TOKEN."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None

    @property
    def is_text(self) -> bool:
        """Whether the body can be shown (and given to curl) as text."""
        if self.body is None:
            return True
        content_type = next(
            (value for name, value in self.headers.items() if name.lower() == "content-type"), ""
        )
        if "multipart/form-data" in content_type:
            return False
        try:
            self.body.decode("utf-8")
        except UnicodeDecodeError:
            return False
        return True

    def curl(self, body_file: str | None = None) -> str:
        """A curl command that sends this request again.

        Text bodies are inlined; other bodies (multipart with images) are read from `body_file`,
        which the report writes next to itself. The token comes from $IMAGEGEN_TOKEN.
        """
        parts = ["curl", "-sS", "-X", self.method, shlex.quote(self.url)]
        for name, value in self.headers.items():
            if name.lower() in _SKIPPED_HEADERS:
                continue
            header = f"{name}: {value}"
            # Double quotes so that the shell expands $IMAGEGEN_TOKEN.
            parts += ["-H", f'"{header}"' if TOKEN_PLACEHOLDER in value else shlex.quote(header)]
        if self.body:
            if self.is_text:
                parts += ["--data-raw", shlex.quote(self.body.decode("utf-8"))]
            else:
                parts += ["--data-binary", "@" + shlex.quote(body_file or "request-body.bin")]
        return " ".join(parts)


@dataclass(frozen=True)
class Finding:
    """One distinct way the server departs from the contract (each is reported once)."""

    operation: str  # e.g. "POST /images/edits"
    check: str  # a schemathesis check (e.g. "response_schema_conformance") or an imagegen probe
    title: str  # a short name of the failure
    message: str  # what was expected and what happened, several lines
    phase: str  # examples, coverage, fuzzing, stateful, or probe
    status: int | None  # the answer's status, None when there was none
    request: SentRequest | None
    response_body: str  # the start of the answer's body
    rule: str = ""  # the rule it breaks, in words (the check's explanation when the check gave none)
    trigger: str | None = None  # the value that triggered it, when one is known (`size=300x200`)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.operation, self.check, self.title)


@dataclass
class Outcome:
    """The result of a conformance run."""

    model: str
    base_url: str
    seed: int
    findings: list[Finding] = field(default_factory=list)
    # (operation, check, "success" | "failure" | "error" | "skip") -> how many times
    checks: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    not_implemented: list[str] = field(default_factory=list)  # operations answering 404/405/501
    not_served: list[str] = field(default_factory=list)  # operations the model does not serve
    tested: list[str] = field(default_factory=list)  # the operations tested, as "POST /path"
    streaming: Streaming = "not tested"
    errors: list[str] = field(default_factory=list)  # what kept parts of the run from happening
    elapsed_s: float = 0.0
    incomplete: str | None = None  # why the run stopped before it was done (time limit, Ctrl-C)
    notes: list[str] = field(default_factory=list)  # what probes found that is not a finding
    warnings: list[str] = field(default_factory=list)  # what the reader should know (a slow server)
    profile: str | None = None  # the profile the run used, as "name: description"
    not_documented: list[str] = field(default_factory=list)  # operations the profile leaves out
    coverage: dict[str, OperationCoverage] = field(default_factory=dict)  # operation -> what was sent

    @property
    def conforms(self) -> bool:
        """No finding, and the run was complete."""
        return not self.findings and not self.errors and self.incomplete is None

    @property
    def exit_status(self) -> int:
        """0 conforms, 1 a finding, 2 the run was incomplete (or could not do what it should)."""
        if self.findings:
            return 1
        return 0 if self.conforms else 2

    @property
    def cases(self) -> int:
        """How many check results were recorded."""
        return sum(self.checks.values())

    def counts(self) -> dict[tuple[str, str], dict[str, int]]:
        """(operation, check) -> {"success": n, "failure": n, "error": n, "skip": n}."""
        table: dict[tuple[str, str], dict[str, int]] = {}
        for (operation, check, status), count in self.checks.items():
            row = table.setdefault((operation, check), {"success": 0, "failure": 0, "error": 0, "skip": 0})
            row[status] = row.get(status, 0) + count
        return table
