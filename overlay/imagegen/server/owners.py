"""Who holds a piece of shared work (an idempotency claim, a batch's lease), and whether they can
still be working on it.

An owner's name is `HOST:PID:PROCESS:TOKEN`. Another process of this machine is alive while its
pid is; this process tells itself from an earlier one that had the same pid by PROCESS (made at
import); another machine's owner is taken as alive, since only its lease can tell.
"""

from __future__ import annotations

import os
import secrets
import socket

_HOST = socket.gethostname()
_PROCESS = secrets.token_hex(8)


def owner_name() -> str:
    """A new owner name of this process (unique per call)."""
    return f"{_HOST}:{os.getpid()}:{_PROCESS}:{secrets.token_hex(4)}"


def owner_alive(owner: str) -> bool:
    """Whether the process named `owner` may still be working (False for an empty name)."""
    if not owner:
        return False
    host, _, rest = owner.partition(":")
    pid_text, _, process = rest.partition(":")
    if host != _HOST or not pid_text.isdigit():
        return True  # another machine: only its lease tells
    pid = int(pid_text)
    if pid == os.getpid():
        return process.startswith(_PROCESS)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
