"""The access log (issue 19): one JSON line per use of a stored secret, chained by hashes.

Security-minded stores keep a record of every read; so does keylink. Each copy, print, exec,
export-key, verify, rotate, import and remove appends a line to ``access.log`` in keylink's state
dir (0600): the time, the account, the fields, the action, the outcome and where it came from
(the terminal, the ssh client's address, the parent command's name). Never a value.

Each line carries the SHA-256 of the line before it (``prev``), and ``access.log.head`` keeps the
hash and count of the last lines, so :func:`check_chain` finds a line that was edited, removed or
moved, and lines cut off the end. At ``MAX_BYTES`` the file is renamed ``access.log.1`` (older
ones move up, ``KEEP`` are kept) and the new file starts with a line that carries the hash of
the old file's last line, so the chain runs on across files. This shows tampering by hand or by a
tool that does not know the format; someone with your user's rights can rewrite a whole chain.

The log never stands in the way: a damaged or unreadable log is said once and a new chain starts
(the check reports the break); a full or read-only disk gives one line, and the hand-off goes on.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import ipaddress
import json
import os
import stat
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tui.services.core.private_files import RefusedFile, free_name_beside, read_regular
from tui.services.core.text import clean
from tui.services.core.times import utc_stamp

FILE_NAME = "access.log"
HEAD_NAME = "access.log.head"
LOCK_NAME = "access.log.lock"
#: The size at which the log is rotated, and how many old files are kept.
MAX_BYTES = 1024 * 1024
KEEP = 3
#: The ``prev`` of a chain's first line.
GENESIS = "0" * 64
#: How far from the end a last line is looked for (ours are far shorter).
_TAIL = 64 * 1024
ACTIONS = ("copy", "print", "exec", "export-key", "verify", "rotate", "import", "remove")

#: Problems already said in this process (each is said once).
_said: set[str] = set()
#: Problems met by ``record`` calls whose caller cannot say them (the session's checks): the
#: CLI says them before it exits.
_pending: list[str] = []


def log_dir() -> Path:
    from tui.services.core.paths import state_dir

    return state_dir()


def line_hash(line: bytes) -> str:
    return hashlib.sha256(line).hexdigest()


def where_from(environ: Mapping[str, str] | None = None) -> dict[str, str | None]:
    """The terminal, the ssh client's address (SSH_CONNECTION, else SSH_CLIENT) and the name of
    the parent command, as far as they can be told."""
    env = os.environ if environ is None else environ
    tty = None
    for fd in (0, 1, 2):
        with contextlib.suppress(OSError):
            if os.isatty(fd):
                tty = os.ttyname(fd)
                break
    ssh = None
    for name in ("SSH_CONNECTION", "SSH_CLIENT"):
        first = (env.get(name) or "").split(" ")[0]
        if first:
            try:
                ssh = str(ipaddress.ip_address(first))
            except ValueError:
                ssh = "unreadable"
            break
    parent = None
    with contextlib.suppress(OSError):
        parent = Path(f"/proc/{os.getppid()}/comm").read_text(errors="replace").strip()[:64]
    return {"tty": tty, "ssh": ssh, "parent": parent}


@dataclass
class _Tail:
    """What the end of the current file says: the last line's hash and the line count."""

    last: str | None
    lines: int
    damaged: str = ""


def _read_tail(path: Path) -> _Tail:
    """The last whole line of ``path``; FileNotFoundError when there is none, another OSError
    when it cannot be read or is not a plain file (a link, a FIFO: never followed or waited on)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "not a plain file")
        size = info.st_size
        handle.seek(max(0, size - _TAIL))
        tail = handle.read()
        handle.seek(0)
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 16), b""))
    if not tail:
        return _Tail(None, 0)
    if not tail.endswith(b"\n"):
        return _Tail(None, lines, "its last line is cut off")
    last = tail[:-1].rsplit(b"\n", 1)[-1]
    try:
        record = json.loads(last)
        if not isinstance(record, dict) or not isinstance(record.get("prev"), str):
            raise ValueError
    except (ValueError, UnicodeDecodeError, RecursionError):
        return _Tail(None, lines, "its last line is not a log line")
    return _Tail(line_hash(last), lines)


def _encode(record: dict[str, Any]) -> bytes:
    # ensure_ascii: a hostile name's escape sequences and line breaks become \\u escapes.
    return json.dumps(record, ensure_ascii=True, separators=(",", ":")).encode("ascii")


class AccessLog:
    """The log in ``directory`` (default: keylink's state dir)."""

    def __init__(self, directory: Path | None = None, *, max_bytes: int = MAX_BYTES,
                 keep: int = KEEP) -> None:
        self.directory = directory or log_dir()
        self.max_bytes = max_bytes
        self.keep = keep

    @property
    def path(self) -> Path:
        return self.directory / FILE_NAME

    def files(self) -> list[Path]:
        """The log's files, oldest first."""
        old = [self.directory / f"{FILE_NAME}.{n}" for n in range(self.keep, 0, -1)]
        return [p for p in old if p.exists()] + ([self.path] if self.path.exists() else [])

    # -- writing --------------------------------------------------------------------------------

    def record(self, action: str, account: Any = None, fields: Iterable[str] = (),
               outcome: str = "ok", *, environ: Mapping[str, str] | None = None) -> str | None:
        """Append one use; the problem to tell the user (once per process), else None. Never
        raises: the log must not stand in the way of the hand-off it records."""
        entry: dict[str, Any] = {
            "kind": "use", "time": utc_stamp(), "action": action,
            "account": getattr(account, "name", None) if account is not None else None,
            "account_id": getattr(account, "id", None) if account is not None else None,
            "fields": list(fields), "outcome": outcome, **where_from(environ),
        }
        try:
            return self._append(entry)
        except OSError as exc:
            return _once(f"the access log could not be written ({exc.strerror or exc}): this "
                         f"{clean(action)} is not recorded")
        except Exception as exc:  # the log is advice; the hand-off goes on
            return _once(f"the access log could not be written ({type(exc).__name__}): this "
                         f"{clean(action)} is not recorded")

    def _append(self, entry: dict[str, Any]) -> str | None:
        import fcntl

        from tui.services.core.private_files import ensure_private_dir

        ensure_private_dir(self.directory)
        lock = os.open(self.directory / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            return self._append_locked(entry)
        finally:
            os.close(lock)  # releases the lock

    def _append_locked(self, entry: dict[str, Any]) -> str | None:
        problem = None
        starts: list[dict[str, Any]] = []
        try:
            tail = _read_tail(self.path)
        except FileNotFoundError:
            tail = _Tail(None, 0)
            if (self.directory / HEAD_NAME).exists():
                starts.append(self._start("the log was missing", GENESIS))
            else:
                starts.append(self._start("new", GENESIS))
        except OSError as exc:
            # Unreadable (another owner, a directory in its place): moved aside, a new chain.
            aside = free_name_beside(self.path, ".unreadable-")  # never over an earlier one
            os.replace(self.path, aside)
            problem = (f"the access log could not be read ({exc.strerror}); it was moved to "
                       f"{aside.name} and a new chain starts")
            tail = _Tail(None, 0)
            starts.append(self._start(f"the log could not be read ({exc.strerror})", GENESIS))
        if tail.damaged:
            problem = f"the access log is damaged ({tail.damaged}); a new chain starts"
            starts.append(self._start(f"the log was damaged: {tail.damaged}", GENESIS))
        elif tail.last is not None and self.path.stat().st_size >= self.max_bytes:
            self._rotate()
            starts.append(self._start("rotated", tail.last))  # the chain runs on
            tail = _Tail(None, 0)
        prev = tail.last or GENESIS
        lines: list[bytes] = []
        for record in [*starts, entry]:
            if record is not entry and record["prev"] != GENESIS:
                prev = record["prev"]
            record["prev"] = prev
            line = _encode(record)
            lines.append(line)
            prev = line_hash(line)
        data = b"\n".join(lines) + b"\n"
        if tail.damaged == "its last line is cut off":
            data = b"\n" + data  # ends the cut-off line, so ours start on their own
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT
                     | getattr(os, "O_NOFOLLOW", 0), 0o600)
        try:
            with contextlib.suppress(OSError):
                os.fchmod(fd, 0o600)  # a log someone opened up is made private again
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        count = tail.lines + len(lines) + (1 if tail.damaged == "its last line is cut off" else 0)
        self._write_head(prev, count)
        return _once(problem) if problem else None

    def _start(self, reason: str, prev: str) -> dict[str, Any]:
        return {"kind": "start", "time": utc_stamp(), "reason": reason, "prev": prev}

    def _rotate(self) -> None:
        for n in range(self.keep - 1, 0, -1):
            older = self.directory / f"{FILE_NAME}.{n}"
            if older.exists():
                os.replace(older, self.directory / f"{FILE_NAME}.{n + 1}")
        os.replace(self.path, self.directory / f"{FILE_NAME}.1")

    def _write_head(self, last: str, lines: int) -> None:
        from tui.services.core.private_files import atomic_write

        atomic_write(self.directory / HEAD_NAME,
                     _encode({"last": last, "lines": lines}) + b"\n")

    # -- reading --------------------------------------------------------------------------------

    def entries(self) -> tuple[list[dict[str, Any]], list[str]]:
        """Every use recorded, oldest first, and what could not be read (one line each)."""
        found: list[dict[str, Any]] = []
        problems: list[str] = []
        for path in self.files():
            try:
                data = self._read(path)
            except (OSError, RefusedFile) as exc:
                problems.append(f"{path.name} could not be read ({_why(exc)})")
                continue
            for number, line in enumerate(data.splitlines(), start=1):
                try:
                    record = json.loads(line)
                except (ValueError, UnicodeDecodeError, RecursionError):
                    problems.append(f"line {number} of {path.name} is not a log line")
                    continue
                if isinstance(record, dict) and record.get("kind") == "use":
                    found.append(record)
        return found, problems

    def check(self) -> ChainReport:
        """Walk the chain across every file and the head record."""
        report = ChainReport()
        prev: str | None = None
        first = True
        files = self.files()
        report.files = len(files)
        lines_in_current = 0
        for path in files:
            try:
                data = self._read(path)
            except (OSError, RefusedFile) as exc:
                report.breaks.append(f"{path.name} could not be read ({_why(exc)})")
                prev = None
                continue
            if data and not data.endswith(b"\n"):
                report.breaks.append(f"the last line of {path.name} is cut off")
            lines = data.split(b"\n")
            if lines and lines[-1] == b"":
                lines.pop()
            if path == self.path:
                lines_in_current = len(lines)
            for number, line in enumerate(lines, start=1):
                report.lines += 1
                where = f"line {number} of {path.name}"
                try:
                    record = json.loads(line)
                    if not isinstance(record, dict) or not isinstance(record.get("prev"), str):
                        raise ValueError
                except (ValueError, UnicodeDecodeError, RecursionError):
                    report.breaks.append(f"{where} is not a log line (edited or damaged)")
                    prev = line_hash(line)
                    first = False
                    continue
                if record.get("kind") == "start" and record.get("reason") != "rotated":
                    if not first or record.get("reason") != "new":
                        report.breaks.append(f"{where}: a new chain starts "
                                             f"({clean(record.get('reason'), limit=80)})")
                elif first:
                    # The oldest line kept must start a chain: a new log's first line, or the
                    # first of a file whose older neighbours were rotated away.
                    if record.get("kind") != "start":
                        report.breaks.append(f"{where} does not start the log: the lines "
                                             "before it were removed")
                elif prev is not None and record["prev"] != prev:
                    report.breaks.append(f"{where} does not follow the line before it: a line "
                                         "was edited, removed or moved there")
                prev = line_hash(line)
                first = False
        head = self._read_head()
        if head is None:
            if files:
                report.breaks.append(f"{HEAD_NAME} is missing or damaged: lines cut off the "
                                     "end cannot be told")
        elif (head.get("last"), head.get("lines")) != (prev, lines_in_current):
            report.breaks.append(f"the end of {FILE_NAME} is not where keylink left it: its "
                                 "last lines were edited or removed")
        return report

    def _read(self, path: Path) -> bytes:
        # A file grows past the cap by the lines of one append at most; far bigger is not ours.
        return read_regular(path, max(self.max_bytes * 4, 16 * 1024 * 1024))

    def _read_head(self) -> dict[str, Any] | None:
        try:
            # Never followed through a link, and never a FIFO (a read would wait forever).
            head = json.loads(read_regular(self.directory / HEAD_NAME, 4096))
        except (OSError, RefusedFile, ValueError, UnicodeDecodeError, RecursionError):
            return None
        return head if isinstance(head, dict) else None


@dataclass
class ChainReport:
    """What ``check`` found: lines and files read, and each break (one line each)."""

    lines: int = 0
    files: int = 0
    breaks: list[str] = field(default_factory=list)

    @property
    def whole(self) -> bool:
        return not self.breaks


def describe(entry: dict[str, Any]) -> str:
    """One line for a person: time, action, account, fields, outcome, where from."""
    where = [f"{label} {clean(entry.get(key), limit=60)}"
             for key, label in (("tty", "on"), ("ssh", "over ssh from"), ("parent", "by"))
             if entry.get(key)]
    fields = entry.get("fields")
    fields_text = "+".join(clean(f, limit=20) for f in fields) if isinstance(fields, list) else ""
    return "  ".join(clean(part, limit=80) for part in (
        str(entry.get("time", "?")).replace("T", " "), entry.get("action", "?"),
        entry.get("account") or "-", fields_text or "-", entry.get("outcome", "?"),
    )) + (f"  ({', '.join(where)})" if where else "")

def recent_uses(account_id: str, limit: int = 20) -> tuple[list[str], list[str]]:
    """The last ``limit`` uses of one account, newest first, as lines for a person; and what
    could not be read."""
    entries, problems = AccessLog().entries()
    mine = [e for e in entries if e.get("account_id") == account_id]
    return [describe(e) for e in reversed(mine[-limit:])], problems


def _why(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, RefusedFile) else (getattr(exc, "strerror", None)
                                                          or type(exc).__name__)


def _once(problem: str) -> str | None:
    if problem in _said:
        return None
    _said.add(problem)
    return problem


def record_quietly(action: str, account: Any = None, fields: Sequence[str] = (),
                   outcome: str = "ok") -> None:
    """Append one use to the default log; a problem is kept for ``take_pending``."""
    problem = AccessLog().record(action, account, fields, outcome)
    if problem:
        _pending.append(problem)


def take_pending() -> list[str]:
    """The problems ``record_quietly`` met since the last call."""
    taken = list(_pending)
    _pending.clear()
    return taken
