"""`imagegen conformance` catches each defect of the zoo, and only that one.

Each broken server of tests/zoo is the reference server with exactly one defect. The real
command runs against it over loopback; it must exit 1, name the defect's check, and fail no
other check in its JUnit report. The unbroken reference server conforms to the same command.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn
from starlette.types import ASGIApp

from imagegen.server import ServerConfig, create_app

from .zoo.defects import TOKEN, ZOO, Defect, Rewriting

IMAGEGEN = str(Path(sys.executable).parent / "imagegen")
START_TIMEOUT_S = 10.0
RUN_TIMEOUT_S = 300
MAX_EXAMPLES = 10
SEED = 1


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


def conformance(
    base_url: str,
    model: str,
    report_dir: Path,
    operations: tuple[str, ...] | None = None,
    phases: tuple[str, ...] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the real `imagegen conformance` command against `base_url`."""
    command = [
        IMAGEGEN,
        "conformance",
        "--url",
        base_url,
        "--token",
        TOKEN,
        "--model",
        model,
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        str(SEED),
        "--report-dir",
        str(report_dir),
    ]
    if operations is not None:
        command += ["--operations", ",".join(operations)]
    if phases is not None:
        command += ["--phases", ",".join(phases)]
    return subprocess.run(command, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False)


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


@pytest.mark.parametrize("defect", ZOO.values(), ids=list(ZOO))
def test_conformance_reports_the_one_defect_of_each_broken_server(defect: Defect, tmp_path: Path) -> None:
    with serving(defect.app_factory()) as base_url:
        result = conformance(base_url, defect.model, tmp_path, defect.operations)

    assert result.returncode == 1, shown(result)
    listed = result.stdout.partition("\nfindings:")[2]  # the summary's tables name every check
    assert defect.expected_check in listed, shown(result)
    failed = failed_checks(tmp_path / "junit.xml")
    assert set(failed) == {defect.expected_check}, f"{failed}\n{shown(result)}"
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert defect.expected_check in report.partition("## Findings")[2]


def reference_app() -> ASGIApp:
    return create_app(ServerConfig(tokens=frozenset({TOKEN})))


def passed_through() -> ASGIApp:
    """The reference app behind the zoo's middleware, rewriting nothing: no defect by itself."""
    return Rewriting(reference_app(), request=lambda exchange: exchange.request_body, answer=lambda _: None)


@pytest.mark.parametrize(
    ("app_factory", "operations"),
    # The middleware is exercised by every zoo server's operations: generations, edits, streams.
    [(reference_app, None), (passed_through, ("generations", "edits"))],
    ids=["reference", "passed-through"],
)
def test_conformance_passes_the_unbroken_reference_server(
    app_factory: Callable[[], ASGIApp], operations: tuple[str, ...] | None, tmp_path: Path
) -> None:
    with serving(app_factory()) as base_url:
        result = conformance(base_url, "dall-e-2", tmp_path, operations)

    assert result.returncode == 0, shown(result)
    assert failed_checks(tmp_path / "junit.xml") == {}
    assert (tmp_path / "report.md").is_file()


def test_the_same_seed_finds_the_same_defects_twice(tmp_path: Path) -> None:
    defect = ZOO["server-error"]
    runs = []
    for attempt in ("first", "second"):
        with serving(defect.app_factory()) as base_url:
            # fuzzing is the phase that draws at random: the one a seed must make repeatable
            result = conformance(
                base_url, defect.model, tmp_path / attempt, defect.operations, ("examples", "fuzzing")
            )
        assert result.returncode == 1, shown(result)
        runs.append((failed_checks(tmp_path / attempt / "junit.xml"), stable_summary(result.stdout)))

    (first_failures, first_summary), (second_failures, second_summary) = runs
    assert first_failures == second_failures
    assert first_summary == second_summary  # the same checks, counted the same, the same findings
    assert defect.expected_check in first_failures
