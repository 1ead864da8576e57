"""A pytest fixture for testing an image server with imagegen's conformance checks.

Enable it with `pytest_plugins = ["imagegen.conformance.pytest_plugin"]` in a conftest.py, then:

    def test_my_server_conforms(image_conformance) -> None:
        image_conformance(app=create_app(), model="my-model", token="sk-test")

The fixture is `check_server` (imagegen.conformance.testing) with the reports written under the
test's tmp_path; a failing run fails the test with the findings in the assertion message.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .findings import Outcome
from .testing import check_server


@pytest.fixture
def image_conformance(tmp_path: Path) -> Callable[..., Outcome]:
    """check_server(...), writing report.md, report.html and junit.xml under tmp_path/conformance."""

    def run(**options: Any) -> Outcome:
        options.setdefault("report_dir", tmp_path / "conformance")
        return check_server(**options)

    return run
