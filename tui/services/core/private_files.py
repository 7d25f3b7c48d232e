"""Files that hold private data: 0700 dirs, 0600 files, written by atomic replace."""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import stat
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from tui.services.core.text import clean


def ensure_private_dir(directory: Path) -> None:
    """Create ``directory`` (and parents) and make it 0700 (only a real dir of this user's).

    A symlinked keylink dir is used but never chmod'ed: chmod follows the link, and its target
    (a shared or system dir) is not keylink's to change. ``keylink doctor`` warns about it.
    """
    directory.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError, NotImplementedError):
        info = os.lstat(directory)
        if stat.S_ISDIR(info.st_mode) and _owned(info) and stat.S_IMODE(info.st_mode) != 0o700:
            os.chmod(directory, 0o700, follow_symlinks=False)


def _owned(info: os.stat_result) -> bool:
    return not hasattr(os, "geteuid") or info.st_uid == os.geteuid()


def safety_problems(path: Path, *, private: bool = True) -> list[str]:
    """Why ``path`` (a keylink dir or file) is not safe to keep secrets or metadata in.

    Checks, without following a symlink: a link itself, another owner, group/other write (anyone
    could swap files), and for ``private`` paths group/other read. Missing paths have none.
    """
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return []
    except OSError as exc:
        return [f"{path} cannot be checked: {exc.strerror or exc}"]
    problems: list[str] = []
    if stat.S_ISLNK(info.st_mode):
        try:
            target = os.readlink(path)
        except OSError:
            target = "?"
        problems.append(
            f"{path} is a symbolic link (to {target}): keylink does not change modes through it"
        )
        return problems
    mode = stat.S_IMODE(info.st_mode)
    if not _owned(info):
        problems.append(f"{path} belongs to another user (uid {info.st_uid})")
    if mode & 0o022 and not (stat.S_ISDIR(info.st_mode) and mode & stat.S_ISVTX):
        problems.append(f"{path} can be changed by other users (mode {mode:04o})")
    elif private and mode & 0o077:
        problems.append(f"{path} can be read by other users (mode {mode:04o})")
    return problems


def _temp_prefix(path: Path) -> str:
    return f".{path.name}."


def leftover_temp_files(path: Path) -> list[Path]:
    """Temp files of ``atomic_write(path)`` that a killed process left behind."""
    try:
        return sorted(
            p for p in path.parent.glob(f"{_temp_prefix(path)}*.tmp") if not p.is_symlink()
        )
    except OSError:
        return []


def remove_files(files: list[Path]) -> int:
    """Delete ``files`` (already gone counts as done); how many were deleted."""
    removed = 0
    for file in files:
        with contextlib.suppress(FileNotFoundError):
            file.unlink()
            removed += 1
    return removed


def atomic_write(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Replace ``path`` with ``data`` so readers see the old file or the new one, never a mix.

    The data goes to a temp file in the same dir (same filesystem, so the rename is atomic), is
    given ``mode`` (0600 unless asked) and fsynced, then renamed over the target; the dir is
    fsynced so the rename survives a crash.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=_temp_prefix(path), suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)  # before the rename: never a moment with another mode
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


@contextlib.contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Hold Ctrl-C (SIGINT) and SIGTERM until the block ends, then deliver them.

    Around a commit point: an interrupt that lands between the rename and the code that knows the
    rename happened would otherwise roll back a committed change. Python delivers signals only to
    the main thread, so elsewhere (the app's workers) nothing can interrupt the block and this is a
    no-op.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []

    def hold(signum: int, _frame: object) -> None:
        held.append(signum)

    wanted = [signal.SIGINT, signal.SIGTERM]
    previous = {}
    try:
        for signum in wanted:
            previous[signum] = signal.signal(signum, hold)
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for signum in dict.fromkeys(held):
            signal.raise_signal(signum)  # now handled as usual (KeyboardInterrupt for SIGINT)


class RefusedFile(Exception):
    """A file keylink will not read: not a regular file, a symlink, or too large. One line."""


def read_regular(path: Path, limit: int) -> bytes:
    """The bytes of ``path`` if it is a regular file (not a link) of at most ``limit`` bytes.

    FileNotFoundError if it is missing; RefusedFile for a symlink, FIFO, device or dir (opening a
    FIFO without O_NONBLOCK waits forever for a writer; a device may never end) and for a huge
    file (reading a 4 GiB vault took 8 GB of memory); OSError for the rest (EACCES...).
    """
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise RefusedFile(
                f"{clean(path)} is a symbolic link; keylink only reads a regular file there"
            ) from None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise RefusedFile(f"{clean(path)} is not a regular file; keylink left it alone")
        if info.st_size > limit:
            raise RefusedFile(
                f"{clean(path)} is {info.st_size:,} bytes, more than keylink's limit of {limit:,}; "
                "it is not keylink's file, or it is damaged"
            )
        chunks: list[bytes] = []
        size = 0
        while chunk := os.read(fd, 1 << 16):
            size += len(chunk)
            if size > limit:  # it grew while we read
                raise RefusedFile(f"{clean(path)} grew past keylink's limit of {limit:,} bytes")
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def free_name_beside(path: Path, mark: str) -> Path:
    """A name beside ``path`` that nothing holds yet: ``<name><mark><UTC stamp>`` (``-2``, ``-3``…
    when taken), for a file moved aside or kept: never one that would replace another."""
    from datetime import UTC, datetime

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}{mark}{stamp}")
    counter = 1
    while target.exists() or target.is_symlink():
        counter += 1
        target = path.with_name(f"{path.name}{mark}{stamp}-{counter}")
    return target
