"""The lock beside a file keylink rewrites (accounts.json, history.json): one writer at a time
across processes, and one line for each way taking it can fail."""

from __future__ import annotations

import contextlib
import errno
from collections.abc import Iterator
from pathlib import Path

from tui.services.core.private_files import ensure_private_dir
from tui.services.store.model import AccountError

LOCK_TIMEOUT = 15.0


@contextlib.contextmanager
def file_lock(directory: Path, path: Path, busy: str, hint: str = "",
              timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Hold ``path``.lock (0600) in ``directory`` (made private if missing).

    AccountError in one line when the folder cannot be made or used (``hint`` is appended) or
    when another keylink has been ``busy`` (e.g. "saving accounts") for ``timeout`` seconds.
    On a read-only filesystem nobody can change the file, so the body runs without the lock
    (reading needs none, and a write fails on its own with a one-line message).
    """
    from filelock import FileLock, Timeout

    try:
        ensure_private_dir(directory)
    except OSError as exc:
        raise AccountError(f"cannot create {directory}: {exc.strerror or exc}") from None
    lock = FileLock(str(path) + ".lock", mode=0o600, timeout=timeout)
    try:
        lock.acquire()
    except Timeout:
        raise AccountError(f"another keylink has been {busy} for {timeout:g} s; try again "
                           f"(lock file {lock.lock_file})") from None
    except OSError as exc:
        if exc.errno != errno.EROFS:
            raise AccountError(f"cannot use {directory}: {exc.strerror or exc}{hint}") from None
        yield
        return
    try:
        yield
    finally:
        lock.release()
