"""Each extra installs and works alone: the built wheel, one extra, a fresh virtual environment.

uv (pinned in the dev extra) installs them in seconds; the environments install in parallel.
The client and the conformance runner are pointed at the session's reference server (running
in the test process); the server extra starts its own `imagegen serve`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from .conftest import REFERENCE_TOKEN

pytestmark = pytest.mark.heavy

ROOT = Path(__file__).resolve().parents[1]
UV = Path(sys.executable).parent / "uv"
EXTRAS = ("client", "server", "conformance")


def run(*args: str, timeout: float = 300, **options: object) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("VIRTUAL_ENV", "PYTHON"))}
    return subprocess.run(
        list(args),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=env,
        **options,  # type: ignore[call-overload]
    )


@pytest.fixture(scope="module")
def environments(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """extra -> the bin/ folder of a fresh environment with the wheel and that extra only."""
    folder = tmp_path_factory.mktemp("extras")
    built = run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "-q",
        "-w",
        str(folder),
        str(ROOT),
    )
    assert built.returncode == 0, built.stderr
    [wheel] = folder.glob("imagegen-*.whl")

    def install(extra: str) -> Path:
        target = folder / extra
        made = run(str(UV), "venv", "--quiet", "--python", sys.executable, str(target))
        assert made.returncode == 0, made.stderr
        requirement = str(wheel) if extra == "client" else f"{wheel}[{extra}]"
        constraints = str(ROOT / "scripts" / "constraints.txt")
        python = str(target / "bin" / "python")
        done = run(str(UV), "pip", "install", "--quiet", "--python", python, "-c", constraints, requirement)
        assert done.returncode == 0, done.stderr
        return target / "bin"

    with ThreadPoolExecutor(len(EXTRAS)) as pool:
        yield dict(zip(EXTRAS, pool.map(install, EXTRAS), strict=True))


def installed(bin_dir: Path) -> set[str]:
    """The distributions installed in an environment, by lower-case name."""
    probe = "import importlib.metadata as m, json; print(json.dumps([d.name for d in m.distributions()]))"
    listed = run(str(bin_dir / "python"), "-c", probe)
    assert listed.returncode == 0, listed.stderr
    return {name.lower() for name in json.loads(listed.stdout)}


def test_the_client_alone_generates_and_saves(
    environments: dict[str, Path], reference_url: str, tmp_path: Path
) -> None:
    bin_dir = environments["client"]
    assert not installed(bin_dir) & {"starlette", "uvicorn", "schemathesis", "pillow", "jsonschema"}
    code = (
        "from imagegen import ImagesClient\n"
        f"with ImagesClient(base_url={reference_url!r}, api_key={REFERENCE_TOKEN!r}) as client:\n"
        "    result = client.generate(\n"
        "        'Yellow alpaca', model='dall-e-2', size='256x256', response_format='b64_json'\n"
        "    )\n"
        "    print(result.images[0].save('alpaca'))\n"
        "try:\n"
        "    import imagegen.server\n"
        "except ImportError as error:\n"
        "    print(error)\n"
    )
    done = run(str(bin_dir / "python"), "-c", code, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    saved, refusal = done.stdout.splitlines()
    assert saved == "alpaca.png"
    assert (tmp_path / "alpaca.png").read_bytes().startswith(b"\x89PNG")
    assert refusal.startswith("imagegen.server needs the 'server' extra")
    assert "pip install 'imagegen[server]'" in refusal
    models = run(str(bin_dir / "imagegen"), "models", "dall-e-3")
    assert models.returncode == 0, models.stderr
    assert "1024x1024, 1792x1024, 1024x1792" in models.stdout
    # A batch runs without the batch extra too: plain progress lines instead of a bar.
    (tmp_path / "prompts.txt").write_text("a red kite\na blue kite\n")
    batch = run(str(bin_dir / "imagegen"), "batch", "prompts.txt", "-o", "kites", "--url", reference_url,
                "--model", "dall-e-2", "--size", "256x256", "--response-format", "b64_json",
                "--token", REFERENCE_TOKEN, cwd=tmp_path)  # fmt: skip
    assert batch.returncode == 0, batch.stderr
    assert "batch: 2 done, 0 failed of 2" in batch.stderr
    assert sorted(path.name for path in (tmp_path / "kites").glob("*.png")) == [
        "line-1-1.png",
        "line-2-1.png",
    ]


def test_the_server_extra_alone_serves(environments: dict[str, Path]) -> None:
    bin_dir = environments["server"]
    assert not installed(bin_dir) & {"schemathesis", "hypothesis"}
    process = subprocess.Popen(
        [str(bin_dir / "imagegen"), "serve", "--no-auth", "--port", "0", "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:"), process.stderr.read() if process.stderr else ""
        answer = httpx.post(
            f"{base_url}/images/generations", json={"prompt": "p", "size": "256x256"}, timeout=30
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["data"][0]["url"].startswith(base_url)
    finally:
        process.terminate()
        process.wait(15)


def test_the_conformance_extra_alone_tests_a_server(
    environments: dict[str, Path], reference_url: str
) -> None:
    bin_dir = environments["conformance"]
    assert not installed(bin_dir) & {"starlette", "uvicorn"}
    done = run(
        str(bin_dir / "imagegen"),
        "conformance",
        "--url",
        reference_url,
        "--token",
        REFERENCE_TOKEN,
        "--model",
        "dall-e-3",
        "--max-examples",
        "2",
        "--operations",
        "generations",
        "--phases",
        "examples",
        "--quiet",
        timeout=240,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("CONFORMS")
