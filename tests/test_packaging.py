"""One distribution: the wheel ships both packages and the contract, and imports stay light."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = (
    "starlette",
    "uvicorn",
    "PIL",
    "schemathesis",
    "hypothesis",
    "yaml",
    "python_multipart",
    "jsonschema",
)


def run(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(args), cwd=cwd, capture_output=True, text=True, timeout=300, check=False, env=env
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    out = tmp_path_factory.mktemp("wheel")
    done = run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "--quiet",
        "-w",
        str(out),
        str(ROOT),
    )
    assert done.returncode == 0, done.stderr
    [built] = out.glob("imagegen-*.whl")
    return built


def test_the_wheel_ships_both_packages_the_contract_and_type_markers(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        "imagegen/__init__.py",
        "imagegen/py.typed",
        "imagegen/contract/models.py",
        "imagegen/params.py",
        "imagegen_api/models.schema.json",
        "imagegen/cli/main.py",
        "imagegen_api/__init__.py",
        "imagegen_api/py.typed",
        "imagegen_api/openapi.json",
        "imagegen_api/api/images/create_image_edit.py",
        "imagegen_api/models/images_response.py",
    }
    assert expected <= names
    assert not [name for name in names if "__pycache__" in name or name.startswith(("tests/", "overlay/"))]


def test_the_wheel_declares_the_console_script_and_light_dependencies(wheel: Path) -> None:
    archive = zipfile.ZipFile(wheel)
    [entry_points] = [n for n in archive.namelist() if n.endswith("entry_points.txt")]
    assert "imagegen = imagegen.cli:main" in archive.read(entry_points).decode()
    [metadata] = [n for n in archive.namelist() if n.endswith("METADATA")]
    requires = [
        line for line in archive.read(metadata).decode().splitlines() if line.startswith("Requires-Dist:")
    ]
    plain = sorted(line.split()[1].split(">")[0].split("<")[0] for line in requires if "extra ==" not in line)
    assert plain == ["attrs", "httpx", "python-dateutil"]


def test_the_installed_wheel_works_outside_the_source_tree(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "env"
    venv.EnvBuilder(with_pip=False).create(target)
    python = target / "bin" / "python"
    site = Path(
        run(str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip()
    )
    # Reuse the dependencies already installed for the tests (no network), after the wheel itself.
    (site / "zz_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    install = run(
        sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--quiet", str(wheel)
    )
    assert install.returncode == 0, install.stderr

    probe = (
        "import imagegen, imagegen_api, json; "
        "print(imagegen.__file__); print(imagegen_api.__file__); "
        "print(imagegen.contract_version(), len(imagegen.default_catalog()))"
    )
    done = run(str(python), "-c", probe, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    overlay_file, generated_file, summary = done.stdout.splitlines()
    assert overlay_file.startswith(str(site))
    assert generated_file.startswith(str(site))
    from imagegen import contract_version, default_catalog

    assert summary == f"{contract_version()} {len(default_catalog())}"  # the same contract, installed

    command = run(str(target / "bin" / "imagegen"), "models", "dall-e-3", cwd=tmp_path)
    assert command.returncode == 0, command.stderr
    assert "1024x1024, 1792x1024, 1024x1792" in command.stdout


def test_a_bare_import_pulls_no_heavy_dependency() -> None:
    probe = (
        "import imagegen, imagegen_api.api.images.create_image, json, sys; "
        "print(json.dumps(sorted(sys.modules)))"
    )
    done = run(sys.executable, "-c", probe, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    assert done.returncode == 0, done.stderr
    loaded = {name.split(".")[0] for name in json.loads(done.stdout)}
    assert {"httpx", "attrs", "imagegen_api"} <= loaded
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))


def test_reading_the_contract_and_asking_for_help_import_no_http_client() -> None:
    probe = (
        "import json, sys, contextlib, io\n"
        "from imagegen.contract import default_contract\n"
        "operations = len(default_contract().operations)\n"
        "from imagegen.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    main(['generate', '--help'])\n"
        "print(json.dumps([operations, sorted(sys.modules)]))"
    )
    done = run(sys.executable, "-c", probe)
    assert done.returncode == 0, done.stderr
    operations, modules = json.loads(done.stdout)
    assert operations > 0
    loaded = {name.split(".")[0] for name in modules} & {"httpx", "imagegen_api"}
    assert not loaded, sorted(loaded)


def test_the_contract_is_read_from_a_zipped_generated_package(tmp_path: Path) -> None:
    """A zipped install has no folder to read the contract from: importlib.resources reads it."""
    archive = tmp_path / "imagegen_api.zip"
    package = ROOT / "generated" / "imagegen_api"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in package.rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                zipped.write(path, path.relative_to(package.parent).as_posix())
    probe = (
        "import json, imagegen_api\n"
        "from imagegen.contract import default_contract\n"
        "print(json.dumps([imagegen_api.__file__, default_contract().version]))"
    )
    done = run(sys.executable, "-c", probe, env={**os.environ, "PYTHONPATH": str(archive)})
    assert done.returncode == 0, done.stderr
    where, version = json.loads(done.stdout)
    assert where.startswith(str(archive)), "the probe must import the zipped package"
    assert version == json.loads((package / "openapi.json").read_text(encoding="utf-8"))["info"]["version"]


def test_the_version_constant_is_the_distributions() -> None:
    import tomllib

    from imagegen import __version__

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert __version__ == project["version"]
