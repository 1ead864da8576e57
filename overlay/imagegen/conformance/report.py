"""Reports of a conformance run: a terminal summary, Markdown, HTML and JUnit XML.

    from imagegen.conformance.report import summary, write_reports

    print(summary(outcome, color=True))
    write_reports(outcome, Path("conformance-report"))  # report.md, report.html, junit.xml, bodies

Findings are numbered from 1 in the order of the outcome, the same number in every report and in
the name of the file that keeps a request body too big or too binary to show (finding-<n>-request.bin).
Each finding says which rule it breaks, in words, the value that triggered it when one is known, the
fields that were sent (as text: prompts are shown, files summarised), and a curl command that sends
it again. The Markdown report also has a coverage table per operation (the fields and enum values
its valid requests held, the rules its negative requests tested) and what each check verifies;
the HTML report is that Markdown rendered by markdown-it-py.

Whatever came from the server or went out in a request is treated as hostile: it is shown only inside
fenced code blocks and code spans in Markdown (escaped again by markdown-it, with raw HTML off), escaped
in XML, and stripped of control characters everywhere.
"""

from __future__ import annotations

import dataclasses
import html
import json
import os
import re
import secrets
import shlex
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .coverage import OperationCoverage
from .explain import explanation
from .findings import TOKEN_PLACEHOLDER, Finding, Outcome, SentRequest

__all__ = [
    "body_file_name",
    "failure_text",
    "render_html",
    "render_junit",
    "render_markdown",
    "summary",
    "write_reports",
]

SHOWN_CHARS = 4096  # how much of a body or message the reports show; the .bin file keeps the whole body
SUMMARY_FINDINGS = 15  # findings listed by summary(); the rest are counted
_STATUSES = ("success", "failure", "error", "skip")
_DEFAULT_BODY_FILE = "request-body.bin"  # what SentRequest.curl() names a body file it was not given
_REPRODUCE_NOTE = f"the token is read from {TOKEN_PLACEHOLDER}; run it in the folder of this report"
# Characters that must not reach a terminal, an XML file or a Markdown file as they are: C0 controls
# (except tab, newline, carriage return), DEL, C1 controls, lone surrogates, and the two XML non-characters.
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_ANSI = {"green": "\x1b[1;32m", "red": "\x1b[1;31m", "yellow": "\x1b[1;33m", "reset": "\x1b[0m"}


def body_file_name(number: int) -> str:
    """The file write_reports() keeps the request body of finding `number` (from 1) in."""
    return f"finding-{number}-request.bin"


def summary(outcome: Outcome, *, color: bool = False) -> str:
    """One screen for the terminal: verdict, run facts, a table per operation, then the findings.

    With `color`, the verdict line is coloured (ANSI); nothing else is.
    """
    findings = _distinct(outcome.findings)
    verdict = _verdict(outcome)
    if color:
        tone = "red" if findings else "green" if outcome.conforms and outcome.cases else "yellow"
        verdict = f"{_ANSI[tone]}{verdict}{_ANSI['reset']}"
    lines = [
        verdict,
        "",
        f"server   {_line(outcome.base_url)}",
        f"model    {_line(outcome.model)}",
    ]
    if outcome.profile:
        lines.append(f"profile  {_line(outcome.profile)}")
    lines += [
        f"seed     {outcome.seed}",
        f"elapsed  {_duration(outcome.elapsed_s)}",
        f"checks   {outcome.cases} run",
    ]
    totals = _operation_totals(outcome)
    if totals:
        width = max(len("operation"), *(len(_line(operation)) for operation in totals))
        lines += ["", f"{'operation':<{width}}  passed  failed  errors  skipped  findings"]
        for operation, row in totals.items():
            found = sum(1 for finding in findings if finding.operation == operation)
            lines.append(
                f"{_line(operation):<{width}}  {row['success']:>6}  {row['failure']:>6}  {row['error']:>6}"
                f"  {row['skip']:>7}  {found:>8}"
            )
    lines += [
        "",
        f"tested: {_names(outcome.tested)}",
        f"not implemented: {_names(outcome.not_implemented)}",
        f"not served by {_line(outcome.model)}: {_names(outcome.not_served)}",
    ]
    if outcome.not_documented:
        lines.append(f"not documented by the profile: {_names(outcome.not_documented)}")
    lines.append(f"streaming: {outcome.streaming}")
    if outcome.coverage:
        width = max(len(_line(operation)) for operation in outcome.coverage)
        lines += ["", "coverage (valid requests sent; rules tested; what valid requests never held):"]
        for operation, covered in outcome.coverage.items():
            missing = _never_sent(covered)
            shown = ", ".join(missing[:8]) + (f", ... ({len(missing) - 8} more)" if len(missing) > 8 else "")
            lines.append(
                f"  {_line(operation):<{width}}  {covered.valid_requests:>4} valid"
                f"  {len(covered.rules):>3} rules  never: {_line(shown or 'nothing', 160)}"
            )
    if outcome.incomplete:
        lines += ["", f"incomplete: {_line(outcome.incomplete, 200)}"]
    for warning in outcome.warnings:
        lines += ["", f"warning: {_line(warning, 300)}"]
    if outcome.notes:
        lines += ["", f"notes ({len(outcome.notes)}):"]
        lines += [f"  - {_line(note, 200)}" for note in outcome.notes[:3]]
        if len(outcome.notes) > 3:
            lines.append(f"  ... and {len(outcome.notes) - 3} more (see report.md)")
    if outcome.errors:
        lines += ["", f"run errors ({len(outcome.errors)}):"]
        lines += [f"  - {_line(error, 160)}" for error in outcome.errors[:5]]
        if len(outcome.errors) > 5:
            lines.append(f"  ... and {len(outcome.errors) - 5} more (see report.md)")
    if findings:
        lines += ["", "findings:"]
        for number, finding in enumerate(findings[:SUMMARY_FINDINGS], start=1):
            lines.append(
                f"{number:>3}. {_line(finding.operation)}  {_line(finding.check)}  ({_answer(finding)})"
            )
            lines.append(f"     {_line(finding.title, 160)}")
            if finding.trigger:
                lines.append(f"     triggered by {_line(finding.trigger, 150)}")
        if len(findings) > SUMMARY_FINDINGS:
            lines.append(f"... and {len(findings) - SUMMARY_FINDINGS} more (see report.md)")
    return "\n".join(lines)


def _never_sent(covered: OperationCoverage) -> list[str]:
    """The fields no valid request held (of those the run could send) and the values never sent."""
    missing = []
    for name, field in covered.fields.items():
        if field.status is not None:
            continue
        if not field.sent:
            missing.append(name)
        else:
            missing += [f"{name}={value}" for value in field.never_sent]
    return missing


def failure_text(outcome: Outcome) -> str:
    """What an assertion says when a run did not conform: the verdict, then each finding with its
    rule, what happened, the triggering value and a curl command (the body inline when it is text)."""
    findings = _distinct(outcome.findings)
    lines = [
        f"imagegen conformance of {_line(outcome.model)} at {_line(outcome.base_url)}: {_verdict(outcome)}"
    ]
    if outcome.incomplete:
        lines.append(_line(outcome.incomplete, 300))
    lines += [f"run error: {_line(error, 300)}" for error in outcome.errors[:5]]
    for number, finding in enumerate(findings, start=1):
        lines += [
            "",
            f"{number}. {_line(finding.operation)} {_line(finding.check)} ({_answer(finding)}):"
            f" {_line(finding.title)}",
            f"   rule: {_line(_rule(finding), 300)}",
        ]
        if finding.trigger:
            lines.append(f"   triggered by: {_line(finding.trigger, 200)}")
        message = _shown(finding.message, 600).strip()
        if message:
            lines += ["   " + line for line in message.splitlines()[:8]]
        if finding.request is not None:
            lines.append(f"   reproduce: {_line(_curl(finding.request, None), 600)}")
    return "\n".join(lines)


def render_markdown(outcome: Outcome, body_files: Mapping[int, str] | None = None) -> str:
    """A readable Markdown report; `body_files` maps a finding's number to the file with its request body.

    Text from the server or from a request appears only inside fenced code blocks (and code spans),
    fenced with more backticks than the text holds in a row.
    """
    files = body_files or {}
    findings = _distinct(outcome.findings)
    out = [
        f"# Conformance report: {_md_code(outcome.model)}",
        "",
        f"**{_md_inline(_verdict(outcome))}**",
        "",
        f"- Server: {_md_code(outcome.base_url)}",
        f"- Model: {_md_code(outcome.model)}",
    ]
    if outcome.profile:
        out.append(f"- Profile: {_md_inline(outcome.profile)}")
    out += [
        f"- Seed: {outcome.seed}",
        f"- Time: {_duration(outcome.elapsed_s)}",
        f"- Checks run: {outcome.cases}",
        f"- Findings: {len(findings)}",
        "",
    ]
    if outcome.incomplete:
        out += [f"**Incomplete.** {_md_inline(outcome.incomplete)}", ""]
    for warning in outcome.warnings:
        out += [f"**Warning.** {_md_inline(warning)}", ""]
    out += ["## Results by operation", ""]
    table = _check_table(outcome)
    if not table:
        out += ["No checks ran.", ""]
    for operation, rows in table.items():
        out += [
            f"### {_md_inline(operation)}",
            "",
            "| check | passed | failed | errors | skipped | findings |",
            "|---|--:|--:|--:|--:|--:|",
        ]
        for check, row in rows.items():
            found = sum(1 for f in findings if (f.operation, f.check) == (operation, check))
            cells = [_md_inline(check), *(str(row[status]) for status in _STATUSES), str(found)]
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
    out += _md_coverage(outcome.coverage)
    out += _md_checks(sorted({check for rows in table.values() for check in rows}))
    out += ["## Not implemented", "", "Operations the server answers with 404 or 405.", ""]
    out += _md_list(outcome.not_implemented)
    out += ["## Not served by the model", "", f"Operations {_md_code(outcome.model)} does not serve.", ""]
    out += _md_list(outcome.not_served)
    if outcome.not_documented:
        out += ["## Not documented by the profile", "", "Operations the profile leaves out.", ""]
        out += _md_list(outcome.not_documented)
    out += ["## Streaming", "", f"Streaming: {outcome.streaming}.", ""]
    if outcome.notes:
        out += ["## Notes", "", "What the probes found that is not a finding.", ""]
        out += [f"- {_md_inline(note)}" for note in outcome.notes] + [""]
    out += ["## Run errors", ""]
    if not outcome.errors:
        out += ["None.", ""]
    for error in outcome.errors:
        out += [_md_fence(_shown(error)), ""]
    out += ["## Findings", ""]
    if not findings:
        out += ["None.", ""]
    for number, finding in enumerate(findings, start=1):
        out += _md_finding(number, finding, files.get(number))
    return "\n".join(out).rstrip("\n") + "\n"


def _md_coverage(coverage: Mapping[str, OperationCoverage]) -> list[str]:
    """The coverage tables: per operation, the fields and values sent, and the rules tested."""
    if not coverage:
        return []
    out = [
        "## Coverage",
        "",
        "What the valid requests of the run held, field by field (the values of each field that lists "
        "them, and those never sent), and the rules its negative requests tested.",
        "",
    ]
    for operation, covered in coverage.items():
        out += [
            f"### {_md_inline(operation)}: {covered.valid_requests} valid requests",
            "",
            "| field | sent in | values sent | values never sent |",
            "|---|--:|---|---|",
        ]
        for name, field in covered.fields.items():
            if field.status is not None:
                out.append(f"| {_md_code(name)} | — | {_md_inline(field.status)} |  |")
                continue
            sent = ", ".join(f"{_md_code(value)} ({count})" for value, count in field.seen.most_common())
            never = ", ".join(_md_code(value) for value in field.never_sent)
            out.append(f"| {_md_code(name)} | {field.sent} | {sent} | {never} |")
        out.append("")
        if covered.rules:
            out += [f"Rules tested ({len(covered.rules)} requests that must be refused):", ""]
            out += [f"- {_md_code(what)}: {_md_inline(result)}" for what, result in covered.rules]
            out.append("")
    return out


def _md_checks(checks: list[str]) -> list[str]:
    if not checks:
        return []
    out = ["## What each check verifies", "", "| check | what it verifies |", "|---|---|"]
    out += [f"| {_md_inline(check)} | {_md_inline(explanation(check))} |" for check in checks]
    return [*out, ""]


def render_html(outcome: Outcome, body_files: Mapping[int, str] | None = None) -> str:
    """The Markdown report rendered as one self-contained HTML page (inline CSS, no scripts).

    markdown-it-py renders it with raw HTML off, so whatever the Markdown quotes is escaped; a
    Content-Security-Policy forbids scripts even if something slipped through.
    """
    findings = _distinct(outcome.findings)
    tone = "ok" if outcome.conforms else "fail" if findings else "warn"
    body = _markdown_it().render(render_markdown(outcome, body_files))
    body = body.replace("<p><strong>", f'<p class="verdict {tone}"><strong>', 1)
    body = re.sub(r"<h3>(\d+)\. ", lambda m: f'<h3 id="finding-{m[1]}">{m[1]}. ', body)
    return (
        "\n".join(
            [
                "<!DOCTYPE html>",
                '<html lang="en">',
                "<head>",
                '<meta charset="utf-8">',
                f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
                '<meta name="viewport" content="width=device-width, initial-scale=1">',
                f"<title>Conformance report: {html.escape(_clean(outcome.model), quote=True)}</title>",
                f"<style>{_CSS}</style>",
                "</head>",
                "<body>",
                body.rstrip("\n"),
                "</body>",
                "</html>",
            ]
        )
        + "\n"
    )


def _markdown_it() -> Any:
    from markdown_it import MarkdownIt

    # CommonMark with tables; raw HTML in the Markdown is shown as text, never passed through.
    return MarkdownIt("commonmark", {"html": False}).enable("table")


def render_junit(outcome: Outcome) -> str:
    """JUnit XML: a <testsuite> per operation, a <testcase> per check, a <failure> per finding.

    Run errors fail a "probe" test case; operations not implemented or not served are skipped test
    cases. Curl commands name the body files write_reports() writes next to junit.xml.
    """
    numbered = list(enumerate(_distinct(outcome.findings), start=1))
    suites: dict[str, list[ET.Element]] = {}
    for operation, rows in _check_table(outcome).items():
        for check, row in rows.items():
            case = _testcase(operation, check)
            own = [(n, f) for n, f in numbered if (f.operation, f.check) == (operation, check)]
            for number, finding in own:
                failure = ET.SubElement(case, "failure", message=_x(finding.title), type=_x(finding.check))
                failure.text = _x(_junit_text(number, finding))
            if not own and row["failure"]:
                ET.SubElement(case, "failure", message=_plural(row["failure"], "failed case"), type=_x(check))
            elif not own and row["error"]:
                ET.SubElement(case, "error", message=f"the check could not run {row['error']} times")
            elif not own and not row["success"] and row["skip"]:
                ET.SubElement(case, "skipped", message=f"skipped {row['skip']} times")
            suites.setdefault(operation, []).append(case)
    for operations, name, reason in (
        (outcome.not_implemented, "implemented", "not implemented: the server answers 404, 405 or 501"),
        (outcome.not_served, "served", f"not served by {outcome.model}"),
    ):
        for operation in operations:
            case = _testcase(operation, name)
            ET.SubElement(case, "skipped", message=_x(reason))
            suites.setdefault(operation, []).append(case)
    if outcome.errors:
        case = _testcase("imagegen.conformance", "probe")
        for error in outcome.errors:
            failure = ET.SubElement(case, "failure", message=_x(_line(error, 200)), type="run error")
            failure.text = _x(_shown(error))
        suites.setdefault("imagegen.conformance", []).append(case)
    if outcome.incomplete:
        case = _testcase("imagegen.conformance", "complete")
        failure = ET.SubElement(
            case, "failure", message=_x(_line(outcome.incomplete, 200)), type="incomplete"
        )
        failure.text = _x("\n".join([outcome.incomplete, *outcome.warnings]))
        suites.setdefault("imagegen.conformance", []).append(case)

    root = ET.Element("testsuites", name=_x(f"imagegen conformance: {outcome.model}"))
    for operation, cases in suites.items():
        suite = ET.SubElement(root, "testsuite", name=_x(operation))
        properties = ET.SubElement(suite, "properties")
        for name, value in (
            ("server", outcome.base_url),
            ("model", outcome.model),
            ("profile", outcome.profile or "none"),
            ("seed", str(outcome.seed)),
            ("streaming", outcome.streaming),
        ):
            ET.SubElement(properties, "property", name=name, value=_x(value))
        suite.extend(cases)
        _set_counts(suite, cases)
    _set_counts(root, [case for cases in suites.values() for case in cases])
    root.set("time", f"{outcome.elapsed_s:.3f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_reports(outcome: Outcome, directory: Path) -> list[Path]:
    """Write report.md, report.html, junit.xml and finding-<n>-request.bin files into `directory`.

    A body file is written for each finding whose request body cannot be shown whole as text (binary,
    multipart, control characters, or longer than the reports show). Each file is written to a temporary
    name and renamed, so a reader never sees half of it; body files come first, so that a report never
    names a file that is not there yet. Returns the paths written: the three reports, then the body files.
    """
    directory.mkdir(parents=True, exist_ok=True)
    body_files: dict[int, str] = {}
    written_bodies: list[Path] = []
    for number, finding in enumerate(_distinct(outcome.findings), start=1):
        request = finding.request
        if request is not None and request.body and _needs_file(request):
            body_files[number] = body_file_name(number)
            written_bodies.append(_write_atomically(directory / body_files[number], request.body))
    reports = [
        _write_atomically(directory / "report.md", render_markdown(outcome, body_files).encode()),
        _write_atomically(directory / "report.html", render_html(outcome, body_files).encode()),
        _write_atomically(directory / "junit.xml", render_junit(outcome).encode()),
    ]
    return reports + written_bodies


# --- what every report says -------------------------------------------------------------------------


def _distinct(findings: list[Finding]) -> list[Finding]:
    """Each distinct finding once, in the order found (the runner already deduplicates; be sure)."""
    seen: set[tuple[str, str, str]] = set()
    distinct = []
    for finding in findings:
        if finding.key not in seen:
            seen.add(finding.key)
            distinct.append(finding)
    return distinct


def _verdict(outcome: Outcome) -> str:
    findings = len(_distinct(outcome.findings))
    errors = len(outcome.errors)
    if findings:
        also = [_plural(errors, "run error")] if errors else []
        if outcome.incomplete:
            also.append("the run was incomplete")
        return f"DOES NOT CONFORM: {_plural(findings, 'finding')}" + (
            f" (and {', '.join(also)})" if also else ""
        )
    if errors and outcome.cases == 0 and not outcome.incomplete:
        more = f" (and {_plural(errors - 1, 'more error')})" if errors > 1 else ""
        return f"COULD NOT RUN: {_line(outcome.errors[0], 120)}{more}"
    if outcome.incomplete:
        ran = f"No findings in the {outcome.cases} checks that ran."
        return f"INCOMPLETE: {_line(outcome.incomplete, 160)} {ran}"
    if errors:
        return (
            f"INCOMPLETE: {_plural(errors, 'run error')} kept parts of the run from happening;"
            f" no findings in the {outcome.cases} checks that ran"
        )
    return "CONFORMS" if outcome.cases else "CONFORMS (but no checks ran)"


def _rule(finding: Finding) -> str:
    """The rule a finding breaks, in words: never empty."""
    return finding.rule or explanation(finding.check)


def _check_table(outcome: Outcome) -> dict[str, dict[str, dict[str, int]]]:
    """operation -> check -> counts, sorted, with checks that only have findings counted as zeros."""
    counts = outcome.counts()
    for finding in outcome.findings:
        counts.setdefault((finding.operation, finding.check), dict.fromkeys(_STATUSES, 0))
    table: dict[str, dict[str, dict[str, int]]] = {}
    for operation, check in sorted(counts):
        row = counts[(operation, check)]
        table.setdefault(operation, {})[check] = {status: row.get(status, 0) for status in _STATUSES}
    return table


def _operation_totals(outcome: Outcome) -> dict[str, dict[str, int]]:
    return {
        operation: {status: sum(row[status] for row in rows.values()) for status in _STATUSES}
        for operation, rows in _check_table(outcome).items()
    }


def _answer(finding: Finding) -> str:
    return f"HTTP {finding.status}" if finding.status is not None else "no answer"


def _needs_file(request: SentRequest) -> bool:
    """Whether the body goes to a file rather than inline: binary, multipart, odd characters, or too long."""
    if not request.body:
        return False
    if not request.is_text or len(request.body) > SHOWN_CHARS:
        return True
    text = request.body.decode("utf-8")
    return any(not (char.isprintable() or char in "\n\t") for char in text)


def _body_kind(request: SentRequest) -> str:
    """How a body kept in a file is described."""
    return "Binary body" if not request.is_text else "Text body too long or too odd to show whole"


def _curl(request: SentRequest, body_file: str | None) -> str:
    if request.body and request.is_text and _needs_file(request):
        # Too long or too odd to inline: read from the file, like a binary body.
        bare = dataclasses.replace(request, body=None).curl()
        return f"{bare} --data-binary @{shlex.quote(body_file or _DEFAULT_BODY_FILE)}"
    return request.curl(body_file)


def _content_type(request: SentRequest) -> str:
    for name, value in request.headers.items():
        if name.lower() == "content-type":
            return value
    return ""


def _sent_line(request: SentRequest) -> str:
    """`POST url`, content type and size, in one line (raw: escape it for the format)."""
    kind = _content_type(request) or "no content type"
    size = f"{len(request.body)} bytes" if request.body else "no body"
    return f"{request.method} {request.url} ({_line(kind, 120)}, {size})"


def _body_preview(request: SentRequest) -> str | None:
    """What the body says, as far as it is text: the text itself, or a multipart outline; else None."""
    if not request.body:
        return None
    if request.is_text:
        return _shown(request.body.decode("utf-8"))
    outline = _multipart_outline(request.body, _content_type(request))
    return _shown(outline) if outline is not None else None


def _multipart_outline(body: bytes, content_type: str) -> str | None:
    """The parts of a multipart body: their headers, text values, and the size of binary ones."""
    found = re.search(r'boundary="?([^";]+)"?', content_type)
    if "multipart/" not in content_type.lower() or found is None:
        return None
    delimiter = b"--" + found.group(1).encode("latin-1", errors="replace")
    lines = []
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        head, separator, value = chunk.strip(b"\r\n").partition(b"\r\n\r\n")
        if not separator:
            continue
        lines.append(head.decode("utf-8", errors="replace").replace("\r\n", "\n"))
        try:
            text = value.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is not None and len(text) <= 500 and all(c.isprintable() or c in "\r\n\t" for c in text):
            lines.append(text.replace("\r\n", "\n"))
        else:
            lines.append(f"<{len(value)} bytes of binary data>")
        lines.append("")
    return "\n".join(lines).rstrip("\n") if lines else None


def _junit_text(number: int, finding: Finding) -> str:
    parts = [
        f"finding {number}, phase {finding.phase}, {_answer(finding)}",
        f"rule: {_rule(finding)}",
        *([f"triggered by: {finding.trigger}"] if finding.trigger else []),
        "",
        _shown(finding.message),
        "",
        "response (start):",
        _shown(finding.response_body) or "(empty)",
    ]
    if finding.request is not None:
        parts += ["", f"sent: {_sent_line(finding.request)}"]
        parts += ["", f"reproduce ({_REPRODUCE_NOTE}):", _curl(finding.request, body_file_name(number))]
    return "\n".join(parts)


# --- text safety ---------------------------------------------------------------------------------------


def _clean(text: str) -> str:
    r"""The text with control characters and lone surrogates written as \xNN / \uNNNN escapes."""
    return _UNSAFE.sub(lambda m: f"\\x{ord(m[0]):02x}" if ord(m[0]) < 0x100 else f"\\u{ord(m[0]):04x}", text)


def _shown(text: str, limit: int = SHOWN_CHARS) -> str:
    """Clean text, cut to `limit` characters with a note saying how much was left out."""
    text = _clean(text)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}\n... ({len(text) - limit} more characters not shown)"


def _line(text: str, limit: int = 200) -> str:
    """Clean text on one line, cut to `limit` characters."""
    flat = " ".join(_clean(text).split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def _names(names: list[str]) -> str:
    return ", ".join(_line(name) for name in names) or "none"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


# --- Markdown ------------------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*\[\]<>&|~#!])|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")


def _md_inline(text: str) -> str:
    """One line of text that Markdown shows as it is (no emphasis, links, HTML or table breaks)."""
    return _MD_SPECIAL.sub(lambda m: "\\" + m[0], _line(text, 300))


def _md_code(text: str) -> str:
    """A code span, with more backticks around it than it holds in a row."""
    text = _line(text, 300)
    ticks = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def _md_fence(text: str, info: str = "") -> str:
    """A fenced code block, with a fence longer than any backtick run in the text."""
    ticks = "`" * max(3, max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    return f"{ticks}{info}\n{text.rstrip(chr(10))}\n{ticks}"


def _md_list(names: list[str]) -> list[str]:
    return [f"- {_md_inline(name)}" for name in names] + [""] if names else ["None.", ""]


def _md_finding(number: int, finding: Finding, body_file: str | None) -> list[str]:
    out = [
        f"### {number}. {_md_inline(finding.operation)} — {_md_inline(finding.check)}:"
        f" {_md_inline(finding.title)}",
        "",
        f"- Phase: {_md_inline(finding.phase)}",
        f"- Answer: {_answer(finding)}",
        f"- Which rule: {_md_inline(_rule(finding))}",
    ]
    if finding.trigger:
        out.append(f"- Triggered by: {_md_code(finding.trigger)}")
    out += [
        "",
        "What came back (the start of the body):",
        "",
        _md_fence(_shown(finding.response_body) or "(empty)"),
        "",
        "What happened:",
        "",
        _md_fence(_shown(finding.message) or _rule(finding)),
        "",
    ]
    request = finding.request
    if request is None:
        return [*out, "What was sent: not recorded, so there is nothing to reproduce it with.", ""]
    out += [f"What was sent: {_md_code(_sent_line(request))}", ""]
    fields = _fields_sent(request)
    if fields:
        out += ["Its fields, as text:", ""]
        out += [
            f"- {_md_code(name)}: {_md_code(value)}" + (f" ({_md_inline(note)})" if note else "")
            for name, value, note in fields
        ]
        out.append("")
    preview = _body_preview(request)
    if request.body and _needs_file(request):
        if body_file is not None:
            target = quote(body_file)
            out += [
                f"{_body_kind(request)}: saved as [{_md_inline(body_file)}]({target}) (the whole body).",
                "",
            ]
        else:
            out += [f"{_body_kind(request)}: not saved with this report (write_reports() saves it).", ""]
        if preview is not None:
            out += ["Its outline:" if not request.is_text else "Its start:", "", _md_fence(preview), ""]
    elif preview is not None:
        out += [_md_fence(preview), ""]
    out += [
        f"Reproduce it ({_REPRODUCE_NOTE.replace(TOKEN_PLACEHOLDER, _md_code(TOKEN_PLACEHOLDER))}):",
        "",
        _md_fence(_clean(_curl(request, body_file)), "sh"),
        "",
    ]
    return out


def _fields_sent(request: SentRequest) -> list[tuple[str, str, str]]:
    """(field, value as text, a note) for the fields of a JSON or multipart body (files summarised):
    what a reader needs to see of a prompt, whatever its encoding on the wire."""
    if not request.body:
        return []
    content_type = _content_type(request)
    fields: list[tuple[str, str, str]] = []
    if "multipart/form-data" in content_type.lower():
        from .multipart import parse_form

        try:
            parts = parse_form(request.body, content_type)
        except ValueError:
            return []
        for name, filename, part_type, data in parts[:40]:
            if filename is not None:
                fields.append((name, _file_summary(filename, part_type, data), ""))
            else:
                fields.append((name, *_text_value(data.decode("utf-8", errors="replace"))))
        return fields
    if "json" in content_type.lower():
        try:
            parsed = json.loads(request.body)
        except (ValueError, UnicodeDecodeError):
            return []
        if isinstance(parsed, dict):
            for name, value in list(parsed.items())[:40]:
                text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                fields.append((str(name), *_text_value(text)))
    return fields


def _text_value(text: str) -> tuple[str, str]:
    """A field's text cut to what a line shows, and a note of its length and unusual characters."""
    from .execution import describe_value

    notes = []
    if len(text) > 200:
        notes.append(f"{len(text)} characters")
    named = describe_value(text).partition(", with ")[2]
    if named:
        notes.append(named)
    return _line(text, 200), "; ".join(notes)


def _file_summary(filename: str, part_type: str | None, data: bytes) -> str:
    from ..imageinfo import image_info

    info = image_info(data)
    what = f"{info.format.upper()} {info.size}" if info is not None else "not an image"
    return f"file {filename!r} ({part_type or 'no content type'}, {len(data):,} bytes, {what})"


# --- HTML ----------------------------------------------------------------------------------------------

_CSP = "default-src 'none'; style-src 'unsafe-inline'"  # no scripts, no fetches: only the inline style
_CSS = (
    "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}"
    "code,pre{font-family:ui-monospace,monospace;font-size:.9em}"
    "pre{background:#f4f4f4;padding:.6rem;overflow-x:auto;white-space:pre-wrap;word-break:break-all}"
    "table{border-collapse:collapse;margin:.5rem 0}"
    "th,td{border:1px solid #ccc;padding:.2rem .6rem;text-align:left}"
    ".verdict{font-size:1.3em;padding:.4rem .8rem}"
    ".ok{background:#dfd;color:#060}.fail{background:#fdd;color:#900}.warn{background:#ffd;color:#750}"
    "h3[id]{border-top:2px solid #ddd;padding-top:1rem;margin-top:1.5rem}"
)


# --- JUnit ---------------------------------------------------------------------------------------------


def _x(text: str) -> str:
    """Text XML 1.0 can hold (ElementTree escapes markup, but writes forbidden characters as they are)."""
    return _clean(text)


def _testcase(classname: str, name: str) -> ET.Element:
    return ET.Element("testcase", name=_x(name), classname=_x(classname), time="0")


def _set_counts(element: ET.Element, cases: list[ET.Element]) -> None:
    """tests/failures/errors/skipped as CI tools count them: test cases, each counted once."""
    element.set("tests", str(len(cases)))
    element.set("failures", str(sum(1 for case in cases if case.find("failure") is not None)))
    element.set("errors", str(sum(1 for case in cases if case.find("error") is not None)))
    element.set("skipped", str(sum(1 for case in cases if case.find("skipped") is not None)))


# --- files ---------------------------------------------------------------------------------------------


def _write_atomically(target: Path, data: bytes) -> Path:
    """Write to a temporary file next to `target`, then rename it over `target`: all or nothing."""
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(6)}.part")
    # 0o666 less the umask: the usual mode of a new file (mkstemp would make it 0600).
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    finally:
        if temporary.exists():
            temporary.unlink()
    return target
