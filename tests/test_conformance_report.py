"""Reports of a conformance run: terminal summary, Markdown, HTML, JUnit XML, and the files on disk."""

from __future__ import annotations

import dataclasses
import os
import re
import shlex
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest

from imagegen.conformance.findings import Finding, Outcome, SentRequest
from imagegen.conformance.report import (
    render_html,
    render_junit,
    render_markdown,
    summary,
    write_reports,
)

from .support.images import png_bytes
from .support.recording_server import recording_server

BASE_URL = "http://127.0.0.1:8000/v1"
BOUNDARY = "imagegen-7f3a"
EDITS = "POST /images/edits"
GENERATIONS = "POST /images/generations"
VARIATIONS = "POST /images/variations"
# Markup, quotes, and a line of backticks that would close a short fence and let the rest out.
HOSTILE = "<script>alert(1)</script> \"quoted\" 'single' &\n```\n<b>out</b>\n````\nend"


def multipart_edit(base_url: str = BASE_URL, image: bytes | None = None) -> SentRequest:
    """An edit request as the runner records it: multipart, a real PNG, the token replaced."""
    png = png_bytes() if image is None else image
    body = (
        (
            f"--{BOUNDARY}\r\n"
            'Content-Disposition: form-data; name="model"\r\n\r\ndall-e-2\r\n'
            f"--{BOUNDARY}\r\n"
            'Content-Disposition: form-data; name="prompt"\r\n\r\na red fox in the snow\r\n'
            f"--{BOUNDARY}\r\n"
            'Content-Disposition: form-data; name="image"; filename="image.png"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        + png
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )
    headers = {
        "Authorization": "Bearer $IMAGEGEN_TOKEN",
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
        "Content-Length": str(len(body)),
        "User-Agent": "schemathesis/4",
    }
    return SentRequest("POST", f"{base_url}/images/edits", headers, body)


def json_generation(base_url: str = BASE_URL, prompt: str = "it's a `cat`") -> SentRequest:
    """A JSON generation request, with a quote and backticks in the prompt."""
    body = f'{{"model": "dall-e-2", "prompt": {_json_string(prompt)}, "n": 11}}'.encode()
    headers = {"Authorization": "Bearer $IMAGEGEN_TOKEN", "Content-Type": "application/json"}
    return SentRequest("POST", f"{base_url}/images/generations", headers, body)


def _json_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def schema_finding(request: SentRequest | None = None, response_body: str = "") -> Finding:
    return Finding(
        operation=EDITS,
        check="response_schema_conformance",
        title="Response violates schema",
        message="'b64_json' is a required property\n\nSchema at /properties/data/items:\n"
        "    {'required': ['b64_json']}",
        phase="fuzzing",
        status=200,
        request=multipart_edit() if request is None else request,
        response_body=response_body or '{"created": 1700000000, "data": [{"url": "https://x/1.png"}]}',
    )


def rejection_finding(request: SentRequest | None = None) -> Finding:
    return Finding(
        operation=GENERATIONS,
        check="negative_data_rejection",
        title="API accepted schema-violating request",
        message="Invalid data should have been rejected\nExpected: 400, 401, 403, 404, 422, 428, 5xx",
        phase="coverage",
        status=200,
        request=json_generation() if request is None else request,
        response_body='{"created": 1700000000, "data": []}',
    )


def outcome_with(findings: list[Finding], **changes: object) -> Outcome:
    """A realistic run of dall-e-2: two operations tested, variations not implemented."""
    checks = Counter(
        {
            (EDITS, "not_a_server_error", "success"): 43,
            (EDITS, "response_schema_conformance", "success"): 40,
            (EDITS, "response_schema_conformance", "failure"): 3,
            (GENERATIONS, "negative_data_rejection", "success"): 30,
            (GENERATIONS, "negative_data_rejection", "failure"): 1,
            (GENERATIONS, "not_a_server_error", "success"): 31,
            (GENERATIONS, "status_code_conformance", "skip"): 2,
        }
    )
    outcome = Outcome(
        model="dall-e-2",
        base_url=BASE_URL,
        seed=1234,
        findings=findings,
        checks=checks,
        not_implemented=[VARIATIONS],
        streaming="not supported",
        elapsed_s=83.4,
    )
    for name, value in changes.items():
        setattr(outcome, name, value)
    return outcome


def two_findings() -> Outcome:
    return outcome_with([schema_finding(), rejection_finding()])


def many_findings(count: int = 100) -> Outcome:
    findings = [
        Finding(
            operation=EDITS,
            check=f"check_{number % 7}",
            title=f"Problem number {number}",
            message=f"rule {number}",
            phase="fuzzing",
            status=500,
            request=multipart_edit(),
            response_body=f"error {number}",
        )
        for number in range(1, count + 1)
    ]
    return outcome_with(findings)


def conforming() -> Outcome:
    return outcome_with([], checks=Counter({(GENERATIONS, "not_a_server_error", "success"): 12}))


# --- Markdown structure -------------------------------------------------------------------------------


def split_markdown(text: str) -> tuple[list[tuple[str, str]], list[str]]:
    """Fenced code blocks (info string, content) and the lines outside them, as CommonMark reads them."""
    blocks: list[tuple[str, str]] = []
    outside: list[str] = []
    lines = text.split("\n")
    index = 0
    while index < len(lines):
        opening = re.match(r"^(`{3,})([^`]*)$", lines[index])
        if opening is None:
            outside.append(lines[index])
            index += 1
            continue
        fence = len(opening[1])
        content: list[str] = []
        index += 1
        while index < len(lines) and not re.match(rf"^`{{{fence},}}\s*$", lines[index]):
            content.append(lines[index])
            index += 1
        blocks.append((opening[2].strip(), "\n".join(content)))
        index += 1
    return blocks, outside


def curl_blocks(markdown: str) -> list[str]:
    return [content for info, content in split_markdown(markdown)[0] if info == "sh"]


def finding_section(markdown: str, number: int) -> str:
    start = markdown.index(f"### {number}. ")
    end = markdown.find("\n### ", start + 1)
    return markdown[start:] if end < 0 else markdown[start:end]


class TagCollector(HTMLParser):
    """The tags and attributes a browser would see."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags_of(page: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = TagCollector()
    parser.feed(page)
    parser.close()
    return parser.tags


# --- summary -------------------------------------------------------------------------------------------


def test_summary_of_a_clean_run_starts_with_conforms_and_gives_the_run_facts() -> None:
    lines = summary(conforming()).splitlines()

    assert lines[0] == "CONFORMS"
    text = "\n".join(lines)
    assert f"server   {BASE_URL}" in text
    assert "model    dall-e-2" in text
    assert "seed     1234" in text
    assert "elapsed  1 min 23 s" in text
    assert "checks   12 run" in text
    assert "findings:" not in text


def test_summary_counts_findings_in_the_verdict_and_per_operation() -> None:
    text = summary(two_findings())
    rows = {line.split("  ")[0]: line.split()[2:] for line in text.splitlines() if line.startswith("POST ")}

    assert text.splitlines()[0] == "DOES NOT CONFORM: 2 findings"
    # passed, failed, errors, skipped, findings
    assert rows[EDITS] == ["83", "3", "0", "0", "1"]
    assert rows[GENERATIONS] == ["61", "1", "0", "2", "1"]


def test_summary_lists_each_finding_with_operation_check_status_and_title() -> None:
    lines = summary(two_findings()).splitlines()
    start = lines.index("findings:")

    assert lines[start + 1 :] == [
        f"  1. {EDITS}  response_schema_conformance  (HTTP 200)",
        "     Response violates schema",
        f"  2. {GENERATIONS}  negative_data_rejection  (HTTP 200)",
        "     API accepted schema-violating request",
    ]


def test_summary_says_what_is_not_implemented_not_served_and_whether_it_streams() -> None:
    text = summary(outcome_with([], not_served=["POST /images/edits"], streaming="supported"))

    assert f"not implemented: {VARIATIONS}" in text.splitlines()
    assert "not served by dall-e-2: POST /images/edits" in text.splitlines()
    assert "streaming: supported" in text.splitlines()


def test_summary_of_a_run_that_never_started_says_could_not_run_with_the_reason() -> None:
    outcome = Outcome(model="dall-e-2", base_url=BASE_URL, seed=1, errors=["connection refused", "second"])

    assert summary(outcome).splitlines()[0] == "COULD NOT RUN: connection refused (and 1 more error)"


def test_summary_of_a_run_cut_short_without_findings_does_not_claim_conformance() -> None:
    verdict = summary(outcome_with([], errors=["the run stopped: timeout"])).splitlines()[0]

    assert verdict.startswith("INCOMPLETE: 1 run error")
    assert "CONFORMS" not in verdict


def test_summary_verdict_mentions_run_errors_next_to_findings() -> None:
    outcome = outcome_with([schema_finding()], errors=["POST /images/edits: timeout"])

    assert summary(outcome).splitlines()[0] == "DOES NOT CONFORM: 1 finding (and 1 run error)"


def test_summary_of_a_run_where_nothing_was_checked_says_so() -> None:
    outcome = Outcome(model="dall-e-2", base_url=BASE_URL, seed=1, not_implemented=[EDITS])

    assert summary(outcome).splitlines()[0] == "CONFORMS (but no checks ran)"


def test_summary_lists_fifteen_findings_then_counts_the_rest() -> None:
    lines = summary(many_findings(100)).splitlines()

    assert lines[0] == "DOES NOT CONFORM: 100 findings"
    assert sum(1 for line in lines if re.match(r"^ *\d+\. POST ", line)) == 15
    assert "Problem number 15" in lines[-2]
    assert lines[-1] == "... and 85 more (see report.md)"


def test_summary_reports_a_repeated_finding_once() -> None:
    outcome = outcome_with([schema_finding(), schema_finding(), rejection_finding()])

    assert summary(outcome).splitlines()[0] == "DOES NOT CONFORM: 2 findings"


def test_summary_colours_the_verdict_only() -> None:
    plain = summary(two_findings())
    coloured = summary(two_findings(), color=True)
    first, *rest = coloured.splitlines()

    assert "\x1b" not in plain
    assert first == "\x1b[1;31mDOES NOT CONFORM: 2 findings\x1b[0m"
    assert rest == plain.splitlines()[1:]
    assert summary(conforming(), color=True).startswith("\x1b[1;32mCONFORMS\x1b[0m")
    never_ran = Outcome(model="dall-e-2", base_url=BASE_URL, seed=1, errors=["connection refused"])
    assert summary(never_ran, color=True).startswith("\x1b[1;33mCOULD NOT RUN")


def test_summary_keeps_terminal_escapes_from_the_server_off_the_screen() -> None:
    finding = Finding(
        EDITS, "custom", "bad \x1b[2J\x1b]0;pwned\x07 title\nsecond line", "m", "probe", 500, None, ""
    )
    text = summary(outcome_with([finding]))

    assert "\x1b" not in text
    assert "\x07" not in text
    assert "     bad \\x1b[2J\\x1b]0;pwned\\x07 title second line" in text.splitlines()


# --- Markdown ------------------------------------------------------------------------------------------


def test_markdown_gives_title_verdict_and_run_facts() -> None:
    markdown = render_markdown(two_findings())

    assert markdown.startswith("# Conformance report: `dall-e-2`\n\n**DOES NOT CONFORM: 2 findings**\n")
    for fact in (
        f"- Server: `{BASE_URL}`",
        "- Model: `dall-e-2`",
        "- Seed: 1234",
        "- Time: 1 min 23 s",
        "- Checks run: 150",
        "- Findings: 2",
    ):
        assert fact in markdown.splitlines()


def test_markdown_has_a_table_per_operation_with_counts_per_check() -> None:
    lines = render_markdown(two_findings()).splitlines()
    edits = lines.index(f"### {EDITS}")
    generations = lines.index(f"### {GENERATIONS}")

    assert lines[edits + 2] == "| check | passed | failed | errors | skipped | findings |"
    assert lines[edits + 4 : edits + 6] == [
        "| not_a_server_error | 43 | 0 | 0 | 0 | 0 |",
        "| response_schema_conformance | 40 | 3 | 0 | 0 | 1 |",
    ]
    assert lines[generations + 4 : generations + 7] == [
        "| negative_data_rejection | 30 | 1 | 0 | 0 | 1 |",
        "| not_a_server_error | 31 | 0 | 0 | 0 | 0 |",
        "| status_code_conformance | 0 | 0 | 0 | 2 | 0 |",
    ]


def test_markdown_has_sections_for_not_implemented_not_served_streaming_and_errors() -> None:
    outcome = outcome_with([], not_served=[EDITS], errors=["POST /images/edits: read timeout"])
    markdown = render_markdown(outcome)
    blocks, _ = split_markdown(markdown)

    assert (
        f"## Not implemented\n\nOperations the server answers with 404 or 405.\n\n- {VARIATIONS}\n"
        in markdown
    )
    assert f"## Not served by the model\n\nOperations `dall-e-2` does not serve.\n\n- {EDITS}\n" in markdown
    assert "## Streaming\n\nStreaming: not supported.\n" in markdown
    assert ("", "POST /images/edits: read timeout") in blocks


def test_markdown_without_findings_says_none() -> None:
    markdown = render_markdown(conforming())

    assert "**CONFORMS**" in markdown
    assert markdown.endswith("## Findings\n\nNone.\n")
    assert "```" not in markdown


def test_markdown_numbers_each_finding_with_operation_check_and_title() -> None:
    markdown = render_markdown(two_findings())

    assert "### 1. POST /images/edits — response_schema_conformance: Response violates schema" in markdown
    assert (
        "### 2. POST /images/generations — negative_data_rejection: API accepted schema-violating request"
        in (markdown)
    )


def test_markdown_finding_shows_phase_answer_rule_and_what_was_sent() -> None:
    section = finding_section(render_markdown(two_findings()), 2)
    blocks, outside = split_markdown(section)

    assert "- Phase: coverage" in outside
    assert "- Answer: HTTP 200" in outside
    assert blocks[0] == ("", '{"created": 1700000000, "data": []}')
    assert blocks[1] == (
        "",
        "Invalid data should have been rejected\nExpected: 400, 401, 403, 404, 422, 428, 5xx",
    )
    assert blocks[2] == ("", '{"model": "dall-e-2", "prompt": "it\'s a `cat`", "n": 11}')
    assert f"What was sent: `POST {BASE_URL}/images/generations (application/json, 56 bytes)`" in outside


def test_markdown_links_a_binary_body_to_its_file_and_outlines_the_multipart_parts() -> None:
    section = finding_section(render_markdown(two_findings(), {1: "finding-1-request.bin"}), 1)
    blocks, _ = split_markdown(section)

    assert "Binary body: saved as [finding-1-request.bin](finding-1-request.bin) (the whole body)." in section
    outline = blocks[2][1]
    assert 'Content-Disposition: form-data; name="prompt"\na red fox in the snow' in outline
    assert re.search(r'filename="image.png"\nContent-Type: image/png\n<\d+ bytes of binary data>', outline)


def test_markdown_without_body_files_says_the_binary_body_was_not_saved() -> None:
    section = finding_section(render_markdown(two_findings()), 1)

    assert "Binary body: not saved with this report" in section
    assert "saved as" not in section


def test_markdown_curl_of_a_json_generation_splits_into_the_request_it_sends() -> None:
    (_, curl) = curl_blocks(render_markdown(two_findings()))

    assert shlex.split(curl) == [
        "curl",
        "-sS",
        "-X",
        "POST",
        f"{BASE_URL}/images/generations",
        "-H",
        "Authorization: Bearer $IMAGEGEN_TOKEN",
        "-H",
        "Content-Type: application/json",
        "--data-raw",
        '{"model": "dall-e-2", "prompt": "it\'s a `cat`", "n": 11}',
    ]


def test_markdown_curl_of_a_multipart_edit_reads_the_body_from_its_numbered_file() -> None:
    (curl, _) = curl_blocks(render_markdown(two_findings(), {1: "finding-1-request.bin"}))

    assert shlex.split(curl) == [
        "curl",
        "-sS",
        "-X",
        "POST",
        f"{BASE_URL}/images/edits",
        "-H",
        "Authorization: Bearer $IMAGEGEN_TOKEN",
        "-H",
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}",
        "--data-binary",
        "@finding-1-request.bin",
    ]


def test_curl_leaves_the_token_to_the_shell_and_says_so() -> None:
    markdown = render_markdown(two_findings())

    for curl in curl_blocks(markdown):
        # In double quotes, so that the shell expands the variable; never a literal token.
        assert '-H "Authorization: Bearer $IMAGEGEN_TOKEN"' in curl
    assert markdown.count("the token is read from `$IMAGEGEN_TOKEN`") == 2


def test_markdown_finding_without_a_request_says_so_and_has_no_curl() -> None:
    finding = Finding(EDITS, "imagegen_mask_size", "Wrong mask size accepted", "m", "probe", None, None, "")
    markdown = render_markdown(outcome_with([finding]))

    assert "- Answer: no answer" in markdown
    assert "What was sent: not recorded" in markdown
    assert curl_blocks(markdown) == []


def test_markdown_keeps_server_text_inside_code_blocks_with_a_longer_fence() -> None:
    finding = Finding(
        EDITS,
        "custom",
        "Title with <b>markup</b> and *stars* | pipes",
        HOSTILE,
        "fuzzing",
        500,
        None,
        HOSTILE,
    )
    markdown = render_markdown(outcome_with([finding], errors=[HOSTILE]))
    blocks, outside = split_markdown(markdown)

    assert [content for _, content in blocks].count(HOSTILE) == 3  # answer, rule, run error: whole
    assert not any("<script>" in line or "<b>" in line for line in outside)
    assert "\\<b\\>markup\\</b\\> and \\*stars\\* \\| pipes" in markdown


def test_markdown_fences_the_curl_of_a_body_full_of_backticks() -> None:
    request = json_generation(prompt="run ```` this ````` now")
    markdown = render_markdown(outcome_with([rejection_finding(request)]))

    (curl,) = curl_blocks(markdown)
    assert request.body is not None
    assert shlex.split(curl)[-1] == request.body.decode()


def test_a_text_body_with_control_characters_is_replayed_from_its_file() -> None:
    request = json_generation(prompt="bell \x07 nul \x00")
    markdown = render_markdown(outcome_with([rejection_finding(request)]), {1: "finding-1-request.bin"})

    (curl,) = curl_blocks(markdown)
    assert shlex.split(curl)[-2:] == ["--data-binary", "@finding-1-request.bin"]
    assert '"prompt": "bell \\x07 nul \\x00"' in markdown  # shown, escaped


def test_reports_cut_a_huge_answer_and_a_huge_request_to_a_few_kilobytes() -> None:
    huge_answer = "x" * 2_000_000
    huge_prompt = "y" * 1_000_000
    finding = schema_finding(json_generation(prompt=huge_prompt), response_body=huge_answer)
    outcome = outcome_with([finding])

    markdown = render_markdown(outcome, {1: "finding-1-request.bin"})
    page = render_html(outcome, {1: "finding-1-request.bin"})
    junit = render_junit(outcome)

    for text in (markdown, page, junit):
        assert len(text) < 30_000
    assert "... (1995904 more characters not shown)" in markdown
    # A text body too long to inline is replayed from its file, like a binary one.
    (curl,) = curl_blocks(markdown)
    assert shlex.split(curl)[-2:] == ["--data-binary", "@finding-1-request.bin"]


def test_reports_survive_undecodable_bytes_and_control_characters() -> None:
    body = b'{"prompt": "\xff\xfe broken"}'
    request = SentRequest(
        "POST", f"{BASE_URL}/images/generations", {"Content-Type": "application/json"}, body
    )
    text = "nul \x00 escape \x1b[31m surrogate \udcff end"
    finding = Finding(GENERATIONS, "custom", text, text, "fuzzing", 500, request, text)
    outcome = outcome_with([finding])

    markdown = render_markdown(outcome)
    page = render_html(outcome)
    junit = render_junit(outcome)

    for rendered in (markdown, page, junit):
        rendered.encode("utf-8")  # no lone surrogate left
        assert "\x00" not in rendered
        assert "\x1b" not in rendered
    assert "nul \\x00 escape \\x1b[31m surrogate \\udcff end" in markdown
    assert "Binary body: not saved with this report" in markdown  # not UTF-8: not shown as text


# --- HTML ----------------------------------------------------------------------------------------------


def test_html_is_the_markdown_rendered_as_one_page_with_the_verdict_facts_and_tables() -> None:
    page = render_html(two_findings(), {1: "finding-1-request.bin"})
    tags = tags_of(page)

    assert page.startswith("<!DOCTYPE html>")
    assert '<p class="verdict fail"><strong>DOES NOT CONFORM: 2 findings</strong></p>' in page
    assert "<li>Seed: 1234</li>" in page
    assert (
        "<tr>\n<td>response_schema_conformance</td>\n"
        + "".join(f'<td style="text-align:right">{n}</td>\n' for n in (40, 3, 0, 0, 1))
        + "</tr>"
    ) in page
    assert f"<li>{VARIATIONS}</li>" in page
    # Self-contained: no external stylesheet, script, image or frame.
    assert {tag for tag, _ in tags} <= {
        "html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p", "table", "thead", "tbody",
        "tr", "th", "td", "ul", "li", "pre", "code", "a", "strong",
    }  # fmt: skip
    assert [attrs["href"] for tag, attrs in tags if tag == "a"] == ["finding-1-request.bin"]


def test_html_escapes_everything_a_hostile_server_sends() -> None:
    attack = '"><img src=x onerror=alert(1)>'
    finding = Finding(EDITS, "custom", f"title {attack}", f"rule {attack}", "fuzzing", 500, None, HOSTILE)
    page = render_html(outcome_with([finding], errors=[attack], model=f"m{attack}"))
    tags = tags_of(page)

    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert not any(tag in ("script", "img") for tag, _ in tags)
    assert not any(name.startswith("on") for _, attrs in tags for name in attrs)


def test_html_escapes_a_hostile_request_too() -> None:
    request = json_generation(prompt="</code></pre><script>alert(2)</script>")
    page = render_html(outcome_with([rejection_finding(request)]))

    assert "<script>" not in page
    assert not any(tag == "script" for tag, _ in tags_of(page))


def test_html_gives_each_finding_an_anchor_a_curl_and_the_token_note() -> None:
    page = render_html(two_findings(), {1: "finding-1-request.bin"})

    assert [attrs["id"] for tag, attrs in tags_of(page) if "id" in attrs] == ["finding-1", "finding-2"]
    heading = "1. POST /images/edits — response_schema_conformance: Response violates schema"
    assert f'<h3 id="finding-1">{heading}</h3>' in page
    assert "--data-binary @finding-1-request.bin" in page
    assert page.count("the token is read from <code>$IMAGEGEN_TOKEN</code>") == 2


def test_html_without_findings_says_none() -> None:
    page = render_html(conforming())

    assert '<p class="verdict ok"><strong>CONFORMS</strong></p>' in page
    assert "<h2>Findings</h2>\n<p>None.</p>" in page


# --- JUnit ---------------------------------------------------------------------------------------------


def suites_of(junit: str) -> dict[str, ET.Element]:
    root = ET.fromstring(junit)
    assert root.tag == "testsuites"
    return {suite.get("name", ""): suite for suite in root.findall("testsuite")}


def counts_of(element: ET.Element) -> tuple[str | None, ...]:
    return tuple(element.get(name) for name in ("tests", "failures", "errors", "skipped"))


def test_junit_has_a_suite_per_operation_and_a_case_per_check() -> None:
    suites = suites_of(render_junit(two_findings()))

    assert list(suites) == [EDITS, GENERATIONS, VARIATIONS]
    cases = [(case.get("classname"), case.get("name")) for case in suites[GENERATIONS].findall("testcase")]
    assert cases == [
        (GENERATIONS, "negative_data_rejection"),
        (GENERATIONS, "not_a_server_error"),
        (GENERATIONS, "status_code_conformance"),
    ]


def test_junit_counts_tests_failures_errors_and_skips() -> None:
    junit = render_junit(two_findings())
    suites = suites_of(junit)

    assert counts_of(ET.fromstring(junit)) == ("6", "2", "0", "2")
    assert counts_of(suites[EDITS]) == ("2", "1", "0", "0")
    assert counts_of(suites[GENERATIONS]) == ("3", "1", "0", "1")  # status_code_conformance only skipped
    assert counts_of(suites[VARIATIONS]) == ("1", "0", "0", "1")  # not implemented


def test_junit_failure_carries_the_title_the_rule_and_the_curl() -> None:
    suites = suites_of(render_junit(two_findings()))
    case = suites[EDITS].find("testcase[@name='response_schema_conformance']")
    assert case is not None
    (failure,) = case.findall("failure")

    assert failure.get("message") == "Response violates schema"
    text = failure.text or ""
    assert "'b64_json' is a required property" in text
    curl = text.splitlines()[-1]
    assert shlex.split(curl)[-2:] == ["--data-binary", "@finding-1-request.bin"]


def test_junit_reports_run_errors_as_a_failing_probe() -> None:
    outcome = conforming()
    outcome.errors = ["POST /images/edits: read timeout", "the run stopped: boom"]
    junit = render_junit(outcome)
    probe = ET.fromstring(junit).find(".//testcase[@name='probe']")

    assert probe is not None
    assert [f.get("message") for f in probe.findall("failure")] == [
        "POST /images/edits: read timeout",
        "the run stopped: boom",
    ]
    assert ET.fromstring(junit).get("failures") == "1"


def test_junit_counts_every_failure_of_a_hundred_findings() -> None:
    root = ET.fromstring(render_junit(many_findings(100)))

    # ... and the two checks whose failed cases have no finding of their own in this outcome
    assert len(root.findall(".//failure")) == 100 + 2
    assert root.get("failures") == str(7 + 2)  # test cases with failures, each counted once


def test_junit_parses_whatever_the_server_sent() -> None:
    text = HOSTILE + " \x00\x08\x0b\x1b\ufffe\udcff ]]> &amp;"
    finding = Finding(EDITS, "custom", text, text, "fuzzing", 500, None, text)
    root = ET.fromstring(render_junit(outcome_with([finding], errors=[text])))

    failure = root.find(".//testcase[@name='custom']/failure")
    assert failure is not None
    assert failure.get("message", "").startswith('<script>alert(1)</script> "quoted"')
    assert "]]> &amp;" in (failure.text or "")


def test_junit_of_a_clean_run_has_no_failures() -> None:
    root = ET.fromstring(render_junit(conforming()))

    assert counts_of(root) == ("2", "0", "0", "1")  # not_a_server_error passes, variations skipped
    assert root.findall(".//failure") == []


# --- files ---------------------------------------------------------------------------------------------


def test_write_reports_writes_exactly_the_reports_and_binary_bodies(tmp_path: Path) -> None:
    outcome = two_findings()

    written = write_reports(outcome, tmp_path)

    names = ["report.md", "report.html", "junit.xml", "finding-1-request.bin"]
    assert written == [tmp_path / name for name in names]
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(names)
    assert (tmp_path / "finding-1-request.bin").read_bytes() == multipart_edit().body


def test_write_reports_numbers_body_files_like_the_findings(tmp_path: Path) -> None:
    odd_image = multipart_edit(image=b"\x89X")
    no_request = Finding(EDITS, "imagegen_mask_size", "Wrong mask size accepted", "m", "probe", 200, None, "")
    other = Finding(EDITS, "other", "Other", "m", "probe", 500, odd_image, "")
    outcome = outcome_with([rejection_finding(), no_request, schema_finding(), other])

    write_reports(outcome, tmp_path)
    markdown = (tmp_path / "report.md").read_text()

    assert sorted(path.name for path in tmp_path.glob("*.bin")) == [
        "finding-3-request.bin",
        "finding-4-request.bin",
    ]
    assert "[finding-3-request.bin](finding-3-request.bin)" in finding_section(markdown, 3)
    assert "[finding-4-request.bin](finding-4-request.bin)" in finding_section(markdown, 4)
    assert "### 4. POST /images/edits — other: Other" in markdown
    assert (tmp_path / "finding-3-request.bin").read_bytes() == multipart_edit().body
    assert (tmp_path / "finding-4-request.bin").read_bytes() == odd_image.body
    html_links = [
        attrs["href"] for tag, attrs in tags_of((tmp_path / "report.html").read_text()) if tag == "a"
    ]
    assert html_links == ["finding-3-request.bin", "finding-4-request.bin"]
    replayed = {
        failure.get("message"): shlex.split((failure.text or "").splitlines()[-1])[-1]
        for failure in ET.parse(tmp_path / "junit.xml").iter("failure")
        if "curl" in (failure.text or "")
    }
    assert replayed["Response violates schema"] == "@finding-3-request.bin"
    assert replayed["Other"] == "@finding-4-request.bin"


def test_write_reports_keeps_a_huge_body_whole_in_its_file(tmp_path: Path) -> None:
    request = multipart_edit(image=png_bytes(1024, 1024) + os.urandom(3_000_000))
    outcome = outcome_with([schema_finding(request)])

    write_reports(outcome, tmp_path)

    assert (tmp_path / "finding-1-request.bin").read_bytes() == request.body
    assert (tmp_path / "report.md").stat().st_size < 30_000


def test_write_reports_of_a_hundred_findings_writes_a_hundred_bodies(tmp_path: Path) -> None:
    written = write_reports(many_findings(100), tmp_path / "nested" / "reports")

    assert len(written) == 103
    assert {path.name for path in written[3:]} == {f"finding-{n}-request.bin" for n in range(1, 101)}
    assert all(path.exists() for path in written)


def test_write_reports_of_a_clean_run_writes_only_the_reports(tmp_path: Path) -> None:
    written = write_reports(conforming(), tmp_path)

    assert [path.name for path in written] == ["report.md", "report.html", "junit.xml"]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["junit.xml", "report.html", "report.md"]


def test_write_reports_never_leaves_half_a_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "report.md").write_text("the previous report\n")

    def disk_full(descriptor: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        write_reports(conforming(), tmp_path)

    assert (tmp_path / "report.md").read_text() == "the previous report\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["report.md"]  # no temporary file left


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_the_curl_commands_of_the_report_send_the_same_requests_again(tmp_path: Path) -> None:
    with recording_server() as server:
        base_url = server.base_url
        outcome = outcome_with(
            [schema_finding(multipart_edit(base_url)), rejection_finding(json_generation(base_url))]
        )
        write_reports(outcome, tmp_path)
        commands = curl_blocks((tmp_path / "report.md").read_text())
        environment = {"PATH": os.environ.get("PATH", ""), "IMAGEGEN_TOKEN": "sk-secret-token"}
        for command in commands:
            server.reply_json({"created": 1, "data": []})
            subprocess.run(
                ["bash", "-c", command], cwd=tmp_path, env=environment, check=True, capture_output=True
            )

        edit, generation = server.requests
    assert edit.body == multipart_edit(base_url).body
    assert [part.name for part in edit.parts()] == ["model", "prompt", "image"]
    assert edit.headers["authorization"] == "Bearer sk-secret-token"
    assert generation.body == json_generation(base_url).body
    assert generation.headers["authorization"] == "Bearer sk-secret-token"


# --- rules, triggers, fields as text, coverage, incomplete runs -------------------------------------


def test_a_finding_always_says_which_rule_even_when_its_check_said_nothing() -> None:
    finding = Finding(
        GENERATIONS, "not_a_server_error", "Server error", "", "fuzzing", 500, json_generation(), ""
    )
    section = finding_section(render_markdown(outcome_with([finding])), 1)
    blocks, outside = split_markdown(section)

    assert (
        "- Which rule: A request never gets a 5xx answer: the server fails on nothing it is sent." in outside
    )
    assert blocks[1][1] == "A request never gets a 5xx answer: the server fails on nothing it is sent."


def test_the_value_that_triggered_a_finding_is_highlighted_in_every_report() -> None:
    finding = dataclasses.replace(rejection_finding(), trigger="size=300x200")
    outcome = outcome_with([finding])

    assert "- Triggered by: `size=300x200`" in render_markdown(outcome)
    assert "triggered by size=300x200" in summary(outcome)
    assert "triggered by: size=300x200" in render_junit(outcome)


def test_a_long_prompt_in_a_multipart_body_is_shown_as_text_with_its_length() -> None:
    prompt = "A yellow alpaca. " * 240  # 4080 characters
    body = (
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="prompt"\r\n\r\n{prompt}\r\n'
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        + png_bytes()
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )
    request = SentRequest(
        "POST",
        f"{BASE_URL}/images/edits",
        {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
        body,
    )
    section = finding_section(render_markdown(outcome_with([schema_finding(request)])), 1)

    assert "- `prompt`: `A yellow alpaca. A yellow alpaca." in section
    assert f"({len(prompt)} characters)" in section  # cut, with its length
    assert "- `image`: `file 'a.png' (image/png," in section
    assert "PNG 64x64" in section


def test_an_emoji_in_a_json_prompt_is_shown_as_itself_and_named() -> None:
    request = SentRequest(
        "POST",
        f"{BASE_URL}/images/generations",
        {"Content-Type": "application/json"},
        b'{"model": "dall-e-2", "prompt": "otter \\ud83e\\udda6 swimming"}',
    )
    section = finding_section(render_markdown(outcome_with([rejection_finding(request)])), 1)

    assert "- `prompt`: `otter \U0001f9a6 swimming` (U+1F9A6 OTTER)" in section


def test_the_coverage_table_shows_what_was_sent_and_what_was_not() -> None:
    from imagegen.conformance.coverage import NOT_TAKEN, FieldCoverage, OperationCoverage

    size = FieldCoverage(
        values=("256x256", "512x512", "1024x1024"), sent=9, seen=Counter({"256x256": 7, "512x512": 2})
    )
    coverage = OperationCoverage(
        valid_requests=12,
        fields={
            "prompt": FieldCoverage(values=None, sent=12),
            "size": size,
            "style": FieldCoverage(None, status=NOT_TAKEN),
        },
        rules=[("size=300x200", "answered 400, param size")],
    )
    markdown = render_markdown(outcome_with([], coverage={GENERATIONS: coverage}))

    assert f"### {GENERATIONS}: 12 valid requests" in markdown
    assert "| `size` | 9 | `256x256` (7), `512x512` (2) | `1024x1024` |" in markdown
    assert "| `style` | — | not taken by the model |  |" in markdown
    assert "- `size=300x200`: answered 400, param size" in markdown


def test_the_report_says_what_each_check_verifies() -> None:
    markdown = render_markdown(two_findings())

    assert "## What each check verifies" in markdown
    assert (
        "| negative_data_rejection | A request the contract (narrowed to the model's rules) forbids"
        in markdown
    )


def test_an_incomplete_run_says_so_everywhere_with_its_warning() -> None:
    outcome = outcome_with(
        [],
        incomplete="The run stopped before it was done: the time limit of 60 s was reached.",
        warnings=["The server is slow: the slowest of 2 answers took 30.0 s (median 30.0 s)."],
    )

    assert summary(outcome).startswith(
        "INCOMPLETE: The run stopped before it was done: the time limit of 60 s"
    )
    markdown = render_markdown(outcome)
    assert "**Incomplete.** The run stopped before it was done" in markdown
    assert "**Warning.** The server is slow" in markdown
    complete = [
        case
        for case in ET.fromstring(render_junit(outcome)).iter("testcase")
        if case.get("name") == "complete"
    ]
    assert complete
    assert complete[0].find("failure") is not None
    assert outcome.exit_status == 2
    assert outcome_with([schema_finding()], incomplete="stopped").exit_status == 1


def test_failure_text_lists_each_finding_with_its_rule_trigger_and_curl() -> None:
    from imagegen.conformance.report import failure_text

    text = failure_text(outcome_with([dataclasses.replace(rejection_finding(), trigger="n=11")]))

    assert "DOES NOT CONFORM: 1 finding" in text
    assert "1. POST /images/generations negative_data_rejection (HTTP 200): API accepted" in text
    assert "rule: A request the contract" in text
    assert "triggered by: n=11" in text
    assert "reproduce: curl -sS -X POST" in text


def test_the_summary_has_a_line_of_coverage_per_operation() -> None:
    from imagegen.conformance.coverage import FieldCoverage, OperationCoverage

    size = FieldCoverage(values=("256x256", "1024x1024"), sent=3, seen=Counter({"256x256": 3}))
    covered = OperationCoverage(
        valid_requests=3,
        fields={"size": size, "user": FieldCoverage(values=None, sent=0)},
        rules=[("size=300x200", "answered 400, param size")],
    )
    lines = summary(outcome_with([], coverage={GENERATIONS: covered})).splitlines()

    assert "coverage (valid requests sent; rules tested; what valid requests never held):" in lines
    assert f"  {GENERATIONS}     3 valid    1 rules  never: size=1024x1024, user" in lines
