"""Each account's check history: the summary of every check, the last ``KEEP`` per account.

Why a file of its own (``history.json`` beside ``accounts.json``) and not a field of each
account: a damaged history must never stop a check or hide the accounts. A history file that does
not parse is moved aside (``history.json.damaged-<time>``, never deleted) and a new one is started;
the caller is told once, by the append that moved it.

Why its own lock: ``keylink verify --all`` from cron and the app may check at the same moment.
Every append re-reads the file under a cross-process lock, computes what it must from the entry
before it (the caller's ``make``), and replaces the file atomically, so no entry is ever lost and
each entry is compared with the one really before it. Lock order, where both are held: this lock
first, then accounts.json's (``Session.check_and_record``); nothing takes them the other way round.

The format (JSON lines, a header with each account's newest entry first) is described at
``_header``. Never a secret: entries hold rights, bound addresses, expiry, key kind, host,
clock offset, status.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tui.services.core.private_files import (
    RefusedFile,
    atomic_write,
    free_name_beside,
    leftover_temp_files,
    read_regular,
    remove_files,
)
from tui.services.store.locking import file_lock
from tui.services.store.model import AccountError

HISTORY_FILE = "history.json"
#: Entries kept per account (the newest).
KEEP = 50
#: 200 accounts x 50 entries x ~600 bytes is about 6 MB; a bigger file is not keylink's.
HISTORY_LIMIT = 32 * 2**20
ASIDE_MARK = ".damaged-"
FORMAT_VERSION = 1


class HistoryDamaged(Exception):
    """The history file (or an entry) does not read as what keylink writes; says which part."""


@dataclass(frozen=True)
class Change:
    """One thing that differs from the check before: the field, both values as text, how bad."""

    field: str
    before: str | None
    after: str | None
    severity: str

    def to_json(self) -> dict[str, Any]:
        return {"field": self.field, "before": self.before, "after": self.after,
                "severity": self.severity}


def _text_or_none(item: Mapping[str, Any], key: str) -> str | None:
    value = item.get(key)
    if value is not None and not isinstance(value, str):
        raise HistoryDamaged(f"an entry's {key!r} is not text")
    return value


@dataclass(frozen=True)
class HistoryEntry:
    """The summary of one check. Values are what ``verify --json`` says (no secret)."""

    checked_at: str
    status: str
    worst: str
    host: str
    #: Normalised rights (read, trade, transfer, withdraw, unknown); () when the check failed.
    rights: tuple[str, ...] = ()
    #: Bound addresses as the exchange lists them; None when not known (a failed check).
    ips: tuple[str, ...] | None = None
    ip_restricted: bool | None = None
    expires_at: str | None = None
    #: Which expiry rule gave ``expires_at`` (see ``verify.expiry``).
    expiry_rule: str | None = None
    key_kind: str | None = None
    key_type: str | None = None
    clock_offset_ms: int | None = None
    changes: tuple[Change, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {"checked_at": self.checked_at, "status": self.status, "worst": self.worst,
                "host": self.host, "rights": list(self.rights),
                "ips": None if self.ips is None else list(self.ips),
                "ip_restricted": self.ip_restricted, "expires_at": self.expires_at,
                "expiry_rule": self.expiry_rule, "key_kind": self.key_kind,
                "key_type": self.key_type, "clock_offset_ms": self.clock_offset_ms,
                "changes": [c.to_json() for c in self.changes]}

    @classmethod
    def from_json(cls, item: Any) -> HistoryEntry:
        """An entry as written by ``to_json``; HistoryDamaged for anything else."""
        if not isinstance(item, dict):
            raise HistoryDamaged("an entry is not an object")
        for key in ("checked_at", "status", "worst", "host"):
            if not isinstance(item.get(key), str):
                raise HistoryDamaged(f"an entry has no valid {key!r}")
        rights = item.get("rights", [])
        if not isinstance(rights, list) or not all(isinstance(r, str) for r in rights):
            raise HistoryDamaged("an entry's rights are not a list of text")
        ips = item.get("ips")
        if ips is not None and (not isinstance(ips, list)
                                or not all(isinstance(i, str) for i in ips)):
            raise HistoryDamaged("an entry's addresses are not a list of text")
        restricted = item.get("ip_restricted")
        if restricted is not None and not isinstance(restricted, bool):
            raise HistoryDamaged("an entry's binding is not true or false")
        offset = item.get("clock_offset_ms")
        if offset is not None and type(offset) is not int:
            raise HistoryDamaged("an entry's clock offset is not a whole number")
        changes = []
        for change in item.get("changes", []):
            if not isinstance(change, dict) or not isinstance(change.get("field"), str) \
                    or not isinstance(change.get("severity"), str):
                raise HistoryDamaged("an entry's change is not a field and a severity")
            changes.append(Change(change["field"], _text_or_none(change, "before"),
                                  _text_or_none(change, "after"), change["severity"]))
        return cls(checked_at=item["checked_at"], status=item["status"], worst=item["worst"],
                   host=item["host"], rights=tuple(rights),
                   ips=None if ips is None else tuple(ips), ip_restricted=restricted,
                   expires_at=_text_or_none(item, "expires_at"),
                   expiry_rule=_text_or_none(item, "expiry_rule"),
                   key_kind=_text_or_none(item, "key_kind"),
                   key_type=_text_or_none(item, "key_type"), clock_offset_ms=offset,
                   changes=tuple(changes))


@dataclass(frozen=True)
class Appended:
    """What ``append`` wrote, the entry before it, and (once) why an old file was moved aside."""

    entry: HistoryEntry
    previous: HistoryEntry | None
    problem: str | None = None


class HistoryStore:
    """``history.json`` in ``directory`` (the accounts file's dir)."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.path = directory / HISTORY_FILE

    def __repr__(self) -> str:
        return f"HistoryStore({str(self.path)!r})"

    def _lock(self) -> contextlib.AbstractContextManager[None]:
        return file_lock(self.dir, self.path, "saving check history")  # locking.LOCK_TIMEOUT

    # The file is JSON lines: a header {"version", "latest": {id: newest entry}}, then one line
    # {"account": id, "entries": [...]} per account. ``keylink status`` needs only each account's
    # newest entry: it parses the header line alone (200 accounts with 50 entries each are 6 MB;
    # parsing all of it took longer than the rest of the command). One file and one atomic
    # write, so header and entries always agree.

    @staticmethod
    def _header(line: bytes) -> dict[str, Any]:
        try:
            doc = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise HistoryDamaged("it is not valid JSON") from None
        if not isinstance(doc, dict) or type(doc.get("version")) is not int:
            raise HistoryDamaged("it has no format version")
        if doc["version"] > FORMAT_VERSION:
            raise HistoryDamaged("it was written by a newer keylink")
        if not isinstance(doc.get("latest"), dict):
            raise HistoryDamaged("it has no index of the newest checks")
        return doc

    def _parse(self, raw: bytes) -> dict[str, list[HistoryEntry]]:
        head, _, rest = raw.partition(b"\n")
        self._header(head)
        result: dict[str, list[HistoryEntry]] = {}
        for line in rest.splitlines():
            if not line.strip():
                continue
            try:
                item = json.loads(line.decode("utf-8"))
            except (UnicodeDecodeError, ValueError, RecursionError):
                raise HistoryDamaged("a line is not valid JSON") from None
            if not isinstance(item, dict) or not isinstance(item.get("account"), str) \
                    or not isinstance(item.get("entries"), list):
                raise HistoryDamaged("a line is not an account's history")
            result[item["account"]] = [HistoryEntry.from_json(e) for e in item["entries"]]
        return result

    @staticmethod
    def _serialize(everything: Mapping[str, list[HistoryEntry]]) -> bytes:
        latest = {key: entries[-1].to_json() for key, entries in everything.items() if entries}
        lines = [json.dumps({"version": FORMAT_VERSION, "latest": latest},
                            ensure_ascii=False, separators=(",", ":"))]
        lines += [json.dumps({"account": key, "entries": [e.to_json() for e in entries]},
                             ensure_ascii=False, separators=(",", ":"))
                  for key, entries in everything.items() if entries]
        return ("\n".join(lines) + "\n").encode("utf-8")

    def _load(self) -> dict[str, list[HistoryEntry]]:
        """Every account's entries; FileNotFoundError/RefusedFile/OSError/HistoryDamaged."""
        return self._parse(read_regular(self.path, HISTORY_LIMIT))

    def latest(self) -> tuple[dict[str, HistoryEntry], str | None]:
        """Each account's newest entry (from the header line only), and why the file cannot be
        read, if so (left in place). For ``keylink status``: fast with full histories."""
        try:
            raw = read_regular(self.path, HISTORY_LIMIT)
            head = self._header(raw.partition(b"\n")[0])
            return {key: HistoryEntry.from_json(item)
                    for key, item in head["latest"].items()}, None
        except FileNotFoundError:
            return {}, None
        except (RefusedFile, HistoryDamaged, OSError) as exc:
            return {}, self._unreadable(exc)

    def read(self) -> tuple[dict[str, list[HistoryEntry]], str | None]:
        """Every account's entries (oldest first) and, if the file cannot be used, why (it is
        left where it is: only a writer moves a file aside). Never raises for the file."""
        try:
            return self._load(), None
        except FileNotFoundError:
            return {}, None
        except (RefusedFile, HistoryDamaged, OSError) as exc:
            return {}, self._unreadable(exc)

    def _unreadable(self, exc: Exception) -> str:
        """Why the file cannot be read, in one line (``latest`` and ``read`` say it alike)."""
        detail = (exc.strerror or exc) if isinstance(exc, OSError) else exc
        return f"the check history {self.path} cannot be read ({detail})"

    def entries(self, account_id: str) -> tuple[list[HistoryEntry], str | None]:
        """One account's entries, oldest first, and why the file cannot be read, if so."""
        everything, problem = self.read()
        return everything.get(account_id, []), problem

    def _drop(self, pick: Callable[[list[str]], list[str]]) -> list[str]:
        """Drop the histories of the ids ``pick`` names, given every account id in the file
        (``pick`` runs under this file's lock, so it may take the accounts lock: the documented
        order); returns the ids dropped. Raises what reading the file raises but
        FileNotFoundError (nothing to drop), and AccountError when the lock cannot be taken or
        the file cannot be written."""
        with self._lock():
            try:
                everything = self._load()
            except FileNotFoundError:
                return []
            gone = [key for key in pick(list(everything)) if key in everything]
            if not gone:
                return []
            for key in gone:
                del everything[key]
            try:
                atomic_write(self.path, self._serialize(everything))
            except OSError as exc:
                raise AccountError(f"could not save {self.path}: {exc.strerror or exc}") from None
        return gone

    def forget(self, account_id: str) -> str | None:
        """Drop the history of an account that is gone from accounts.json (its checks named its
        bound addresses and rights, and nothing could show them any more). None when done or
        when there was none; else why it stays, in one line (never raises: the removal it
        follows is done). A file that does not read as keylink's is left exactly as it is:
        what it holds cannot be told apart."""
        try:
            self._drop(lambda _ids: [account_id])
        except (RefusedFile, HistoryDamaged, OSError) as exc:
            return f"{self._unreadable(exc)}: its checks of this account stay in it"
        except AccountError as exc:
            return (f"the check history could not be updated ({exc}): its checks of this "
                    "account stay in it")
        return None

    def prune(self, unknown: Callable[[list[str]], list[str]]) -> list[str]:
        """Drop the histories of the accounts ``unknown`` names (see ``_drop``); returns the
        ids dropped. A file that cannot be read is left as it is (nothing dropped).
        AccountError when the file cannot be written."""
        try:
            return self._drop(unknown)
        except (RefusedFile, HistoryDamaged, OSError):
            return []

    def temp_files(self) -> list[Path]:
        """Temp files of a history write that a killed process left behind."""
        return leftover_temp_files(self.path)

    def remove_temp_files(self) -> int:
        """Delete them, under the lock (a running write's own temp file is never touched)."""
        with self._lock():
            return remove_files(leftover_temp_files(self.path))

    def _move_aside(self) -> Path:
        target = free_name_beside(self.path, ASIDE_MARK)
        os.replace(self.path, target)
        return target

    def append(self, account_id: str,
               make: Callable[[list[HistoryEntry]], HistoryEntry],
               then: Callable[[HistoryEntry], None] | None = None) -> Appended:
        """Add ``make(entries)`` to ``account_id``'s history under the lock, keeping ``KEEP``.

        ``make`` gets the account's entries so far, oldest first (another process's last, if it
        wrote last), so changes are always against the check really before. ``then`` runs with
        the new entry under the lock, before the history is written (the caller records it in
        accounts.json, so both files agree on which check was last); if it raises, the history
        is left as it was and the exception goes to the caller. A damaged file is moved aside,
        said in ``problem``, and a new history started: a check is never blocked by its history.
        AccountError (one line) when the file cannot be written; the caller still has its check.
        """
        problem = None
        with self._lock():
            try:
                everything = self._load()
            except FileNotFoundError:
                everything = {}
            except (RefusedFile, HistoryDamaged) as exc:
                why = str(exc)
                try:
                    aside = self._move_aside()
                except OSError as move_exc:
                    raise AccountError(
                        f"the check history {self.path} is damaged ({why}) and could not be "
                        f"moved aside ({move_exc.strerror or move_exc}); move it away by hand"
                    ) from None
                problem = (f"the check history was damaged ({why}); it was moved to {aside} "
                           "and a new one was started")
                everything = {}
            except OSError as exc:
                raise AccountError(f"cannot read {self.path}: {exc.strerror or exc}") from None
            entries = everything.setdefault(account_id, [])
            previous = entries[-1] if entries else None
            entry = make(list(entries))
            entries.append(entry)
            del entries[:-KEEP]
            if then is not None:
                then(entry)  # raises: nothing is written (the account may be gone)
            try:
                atomic_write(self.path, self._serialize(everything))
            except OSError as exc:
                raise AccountError(f"could not save {self.path}: {exc.strerror or exc}; the "
                                   "check was not added to the history") from None
        return Appended(entry, previous, problem)
