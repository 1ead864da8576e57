"""`imagegen contract`: show, check, diff and compare, as a maintainer runs them."""

from __future__ import annotations

import copy
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from .support.cli import IMAGEGEN, run_main
from .support.official_style import official_style

ROOT = Path(__file__).resolve().parents[1]
CONTRACT = ROOT / "openapi" / "images.yaml"


def imagegen(*args: str) -> subprocess.CompletedProcess[str]:
    """`imagegen contract ...`, run in this process (tests/support/cli.py)."""
    return run_main(args)


def changed(tmp_path: Path, change: Any, name: str = "new.yaml") -> Path:
    document = copy.deepcopy(yaml.safe_load(CONTRACT.read_text()))
    change(document)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def drop_hd(document: dict[str, Any]) -> None:
    document["components"]["schemas"]["ImageQuality"]["enum"].remove("hd")
    for model in document["x-imagegen-models"]["models"].values():
        quality = model["fields"].get("quality")
        if isinstance(quality, dict) and "hd" in quality.get("values", []):
            quality["values"].remove("hd")


def add_seed(document: dict[str, Any]) -> None:
    document["components"]["schemas"]["CreateImageRequest"]["properties"]["test_only_field"] = {
        "type": "integer"
    }


def test_a_removed_enum_value_breaks_clients_and_fails_the_diff(tmp_path: Path) -> None:
    done = imagegen("contract", "diff", str(CONTRACT), str(changed(tmp_path, drop_hd)))
    assert done.returncode == 1, done.stderr
    clients = done.stdout.partition("Breaking for clients")[2].partition("\n\n")[0]
    assert "POST /images/generations application/json: quality: enum value 'hd' removed" in clients
    assert "model dall-e-3" in clients  # the model's rule lost the value too
    count = clients.splitlines()[0].strip(" ():")
    assert (
        done.stdout.rstrip()
        .splitlines()[-1]
        .startswith(f"{count} breaking for clients, 0 breaking for servers")
    )


def test_an_added_optional_field_is_compatible(tmp_path: Path) -> None:
    done = imagegen("contract", "diff", str(CONTRACT), str(changed(tmp_path, add_seed)))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Compatible (1):" in done.stdout
    assert (
        "POST /images/generations application/json: test_only_field: field added (optional; integer)"
        in done.stdout
    )
    assert done.stdout.rstrip().endswith("0 breaking for clients, 0 breaking for servers, 1 compatible")


@pytest.mark.parametrize(("fail_on", "status"), [("client", 1), ("server", 0), ("any", 1), ("never", 0)])
def test_fail_on_chooses_what_fails_the_diff(tmp_path: Path, fail_on: str, status: int) -> None:
    done = imagegen("contract", "diff", str(CONTRACT), str(changed(tmp_path, drop_hd)), "--fail-on", fail_on)
    assert done.returncode == status


def test_the_diff_as_json(tmp_path: Path) -> None:
    done = imagegen("contract", "diff", str(CONTRACT), str(changed(tmp_path, drop_hd)), "--json")
    report = json.loads(done.stdout)
    assert report["summary"]["client"] >= 3
    assert {change["impact"] for change in report["changes"]} == {"client"}


@pytest.fixture
def official(tmp_path: Path) -> Path:
    """A file in the official spec's shape (tests/support/official_style.py)."""
    path = tmp_path / "official.yaml"
    path.write_text(yaml.safe_dump(official_style(yaml.safe_load(CONTRACT.read_text())), sort_keys=False))
    return path


def test_compare_with_the_official_spec_is_a_readable_report(official: Path) -> None:
    done = imagegen("contract", "compare", str(official))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    for heading in ("Ours lacks:", "The official lacks:", "Differs:"):
        assert any(line.startswith(heading) for line in lines), heading
    assert max(len(line) for line in lines) < 200
    assert "header Idempotency-Key parameter (optional)" in done.stdout  # what ours adds
    words = re.sub(r"\{\w+\}", "", done.stdout.partition("Differs")[0])  # path templates are fine
    assert "{" not in words  # no dict dumps, only words


def test_compare_names_the_models_the_official_spec_has_and_ours_has_no_rules_for(
    tmp_path: Path, official: Path
) -> None:
    def forget(document: dict[str, Any]) -> None:
        del document["x-imagegen-models"]["models"]["chatgpt-image-latest"]

    done = imagegen("contract", "compare", str(official), str(changed(tmp_path, forget)), "--json")
    report = json.loads(done.stdout)
    lacking = [change["where"] + ": " + change["what"] for change in report["ours_lacks"]]
    assert any("chatgpt-image-latest" in line for line in lacking), lacking


def test_check_reports_an_inconsistent_contract(tmp_path: Path) -> None:
    def typo(document: dict[str, Any]) -> None:
        document["x-imagegen-models"]["models"]["dall-e-3"]["fields"]["qualty"] = {"values": ["hd"]}

    bad = imagegen("contract", "check", str(changed(tmp_path, typo)))
    assert bad.returncode == 1
    assert "no request of the contract has a field 'qualty'" in bad.stdout
    good = imagegen("contract", "check")
    assert good.returncode == 0
    assert good.stdout.strip() == "the packaged contract: 0 error(s), 0 warning(s)"


def test_an_unreadable_file_is_a_usage_error_without_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("openapi: [unclosed\n")
    for args in (
        ("diff", str(CONTRACT), str(tmp_path / "missing.yaml")),
        ("check", str(tmp_path / "broken.yaml")),
    ):
        done = imagegen("contract", *args)
        assert done.returncode == 2
        assert done.stderr.startswith("imagegen contract: ")
        assert "Traceback" not in done.stderr


@pytest.mark.parametrize("command", ["contract --json", "contract", "models --json", "models"])
def test_a_reader_that_stops_early_is_not_an_error(command: str) -> None:
    done = subprocess.run(
        f"{IMAGEGEN} {command} | head -n 1",
        shell=True,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert len(done.stdout.splitlines()) == 1
    assert "Traceback" not in done.stderr
    assert "BrokenPipe" not in done.stderr
