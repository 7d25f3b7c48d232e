"""Which copy is the newest: the record a clear checks before it overwrites the clipboard.

Each clear comes later than its copy (the app's timer, or `keylink copy`'s detached helper), and
in between the user may copy something else: the key after the secret. A clear that copied its
harmless text over that would wipe the newer copy. OSC 52 cannot be read back, so keylink writes
down which copy is the newest: every copy (the CLI's and the app's, secrets or not) writes a
fresh random id to a small file, and a clear goes ahead only while the file still names its own
copy. The file holds the id and a time, never the value or a hash of it; it is 0600 in the
user's cache dir.

One file per clipboard: copies that land on the same clipboard must see each other, copies
that land on different ones must not (a clear skipped because another machine's clipboard got a
later copy would leave a secret behind). keylink can only guess which clipboard that is: inside
tmux, that tmux server (it holds the buffers and passes OSC 52 to its client); over ssh, the
computer the session comes from (its address); otherwise this machine.

The race: a copy writes its id and sends the value while holding an exclusive lock on the file,
and a clear reads the id and sends its text while holding it too, so one finishes before the
other starts: a clear never reads "mine" and then writes over a copy made in between. What the
lock cannot order is the terminal itself: two copies written to two different terminals (two
ssh sessions from one computer) reach the clipboard in whatever order those connections deliver
them, milliseconds apart. A lock that is not free within 2 s is given up on (a process stopped
while holding it must not stop every copy); the copy or clear then goes ahead unordered.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from pathlib import Path

_LOCK_WAIT = 2.0


def clipboard_scope(environ: Mapping[str, str]) -> str:
    """Which clipboard a copy from here lands on, as keylink can tell (see the module text)."""
    tmux = environ.get("TMUX", "")
    if tmux:
        return "tmux " + tmux.split(",")[0]
    connection = environ.get("SSH_CONNECTION") or environ.get("SSH_CLIENT") or ""
    if connection.split():
        return "ssh " + connection.split()[0]
    return "local"


def newest_record_path(environ: Mapping[str, str] | None = None) -> Path:
    """The file that names the newest copy for this clipboard."""
    import hashlib

    from platformdirs import user_cache_path

    env = os.environ if environ is None else environ
    scope = hashlib.sha256(clipboard_scope(env).encode()).hexdigest()[:16]
    return user_cache_path("keylink", appauthor=False) / f"newest-copy-{scope}.json"


@contextlib.contextmanager
def newest_record(environ: Mapping[str, str] | None) -> Iterator[int | None]:
    """The newest-copy file, open and exclusively locked; None when it cannot be had (a copy
    still goes out, a clear still clears)."""
    import stat
    import time

    from tui.services.core.private_files import ensure_private_dir

    fd: int | None = None
    try:
        path = newest_record_path(environ)
        ensure_private_dir(path.parent)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0)
                     | getattr(os, "O_NONBLOCK", 0), 0o600)
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or (hasattr(os, "geteuid")
                                               and info.st_uid != os.geteuid()):
            os.close(fd)
            fd = None
    except (OSError, ValueError):
        if fd is not None:
            os.close(fd)
        fd = None
    try:
        if fd is not None:
            with contextlib.suppress(ImportError):
                import fcntl

                deadline = time.monotonic() + _LOCK_WAIT
                while True:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except BlockingIOError:
                        if time.monotonic() > deadline:
                            break
                        time.sleep(0.02)
                    except OSError:
                        break
        yield fd
    finally:
        if fd is not None:
            os.close(fd)  # drops the lock


def read_newest(fd: int) -> str | None:
    import json

    try:
        data = json.loads(os.pread(fd, 4096, 0) or b"null")
    except (OSError, ValueError):
        return None
    value = data.get("id") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


def write_newest(fd: int, copy_id: str) -> bool:
    import json
    import time

    data = json.dumps({"id": copy_id, "at": round(time.time(), 3)}).encode()
    try:
        os.ftruncate(fd, 0)
        return os.pwrite(fd, data, 0) == len(data)
    except OSError:
        return False
