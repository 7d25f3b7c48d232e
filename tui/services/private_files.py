"""Files that hold private data: 0700 dirs, 0600 files, written by atomic replace."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def ensure_private_dir(directory: Path) -> None:
    """Create ``directory`` (and parents) and make it 0700."""
    directory.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        os.chmod(directory, 0o700)


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so readers see the old file or the new one, never a mix.

    The data goes to a 0600 temp file in the same dir (same filesystem, so the rename is atomic),
    is fsynced, then renamed over the target; the dir is fsynced so the rename survives a crash.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    # Not every platform lets us open a directory; the data itself is already safe.
    with contextlib.suppress(OSError):
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
