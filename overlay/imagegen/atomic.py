"""Writing a file all at once or not at all, and never over an existing file unless asked.

The bytes go to a temporary file beside the target (created with the usual mode, 0666 less the
umask, without touching the process's umask), are flushed to disk, then take the target's name:
`os.replace` when replacing is asked, a hard link otherwise (which fails if the name exists,
even one created a moment before). No partial file is ever left: the temporary file goes on
any failure, Ctrl-C included.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def write_atomically(data: bytes, target: Path, *, overwrite: bool = False, durable: bool = True) -> Path:
    """Write `data` to `target`; FileExistsError if it exists and `overwrite` is False.

    `durable=False` skips forcing the bytes to disk before the rename (fsync): the file is still
    never seen partial by anyone, but a power cut soon after may lose it. For many small files
    whose record is no more durable than that (a batch's state), it saves a disk flush each."""
    directory = target.parent
    if not directory.is_dir():
        raise FileNotFoundError(f"cannot save {target}: the folder {directory} does not exist")
    if not overwrite and target.exists():
        raise FileExistsError(f"{target} already exists; choose another name or pass overwrite=True")
    temporary = directory / f".{target.name}.{secrets.token_hex(6)}.part"
    # 0o666 here, then the umask applies, as for any new file (mkstemp would make it 0600).
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        if overwrite:
            os.replace(temporary, target)
        else:
            _link_without_replacing(temporary, target)
    finally:
        if temporary.exists():
            temporary.unlink()
    return target


def _link_without_replacing(source: Path, target: Path) -> None:
    try:
        os.link(source, target)  # fails if target exists, even if it appeared a moment ago
    except FileExistsError:
        raise FileExistsError(
            f"{target} already exists; choose another name or pass overwrite=True"
        ) from None
    except OSError:
        # Filesystems without hard links: exclusive creation still never replaces a file.
        with open(target, "xb") as handle, open(source, "rb") as written:
            handle.write(written.read())
