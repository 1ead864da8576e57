"""Writing a command's result to standard output, for readers that may stop early (`| head`)."""

from __future__ import annotations

import os
import sys


def write_stdout(text: str) -> None:
    """Write `text` to standard output; a closed pipe (the reader stopped) is not an error."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        # Python would complain again when it flushes stdout at exit: point it at /dev/null.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
