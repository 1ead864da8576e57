"""For people who build servers in Python: an ASGI app tested in-process by the command
(`--app module:attr`), by one function call (`check_server`), and by a pytest fixture whose
failure carries the findings."""

from __future__ import annotations

import subprocess

import pytest

from imagegen.conformance import ConformanceFailure, check_server

from .support.cli import run_main
from .zoo.apps import broken, reference
from .zoo.defects import TOKEN

pytestmark = pytest.mark.heavy
pytest_plugins = ["pytester"]

QUICK = {"operations": ["generations"], "max_examples": 2, "phases": ["examples"]}


def test_check_server_returns_the_outcome_of_a_conforming_app() -> None:
    outcome = check_server(app=reference, model="dall-e-3", token=TOKEN, **QUICK)  # type: ignore[arg-type]

    assert outcome.conforms
    assert outcome.base_url == "in-process application"


def test_check_server_fails_with_the_findings_in_the_message() -> None:
    with pytest.raises(ConformanceFailure) as raised:
        check_server(app=broken(), model="dall-e-2", token=TOKEN, **QUICK)  # type: ignore[arg-type]

    message = str(raised.value)
    assert isinstance(raised.value, AssertionError)
    assert "DOES NOT CONFORM" in message
    assert "url_serves_image" in message
    assert "serves text/html" in message
    assert "rule: Each `url` answers 200" in message
    assert "reproduce: curl" in message
    assert raised.value.outcome.exit_status == 1


def test_the_pytest_fixture_fails_a_test_with_the_findings(pytester: pytest.Pytester) -> None:
    pytester.makeconftest('pytest_plugins = ["imagegen.conformance.pytest_plugin"]\n')
    pytester.makepyfile(
        test_server=(
            "from tests.zoo.apps import broken, reference\n"
            f"QUICK = {QUICK!r}\n"
            "def test_reference(image_conformance):\n"
            f"    image_conformance(app=reference, model='dall-e-3', token={TOKEN!r}, **QUICK)\n"
            "def test_broken(image_conformance):\n"
            f"    image_conformance(app=broken(), model='dall-e-2', token={TOKEN!r}, **QUICK)\n"
        )
    )
    # In this process (a pytest run of its own, as a user's would be): a fresh interpreter
    # spent most of its 7-8 s importing what this one has loaded already.
    runs = pytester.path / "runs"  # the inner run's tmp_path folders
    done = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider", f"--basetemp={runs}")

    output = done.stdout.str()
    done.assert_outcomes(passed=1, failed=1)
    assert "ConformanceFailure" in output
    assert "An image URL serves something that is not an image" in output
    reports = sorted(path.parent.parent.name for path in runs.rglob("conformance/report.md"))
    assert reports == ["test_broken0", "test_reference0"]  # under each test's own tmp_path


def run_command(*arguments: str) -> subprocess.CompletedProcess[str]:
    """`imagegen conformance ARGUMENTS`, its `main` run in this process (tests/support/cli.py),
    where `tests.zoo.apps` is importable as it is from the project's folder."""
    return run_main(
        ["conformance", "--token", TOKEN, "--operations", "generations", "--max-examples", "2",
         "--phases", "examples", *arguments]
    )  # fmt: skip


def test_the_command_tests_an_app_in_process() -> None:
    passed = run_command("--app", "tests.zoo.apps:reference", "--model", "dall-e-3")
    failed = run_command("--app", "tests.zoo.apps:broken", "--factory", "--model", "dall-e-2")

    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "server   in-process application" in passed.stdout
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "url_serves_image" in failed.stdout


def test_the_command_says_what_is_wrong_with_an_app_it_cannot_load() -> None:
    missing = run_command("--app", "tests.zoo.apps:nothing", "--model", "dall-e-3")
    unshaped = run_command("--app", "tests.zoo.apps", "--model", "dall-e-3")

    assert missing.returncode == 2
    assert "tests.zoo.apps has no attribute 'nothing'" in missing.stderr
    assert unshaped.returncode == 2
    assert "--app takes MODULE:ATTRIBUTE" in unshaped.stderr
