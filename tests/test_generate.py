"""The generator pipeline: generated/ matches the contract, is reproducible, and follows edits."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.heavy

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = str(Path(sys.executable).parent)


def load_pipeline() -> ModuleType:
    spec = importlib.util.spec_from_file_location("_generate", ROOT / "scripts" / "_generate.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PIPELINE = load_pipeline()


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run(
        list(args), cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """The parts of the repository the pipeline reads and writes, copied to a scratch folder."""
    for part in ("openapi", "generated"):
        shutil.copytree(ROOT / part, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "scripts").mkdir()
    for script in ("_generate.py", "_params.py"):
        shutil.copy2(ROOT / "scripts" / script, tmp_path / "scripts" / script)
    (tmp_path / "overlay" / "imagegen").mkdir(parents=True)
    shutil.copy2(ROOT / "overlay" / "imagegen" / "params.py", tmp_path / "overlay" / "imagegen" / "params.py")
    return tmp_path


def edit_contract(root: Path, change: Any) -> None:
    path = root / "openapi" / "images.yaml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(document)
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")


def test_generated_matches_the_contract() -> None:
    done = run(str(ROOT / "scripts" / "generate"), "--check")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "matches the contract" in done.stdout


def test_a_contract_that_is_not_yaml_is_reported_without_a_traceback(project_copy: Path) -> None:
    (project_copy / "openapi" / "images.yaml").write_text("openapi: 3.1.0\ninfo: [unclosed\n")

    done = run(sys.executable, str(project_copy / "scripts" / "_generate.py"), "--check", cwd=project_copy)

    assert done.returncode != 0
    assert "openapi/images.yaml is not valid YAML" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_file_added_by_hand_to_generated_is_reported(project_copy: Path) -> None:
    (project_copy / "generated" / "imagegen_api" / "patch.py").write_text("x = 1\n")

    done = run(sys.executable, str(project_copy / "scripts" / "_generate.py"), "--check", cwd=project_copy)

    assert done.returncode == 1
    assert "patch.py (not produced by the contract)" in done.stdout


def test_differences_name_each_file_as_the_check_and_a_generation_see_it(tmp_path: Path) -> None:
    fresh, repository = tmp_path / "fresh", tmp_path / "repository"
    for tree, files in ((fresh, {"same.py": "a", "changed.py": "new", "added.py": "x"}),
                        (repository, {"same.py": "a", "changed.py": "old", "gone.py": "y"})):  # fmt: skip
        (tree / "__pycache__").mkdir(parents=True)
        (tree / "__pycache__" / "same.cpython-311.pyc").write_text(tree.name)  # never compared
        for name, text in files.items():
            (tree / name).write_text(text)

    assert PIPELINE.differences(fresh, repository) == [
        "added.py (missing from generated/)",
        "changed.py (differs)",
        "gone.py (not produced by the contract)",
    ]
    assert PIPELINE.differences(fresh, repository, PIPELINE.WRITE_LABELS) == [
        "added.py (new)",
        "changed.py (changed)",
        "gone.py (removed)",
    ]


# ---- the lenient copy the generator reads --------------------------------------------------------


def lenient() -> dict[str, Any]:
    return PIPELINE.lenient_copy(yaml.safe_load((ROOT / "openapi" / "images.yaml").read_text()))


def test_lenient_copy_opens_every_enum_use() -> None:
    schemas = lenient()["components"]["schemas"]
    quality = schemas["CreateImageRequest"]["properties"]["quality"]["anyOf"]
    assert {"$ref": "#/components/schemas/ImageQuality"} in quality
    assert {"type": "string"} in quality
    edit_quality = schemas["CreateImageEditRequest"]["properties"]["quality"]["anyOf"]
    assert edit_quality == [{"$ref": "#/components/schemas/ImageQuality"}, {"type": "string"}]


def test_lenient_copy_relaxes_responses_but_not_requests() -> None:
    schemas = lenient()["components"]["schemas"]
    assert "required" not in schemas["ImagesResponse"]
    assert "required" not in schemas["ImageUsage"]
    assert "anyOf" not in schemas["Image"]
    assert schemas["CreateImageRequest"]["required"] == ["prompt"]
    assert schemas["CreateImageEditJsonRequest"]["required"] == ["images", "prompt"]


def test_lenient_copy_drops_what_the_generator_cannot_do() -> None:
    document = lenient()
    assert "x-imagegen-models" not in document
    responses = document["components"]["responses"]
    assert all("text/event-stream" not in r.get("content", {}) for r in responses.values())
    edit = document["components"]["schemas"]["CreateImageEditRequest"]
    assert "image" not in edit["properties"]
    assert "anyOf" not in edit


def test_the_strict_contract_is_shipped_unchanged() -> None:
    shipped = json.loads((ROOT / "generated" / "imagegen_api" / "openapi.json").read_text())
    assert shipped == yaml.safe_load((ROOT / "openapi" / "images.yaml").read_text())


def test_generation_warns_of_values_answers_cannot_report_and_stops_on_errors(project_copy: Path) -> None:
    def ultra_quality(document: dict[str, Any]) -> None:
        document["components"]["schemas"]["ImageQuality"]["enum"].append("ultra")
        document["x-imagegen-models"]["models"]["gpt-image-1.5"]["fields"]["quality"]["values"].append(
            "ultra"
        )

    edit_contract(project_copy, ultra_quality)
    script = str(project_copy / "scripts" / "_generate.py")
    warned = run(sys.executable, script, cwd=project_copy)
    assert warned.returncode == 0, warned.stderr
    assert "warning: x-imagegen-models.models.gpt-image-1.5.fields.quality" in warned.stderr
    assert "which its generations answers cannot report" in warned.stderr

    def typo(document: dict[str, Any]) -> None:
        document["x-imagegen-models"]["models"]["dall-e-3"]["fields"]["qualty"] = {"values": ["hd"]}

    edit_contract(project_copy, typo)
    refused = run(sys.executable, script, cwd=project_copy)
    assert refused.returncode == 1
    assert "error: x-imagegen-models.models.dall-e-3.fields.qualty" in refused.stderr
