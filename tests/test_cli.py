"""The `imagegen` command as installed: --version, models, contract."""

from __future__ import annotations

import json
import subprocess

import pytest

from imagegen import __version__, load_contract

from .support.cli import IMAGEGEN


def imagegen(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([IMAGEGEN, *args], capture_output=True, text=True, timeout=60, check=False)


def test_version() -> None:
    done = imagegen("--version")
    assert (done.returncode, done.stdout.strip()) == (0, f"imagegen {__version__}")


def test_help_shows_examples() -> None:
    done = imagegen("--help")
    assert done.returncode == 0
    assert 'imagegen generate "Yellow alpaca" --model dall-e-3' in done.stdout
    models = imagegen("models", "--help")
    assert "imagegen models gpt-image-2 --json" in models.stdout


def test_no_command_prints_usage_and_exits_2() -> None:
    done = imagegen()
    assert done.returncode == 2
    assert "usage: imagegen" in done.stderr


def test_models_lists_every_model_readably() -> None:
    done = imagegen("models")
    assert done.returncode == 0
    headings = [line for line in done.stdout.splitlines() if line and not line.startswith(" ")]
    from imagegen import default_catalog

    # every model of the contract, with its aliases
    assert headings == [
        model.name + (f" (also {', '.join(model.aliases)})" if model.aliases else "")
        for model in default_catalog()
    ]
    assert "gpt-image-2 (also gpt-image-2-2026-04-21)" in headings
    assert "retired by OpenAI in 2026" in done.stdout.split("\ndall-e-3")[1].split("\n\n")[0]


def test_models_json_by_alias() -> None:
    done = imagegen("models", "gpt-image-2-2026-04-21", "--json")
    assert done.returncode == 0
    rules = json.loads(done.stdout)["gpt-image-2"]
    assert rules["fields"]["size"]["custom_sizes"]["multiple_of"] == 16
    assert rules["fields"]["n"] == {"max": 10}


def test_unknown_model_names_the_known_ones_and_exits_2() -> None:
    done = imagegen("models", "dall-e-9")
    assert done.returncode == 2
    assert done.stdout == ""
    assert "unknown model 'dall-e-9'; known: dall-e-2, dall-e-3" in done.stderr


def test_contract_json_prints_the_packaged_contract() -> None:
    done = imagegen("contract", "--json")
    assert done.returncode == 0
    assert json.loads(done.stdout) == load_contract()


def test_contract_lists_every_operation_and_model_of_the_contract() -> None:
    from imagegen import default_contract

    done = imagegen("contract")
    assert done.returncode == 0
    contract = default_contract()
    for operation in contract.operations:
        assert f"{operation.label}" in done.stdout
        assert operation.id in done.stdout
    for model in contract.catalog:
        assert f"  {model.name} " in done.stdout


def test_the_stored_top_level_help_is_what_argparse_prints(monkeypatch: pytest.MonkeyPatch) -> None:
    """`imagegen --help` prints a stored copy (to skip importing argparse); it must not drift."""
    from imagegen.cli.main import TOP_HELP, build_parser

    monkeypatch.setenv("COLUMNS", "100")
    assert build_parser().format_help() == TOP_HELP
