"""A pure addition to the contract reaches every layer after one `scripts/generate`.

The addition (tests/support/addition.py) is an optional field, an enum value, a model with
rules and a whole operation. It is made to a copy of the repository, which is regenerated; a
probe then runs with the copy first on the import path and reports what each layer does.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from imagegen.contract import Contract, default_contract
from imagegen.contract.lint import lint

from .support import addition

pytestmark = pytest.mark.heavy

ROOT = Path(__file__).resolve().parents[1]
SUPPORT = Path(__file__).resolve().parent / "support"


def run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return subprocess.run(
        list(args),
        cwd=cwd,
        env={**os.environ, "PATH": path, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def seen(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    copy_root = tmp_path_factory.mktemp("addition")
    # Bytecode is copied too (copytree keeps mtimes, so a pyc stays valid only for an unchanged
    # source): the probe would otherwise compile every module of the copy first.
    for part in ("openapi", "generated", "overlay", "scripts"):
        shutil.copytree(ROOT / part, copy_root / part)
    assert addition.main(str(copy_root / "openapi" / "images.yaml")) == 0

    # One generator run (it takes seconds): what it reports changing is what --check reports.
    generated = run(sys.executable, str(copy_root / "scripts" / "_generate.py"), cwd=copy_root)
    assert generated.returncode == 0, generated.stdout + generated.stderr
    assert "what changed:" in generated.stdout, "the addition changes the generated code"
    assert "models/create_image_request.py (changed)" in generated.stdout
    assert "openapi.json (changed)" in generated.stdout
    assert "warning" not in generated.stderr, generated.stderr  # a consistent addition

    python_path = os.pathsep.join([str(copy_root / "overlay"), str(copy_root / "generated"), str(SUPPORT)])
    probe = run(
        sys.executable, str(SUPPORT / "addition_probe.py"), cwd=copy_root, env={"PYTHONPATH": python_path}
    )
    assert probe.returncode == 0, probe.stderr[-3000:]
    found: dict[str, Any] = json.loads(probe.stdout)
    assert found["imagegen"].startswith(str(copy_root)), "the probe must use the regenerated copy"
    return found


def test_the_regenerated_copy_is_consistent(seen: dict[str, Any]) -> None:
    assert seen["lint"] == []


def test_the_generated_client_has_the_operation_and_the_field(seen: dict[str, Any]) -> None:
    assert seen["generated_endpoint"] == "imagegen_api.api.images.create_image_upscale"
    assert seen["generated_field"] is True
    assert seen["generated_round_trip"] == {"prompt": "p", addition.NEW_FIELD: 7}
    assert f"{addition.NEW_FIELD}: int | None | Unset = UNSET" in seen["generated_source"]
    assert addition.SEED_DESCRIPTION in seen["generated_source"]  # the contract's words, as a docstring


def test_the_typed_surface_has_them(seen: dict[str, Any]) -> None:
    assert seen["typed_fields"] == ["model", "scale"]
    assert seen["typed_seed"] is True


def test_the_contract_module_and_the_command_line_list_them(seen: dict[str, Any]) -> None:
    assert seen["operations"] == [*default_contract().operation_names, addition.NEW_OPERATION]
    assert f"POST {addition.NEW_PATH}" in seen["cli_contract"]
    assert addition.NEW_MODEL in seen["cli_contract"]
    assert "--seed" in seen["cli_generate_help"]
    assert addition.NEW_QUALITY in seen["cli_generate_help"]
    assert f"quality             auto, low, medium, high, {addition.NEW_QUALITY}" in seen["cli_models"]


def test_one_engine_applies_the_new_model_and_value(seen: dict[str, Any]) -> None:
    assert seen["catalog_has_model"] is True
    assert seen["engine_ultra_for_new_model"] == []
    assert seen["engine_ultra_for_old_model"] == [
        f"gpt-image-1.5 does not take quality={addition.NEW_QUALITY}; it takes auto, low, medium, high."
    ]


def test_the_reference_server_follows(seen: dict[str, Any]) -> None:
    status, body = seen["server_new_operation"]
    assert status == 501
    assert body["error"]["code"] == "not_implemented"
    assert addition.NEW_OPERATION_ID in body["error"]["message"]
    assert seen["server_new_model"] == [200, addition.NEW_QUALITY]
    assert seen["server_old_model"] == [400, "quality"]


def test_the_client_sends_the_new_field_and_calls_the_new_operation(seen: dict[str, Any]) -> None:
    assert seen["client_generate"] == addition.NEW_QUALITY
    assert seen["client_request"] == [8, 8]


def test_conformance_tests_the_new_operation(seen: dict[str, Any]) -> None:
    assert seen["conformance_reference"] == (
        f"nothing to test: the server answers 404, 405 or 501 on {addition.NEW_OPERATION}"
    )
    upscaler = seen["conformance_upscaler"]
    assert upscaler["tested"] == [f"POST {addition.NEW_PATH}"]
    assert upscaler["checked"] == [f"POST {addition.NEW_PATH}"]
    assert upscaler["cases"] > 20


def test_an_enum_value_answers_cannot_report_is_warned_about() -> None:
    document = addition.add_to(copy.deepcopy(yaml.safe_load((ROOT / "openapi" / "images.yaml").read_text())))
    document["components"]["schemas"]["ResultQuality"]["enum"].remove(addition.NEW_QUALITY)
    problems = [str(problem) for problem in lint(Contract(document))]
    where = f"warning: x-imagegen-models.models.{addition.NEW_MODEL}.fields.quality:"
    assert problems
    assert all(problem.startswith(where) for problem in problems)  # one per operation
    assert (
        f"takes quality='{addition.NEW_QUALITY}', which its generations answers cannot report" in problems[0]
    )
