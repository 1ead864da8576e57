"""`imagegen conformance` reports each defect of the zoo, alone, and passes each unusual but right server.

Each broken server of tests/zoo/defects.py is the reference server with exactly one defect; each
server of tests/zoo/clean.py does something unusual that the contract allows. Most runs are
in-process (the ASGI app, small runs: the defects are found by the runner's requests from the
rules and by schemathesis' examples); over loopback, the command runs against the reference
server (the installed script), one defect, and twice with one seed (its `main` in this process).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

from imagegen.conformance import Outcome, run_conformance
from imagegen.conformance.report import write_reports
from imagegen.server import ServerConfig, create_app

from .support.cli import IMAGEGEN, run_main
from .zoo.clean import CLEAN, Clean
from .zoo.defects import TOKEN, ZOO, Defect, Exchange, Rewriting, _ok_json, _reference

START_TIMEOUT_S = 10.0
RUN_TIMEOUT_S = 300
SMALL = {"max_examples": 3, "seed": 1}
# What each finding's title and message must say (beyond its check's name): what is wrong.
WORDS = {
    "size-ignored": "1024x1024",
    "n-ignored": "n was",
    "jpeg-labelled-png": "JPEG",
    "b64-data-url": "data: URL",
    "url-404": "404",
    "url-html": "text/html",
    "transparency-dropped": "alpha",
    "mask-ignored": "the mask",
    "variation-size-ignored": "256x256",
    "usage-off": "total_tokens",
    "quality-misreported": "quality",
    "extra-partial": "partial_images was 2",
    "no-completed": "no completed event",
    "events-misnamed": "sent as",
    "stream-as-json": "application/json",
    "stream-500": "500",
    "any-size-dall-e-2": "300x200",
    "text-taken-as-image": "text file",
    "plain-text-401": "text/plain",
}


def explain(outcome: Outcome) -> str:
    lines = [f"{len(outcome.findings)} finding(s) for {outcome.model}:"]
    for finding in outcome.findings:
        lines.append(
            f"- {finding.operation} [{finding.check}, {finding.phase}] {finding.status}: {finding.title}"
        )
        lines.append(f"  {finding.message[:300]}")
        lines.append(f"  triggered by {finding.trigger}")
    return "\n".join(lines + outcome.errors + outcome.notes)


@pytest.mark.parametrize("defect", ZOO.values(), ids=list(ZOO))
def test_each_broken_server_is_reported_by_its_one_check(defect: Defect) -> None:
    outcome = run_conformance(
        model=defect.model,
        app=defect.app_factory(),
        token=TOKEN,
        operations=defect.operations,
        phases=defect.phases,
        **SMALL,
    )

    assert {finding.check for finding in outcome.findings} == {defect.expected_check}, explain(outcome)
    assert outcome.exit_status == 1
    for finding in outcome.findings:
        assert finding.title, finding
        assert finding.rule, finding  # never an empty "Which rule"
    if defect.name in WORDS:
        said = " ".join(
            f"{finding.title} {finding.message} {finding.trigger}" for finding in outcome.findings
        )
        assert WORDS[defect.name] in said, explain(outcome)


@pytest.mark.parametrize("clean", CLEAN.values(), ids=list(CLEAN))
def test_each_unusual_but_right_server_conforms(clean: Clean) -> None:
    outcome = run_conformance(
        model=clean.model,
        app=clean.app_factory(),
        token=TOKEN,
        operations=clean.operations,
        phases=clean.phases,
        **SMALL,
    )

    assert outcome.conforms, explain(outcome)
    assert outcome.cases > 50


def _fails_on_non_ascii_prompts(exchange: Exchange) -> None:
    """Answers 500 to a generation whose prompt is not plain ASCII (an encoding bug)."""
    prompt = exchange.request_json().get("prompt")
    if exchange.status == 200 and isinstance(prompt, str) and not prompt.isascii():
        exchange.status = 500
        envelope = {"error": {"message": "codec error", "type": "server_error", "param": None, "code": None}}
        exchange.body = json.dumps(envelope).encode()
        exchange.set_content_type("application/json")


def test_a_server_error_names_the_value_that_caused_it() -> None:
    outcome = run_conformance(
        model="dall-e-2",
        app=Rewriting(_reference(), answer=_fails_on_non_ascii_prompts),
        token=TOKEN,
        operations=["generations"],
        phases=["fuzzing"],
        max_examples=10,
        seed=3,
    )

    [finding] = outcome.findings
    assert finding.check == "not_a_server_error"
    assert finding.trigger is not None
    assert finding.trigger.startswith("prompt=")
    assert "U+" in finding.trigger  # the characters outside ASCII, named
    assert finding.trigger.endswith("(the same request with a plain prompt succeeds)")


# --- over loopback ------------------------------------------------------------------------------


@contextmanager
def serving(app: ASGIApp) -> Iterator[str]:
    """Serve `app` with uvicorn on a free loopback port for the block; yields the base URL (…/v1)."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="zoo-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError("the zoo server did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.should_exit = True
        thread.join(timeout=START_TIMEOUT_S)


class _KeyRecorder:
    """Records the Authorization header of every request to the app it wraps."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.seen: list[str | None] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = dict(scope["headers"])
            key = headers.get(b"authorization")
            self.seen.append(key.decode() if key is not None else None)
        await self.app(scope, receive, send)


def test_image_urls_on_another_origin_are_fetched_without_the_key() -> None:
    """A server whose image URLs point at a CDN (another origin) conforms, and the CDN never gets the key."""
    reference = _reference()
    cdn = _KeyRecorder(reference)  # the same app (and image store), reached at another origin
    with serving(cdn) as cdn_url:
        origin = cdn_url.removesuffix("/v1")

        def to_cdn(exchange: Exchange) -> None:
            answer = _ok_json(exchange)
            if answer is None:
                return
            for item in answer["data"]:
                if isinstance(item.get("url"), str):
                    item["url"] = origin + item["url"][item["url"].index("/v1/") :]
            exchange.body = json.dumps(answer).encode()

        outcome = run_conformance(
            model="dall-e-2",
            app=Rewriting(reference, answer=to_cdn),
            token=TOKEN,
            operations=["generations"],
            phases=["examples"],
            **SMALL,
        )

    assert outcome.conforms, explain(outcome)
    assert outcome.checks[("POST /images/generations", "url_serves_image", "success")] > 3
    assert cdn.seen  # fetched
    assert set(cdn.seen) == {None}  # and never with the key


def conformance(
    base_url: str,
    model: str,
    report_dir: Path,
    operations: tuple[str, ...] | None = None,
    phases: tuple[str, ...] | None = None,
    max_examples: int = 10,
    installed: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run the `imagegen conformance` command against `base_url`: the installed script if
    `installed`, otherwise its `main` in this process (tests/support/cli.py)."""
    command = [
        "conformance",
        "--url",
        base_url,
        "--token",
        TOKEN,
        "--model",
        model,
        "--max-examples",
        str(max_examples),
        "--seed",
        "1",
        "--report-dir",
        str(report_dir),
    ]
    if operations is not None:
        command += ["--operations", ",".join(operations)]
    if phases is not None:
        command += ["--phases", ",".join(phases)]
    if not installed:
        return run_main(command)
    return subprocess.run(
        [IMAGEGEN, *command], capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False
    )


def failed_checks(junit: Path) -> dict[str, list[str]]:
    """check name (a testcase's name) -> the failure messages of its testcases."""
    failed: dict[str, list[str]] = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        for failure in case.findall("failure"):
            failed.setdefault(case.get("name", ""), []).append(failure.get("message", ""))
    return failed


def stable_summary(stdout: str) -> str:
    """The summary without what changes from run to run: the server's port, the time, the paths."""
    volatile = ("server ", "elapsed ", "reports:")
    return "\n".join(line for line in stdout.splitlines() if not line.startswith(volatile))


def shown(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


@pytest.mark.heavy
def test_the_command_passes_the_reference_server_over_loopback(tmp_path: Path) -> None:
    with serving(create_app(ServerConfig(tokens=frozenset({TOKEN})))) as base_url:
        # every phase runs in-process in tests/test_server_conformance.py; this is the command's turn
        result = conformance(
            base_url, "dall-e-2", tmp_path, phases=("examples", "fuzzing"), max_examples=3, installed=True
        )

    assert result.returncode == 0, shown(result)
    assert result.stdout.startswith("CONFORMS")
    assert failed_checks(tmp_path / "junit.xml") == {}
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "## Coverage" in report
    assert "| check | what it verifies |" in report


def test_the_command_reports_a_defect_over_loopback(tmp_path: Path) -> None:
    defect = ZOO["url-html"]
    with serving(defect.app_factory()) as base_url:
        result = conformance(base_url, defect.model, tmp_path, defect.operations, ("examples",), 3)

    assert result.returncode == 1, shown(result)
    listed = result.stdout.partition("\nfindings:")[2]  # the summary's tables name every check
    assert defect.expected_check in listed, shown(result)
    assert set(failed_checks(tmp_path / "junit.xml")) == {defect.expected_check}
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert defect.expected_check in report.partition("## Findings")[2]
    assert "<!DOCTYPE html>" in (tmp_path / "report.html").read_text(encoding="utf-8")


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_the_curl_command_of_a_finding_sends_the_request_that_showed_it(tmp_path: Path) -> None:
    defect = ZOO["any-size-dall-e-2"]
    with serving(defect.app_factory()) as base_url:
        outcome = run_conformance(
            model=defect.model,
            base_url=base_url,
            token=TOKEN,
            operations=["generations"],
            phases=["examples"],
            **SMALL,
        )
        [finding] = [finding for finding in outcome.findings if finding.trigger == "size=300x200"]
        write_reports(outcome, tmp_path)
        number = outcome.findings.index(finding) + 1
        section = (tmp_path / "report.md").read_text(encoding="utf-8").split(f"### {number}. ")[1]
        curl = section.split("```sh\n")[1].split("\n```")[0]
        replayed = subprocess.run(
            ["bash", "-c", curl + " -w '\\n%{http_code}'"],
            cwd=tmp_path,
            env={"PATH": os.environ.get("PATH", ""), "IMAGEGEN_TOKEN": TOKEN},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    body, _, status = replayed.stdout.rpartition("\n")
    assert status == "200", replayed.stdout + replayed.stderr  # accepted again: the defect, reproduced
    assert json.loads(body)["data"]


@pytest.mark.heavy
def test_the_same_seed_finds_the_same_defects_twice(tmp_path: Path) -> None:
    defect = ZOO["server-error"]
    runs = []
    for attempt in ("first", "second"):
        with serving(defect.app_factory()) as base_url:
            # fuzzing is the phase that draws at random: the one a seed must make repeatable
            result = conformance(
                base_url, defect.model, tmp_path / attempt, defect.operations, ("examples", "fuzzing"), 5
            )
        assert result.returncode == 1, shown(result)
        runs.append((failed_checks(tmp_path / attempt / "junit.xml"), stable_summary(result.stdout)))

    (first_failures, first_summary), (second_failures, second_summary) = runs
    assert first_failures == second_failures
    assert first_summary == second_summary  # the same checks, counted the same, the same findings
    assert defect.expected_check in first_failures
