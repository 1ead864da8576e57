"""Start a command the way a terminal would, so that Ctrl-C (SIGINT) reaches it.

A shell without job control starts background commands with SIGINT ignored, and Python keeps an
ignored SIGINT ignored: run under such a shell (`scripts/test &`, some CI runners), a test that
sends SIGINT would see the command carry on. The child gets the default disposition back first.
"""

from __future__ import annotations

import signal


def interruptible() -> None:
    """For `subprocess.Popen(preexec_fn=...)`: SIGINT back to its default before the exec."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
