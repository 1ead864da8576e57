"""Running the `imagegen` command in this process, as the installed script would run it.

A run as a subprocess costs about 0.3 s, mostly imports; the command's `main` called here costs
what the command itself does. Tests that change the process's logging (-v), send signals or
check the installed script itself keep using subprocesses.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from unittest.mock import patch

from imagegen.cli import main

IMAGEGEN = str(Path(sys.executable).parent / "imagegen")


def run_main(
    args: Sequence[str], stdin: str = "", env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`main(args)` with `env` as the whole environment (default: this one), `stdin` as
    standard input and both outputs captured; argparse's exits become the status, as they
    would be the script's."""
    out, err, saved = io.StringIO(), io.StringIO(), dict(os.environ)
    if env is not None:
        os.environ.clear()
        os.environ.update(env)
    try:
        with redirect_stdout(out), redirect_stderr(err), patch.object(sys, "stdin", io.StringIO(stdin)):
            try:
                status = main(list(args))
            except SystemExit as exit:
                status = exit.code if isinstance(exit.code, int) else 0 if exit.code is None else 1
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return subprocess.CompletedProcess([IMAGEGEN, *args], status, out.getvalue(), err.getvalue())
