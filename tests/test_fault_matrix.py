"""The fault matrix: every fault the reference server can inject, against the client and the CLI.

Each fault ends in a recovery or in the typed error it should, never a hang, a traceback, a
partial file or the key in any output (searched for in everything captured, logs at DEBUG
included). Waits between retries are recorded, not slept.
"""

from __future__ import annotations

import json
import logging
import subprocess
import uuid
from pathlib import Path

import pytest

from imagegen import (
    APIConnectionError,
    APITimeoutError,
    ImagesClient,
    ImagesError,
    InternalServerError,
    InvalidResponseError,
    RateLimitError,
    StreamError,
)
from imagegen import client as client_module

from .conftest import REFERENCE_TOKEN
from .support.cli import IMAGEGEN

SMALL = {"model": "dall-e-2", "size": "256x256", "response_format": "b64_json"}
STREAMING = {"model": "gpt-image-1.5", "size": "1024x1024", "quality": "low", "partial_images": 1}
# fault -> what a call with two retries ends in (None: the images)
MATRIX: list[tuple[str, type[ImagesError] | None]] = [
    ("status=429; times=1", None),
    ("status=429; times=9", RateLimitError),
    ("status=503; times=1; retry-after=1", None),
    ("status=503; times=2; retry-after-ms=10", None),
    ("status=500; times=9", InternalServerError),
    ("status=520; times=9", InternalServerError),
    ("status=599; times=9", InternalServerError),
    ("latency=1; times=9", APITimeoutError),
    ("drop; times=1", None),
    ("drop; times=9", APIConnectionError),
    ("malformed; times=9", InvalidResponseError),
]


@pytest.fixture(autouse=True)
def no_sleeping(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client_module, "_wait", lambda seconds: None)


def header(spec: str) -> dict[str, str]:
    return {"X-Imagegen-Fault": f"{spec}; id={uuid.uuid4().hex}"}


@pytest.mark.parametrize(("spec", "ending"), MATRIX, ids=[spec for spec, _ in MATRIX])
def test_the_client_ends_each_fault_as_it_should(
    reference_url: str, spec: str, ending: type[ImagesError] | None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="imagegen")
    timeout = 0.3 if spec.startswith("latency") else 30.0  # below the injected latency, or generous
    with ImagesClient(
        base_url=reference_url, api_key=REFERENCE_TOKEN, max_retries=2, timeout=timeout
    ) as client:
        if ending is None:
            result = client.generate("Otter", **SMALL, extra_headers=header(spec))
            assert len(result.images) == 1
            shown = repr(result)
        else:
            with pytest.raises(ending) as raised:
                client.generate("Otter", **SMALL, extra_headers=header(spec))
            shown = f"{raised.value} {raised.value!r}"
    assert REFERENCE_TOKEN not in shown + caplog.text


@pytest.mark.parametrize("spec", ["truncate=1", "truncate=0; times=9"])
def test_a_stream_cut_short_is_a_stream_error_never_a_finished_image(reference_url: str, spec: str) -> None:
    with ImagesClient(base_url=reference_url, api_key=REFERENCE_TOKEN, max_retries=2) as client:
        stream = client.generate("Otter", **STREAMING, stream=True, extra_headers=header(spec))
        with pytest.raises(StreamError, match="cut in the middle of an event"):
            stream.until_done()
        assert stream.images == []


# One fault of each kind through the command line (the client's matrix covers the rest).
CLI_FAULTS = (
    "status=429; times=1",
    "status=500; times=9",
    "latency=1; times=9",
    "drop; times=9",
    "malformed; times=9",
)
CLI_MATRIX = [(spec, 0 if ending is None else 1) for spec, ending in MATRIX if spec in CLI_FAULTS]


@pytest.mark.parametrize(("spec", "status"), CLI_MATRIX, ids=[spec for spec, _ in CLI_MATRIX])
def test_the_command_line_ends_each_fault_with_its_exit_status(
    reference_url: str, tmp_path: Path, spec: str, status: int
) -> None:
    done = subprocess.run(
        [
            IMAGEGEN,
            "generate",
            "Otter",
            "--url",
            reference_url,
            "--token",
            REFERENCE_TOKEN,
            "--model",
            "dall-e-2",
            "--size",
            "256x256",
            "--response-format",
            "b64_json",
            "--timeout",
            "0.3" if spec.startswith("latency") else "30",  # well below the injected latency of 1 s
            "-o",
            str(tmp_path),
            "-v",
            "--headers",
            json.dumps(header(spec)),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == status, done.stderr
    assert "Traceback" not in done.stderr
    assert REFERENCE_TOKEN not in done.stdout + done.stderr
    saved = sorted(path.name for path in tmp_path.iterdir())
    assert saved == (["otter-1.png"] if status == 0 else [])  # whole files only, never a .part
