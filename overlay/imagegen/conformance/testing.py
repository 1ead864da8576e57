"""Conformance from a server's own test suite: one call that fails with the findings.

    from imagegen.conformance import check_server

    def test_my_server_conforms() -> None:
        check_server(app=create_app(), model="my-model", token="sk-test")

`check_server` runs the same checks as `imagegen conformance` (in-process for an ASGI `app`, no
port and no network, or against `base_url`) and raises ConformanceFailure, an AssertionError
whose message lists each finding with its rule, the triggering value and a curl command, when
the server does not conform. Its defaults are small (10 examples, the examples and fuzzing
phases) so a suite stays fast; give any option of `run_conformance` to change them. As a pytest
fixture, with `pytest_plugins = ["imagegen.conformance.pytest_plugin"]`:

    def test_it(image_conformance) -> None:
        image_conformance(app=app, model="my-model")   # reports written under tmp_path
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .findings import Outcome
from .report import failure_text, write_reports
from .runner import run_conformance

QUICK_PHASES = ("examples", "fuzzing")


class ConformanceFailure(AssertionError):
    """The server does not conform; `outcome` has everything, the message lists the findings."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(failure_text(outcome))
        self.outcome = outcome


def check_server(
    *,
    model: str,
    app: Any = None,
    base_url: str | None = None,
    token: str | None = None,
    max_examples: int = 10,
    phases: Iterable[str] | None = QUICK_PHASES,
    max_time_s: float | None = 300,
    report_dir: Path | str | None = None,
    **options: Any,
) -> Outcome:
    """Run the conformance checks; the outcome when the server conforms, ConformanceFailure when
    it does not (or when the run was incomplete). `report_dir` also writes the reports there."""
    outcome = run_conformance(
        model=model,
        app=app,
        base_url=base_url,
        token=token,
        max_examples=max_examples,
        phases=phases,
        max_time_s=max_time_s,
        **options,
    )
    if report_dir is not None:
        write_reports(outcome, Path(report_dir))
    if not outcome.conforms:
        raise ConformanceFailure(outcome)
    return outcome


__all__ = ["QUICK_PHASES", "ConformanceFailure", "check_server"]
