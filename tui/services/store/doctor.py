"""What ``keylink doctor`` checks and repairs in the accounts and their secrets.

The loose ends an interrupted or half-failed operation can leave: accounts whose secret is gone,
secrets no account points at, cut-short removals, temp files of interrupted writes, and accounts
files moved aside as damaged (read for the secrets they name, and put back by ``restore``).

Functions that take the AccountStore, not methods of it, so the store stays about everyday use.
They reach the file only through the store's own lock, read and write (``_lock``, ``_read``,
``_write``, ``_free_name``): the file's rules stay in one place.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from tui.services.core.private_files import (
    RefusedFile,
    interrupts_deferred,
    leftover_temp_files,
    read_regular,
    remove_files,
)
from tui.services.store.accounts import (
    ACCOUNTS_LIMIT,
    ASIDE_MARK,
    FORMAT_VERSION,
    AccountStore,
)
from tui.services.store.model import (
    AccountError,
    AccountNotFound,
    Damaged,
    account_from_json,
    validate_name,
)

#: A restored file is kept under this name (``accounts.json.restored-<stamp>``), out of the way.
RESTORED_MARK = ".restored-"


@dataclass(frozen=True)
class Health:
    """What ``keylink doctor`` finds: loose ends of interrupted or half-failed operations."""

    #: Names of accounts whose store answered that it holds no secret for them.
    accounts_without_secret: list[str]
    #: Refs of secrets in the store in use that no account points at; None: not checked.
    orphaned_secrets: list[str] | None
    #: Temp files of interrupted writes beside accounts.json and the vault.
    temp_files: list[Path]
    #: Why some secrets could not be checked (one line each), if any.
    unchecked: list[str]
    #: Names of accounts whose removal began and was cut short (see ``Account.removing``).
    unfinished_removals: list[str] = field(default_factory=list)
    #: Accounts files moved aside as damaged, each read for the secrets it names.
    moved_aside: list[AsideFile] = field(default_factory=list)
    #: Names of accounts with a second copy of their secret left by a cut-short move.
    cut_short_moves: list[str] = field(default_factory=list)
    #: Ids of accounts gone from accounts.json (and from every moved-aside file) whose check
    #: history is still kept (a removal cut short after its commit, or an older keylink's);
    #: None when that cannot be told.
    orphaned_histories: list[str] | None = field(default_factory=list)


@dataclass(frozen=True)
class AsideFile:
    """A moved-aside accounts file, as far as it can be read."""

    path: Path
    #: Names of the accounts it lists; None when it cannot be read as an accounts file.
    names: list[str] | None
    #: The secret refs its accounts point at; None when it cannot be read.
    refs: frozenset[str] | None
    #: Why it cannot be read (one line), or why it cannot be restored as it is.
    problem: str | None = None
    #: The file's bytes: a secret ref found anywhere in them counts as named, too.
    raw: bytes = field(default=b"", repr=False)

    @property
    def readable(self) -> bool:
        return self.refs is not None


@dataclass(frozen=True)
class Restored:
    """What ``restore`` did."""

    #: Names of the accounts put back into accounts.json.
    restored: list[str]
    #: Names of accounts that were in accounts.json already (same id).
    already: list[str]
    #: Where the moved-aside file now is (kept, renamed out of doctor's way).
    kept_as: Path


@dataclass(frozen=True)
class Repaired:
    """What ``repair`` did."""

    orphaned_secrets: int
    temp_files: int
    #: Names of accounts whose cut-short removal was finished.
    removals_finished: list[str]
    #: Cut-short removals that could not be finished now, with why (one line each).
    removals_left: list[str] = field(default_factory=list)
    #: Why no secret was deleted although some looked orphaned (a moved-aside file that cannot
    #: be read may name them); None when the check could be made.
    secrets_kept: str | None = None
    #: Names of accounts whose leftover copy from a cut-short move was deleted, and lines on
    #: those that could not be (their store cannot be used now).
    moves_finished: list[str] = field(default_factory=list)
    moves_left: list[str] = field(default_factory=list)
    #: How many gone accounts' check histories were deleted.
    histories_deleted: int = 0


def _temp_files(store: AccountStore) -> list[Path]:
    from tui.services.store.history import HistoryStore

    files = leftover_temp_files(store.path) + HistoryStore(store.dir).temp_files()
    if store.secrets.vault is not None:
        files += store.secrets.vault.temp_files()
    return files


def audit(store: AccountStore) -> Health:
    """Accounts without a secret, orphaned secrets and leftover temp files (changes nothing).

    Runs under the accounts lock: an add in progress holds it from saving its secret to its
    commit, so its secret is never mistaken for an orphan.
    """
    from tui.services.store.backends import store_label
    from tui.services.store.errors import SecretNotFound, SecretStoreError

    with store._lock():
        accounts = store._read()
        missing: list[str] = []
        unchecked: list[str] = []
        here = [a for a in accounts if _reachable(store, a)]
        elsewhere = len(accounts) - len(here)
        if elsewhere:
            stores = sorted({store_label(store.store_of(a)) for a in accounts
                             if not _reachable(store, a)})
            unchecked.append(
                f"{elsewhere} account{'s' if elsewhere != 1 else ''} keep their secret in "
                f"{' and '.join(stores)}, which keylink is not using now"
            )
        orphans: list[str] | None = None
        try:
            for account in here:
                if account.removing is not None:
                    continue  # its secret may be gone: that is what was asked for
                home = store.secrets_for(account)
                try:
                    home.get(store.entry_of(account, home))
                except SecretNotFound:
                    missing.append(account.name)
            refs = store.secrets.refs()
            if refs is None and store.secrets.shared:
                unchecked.append(f"{store.secrets.backend_name} may be shared with others (git, "
                                 "several GPG keys), so no entry in it is called orphaned: "
                                 "`pass ls keylink` lists them")
            elif refs is None:
                unchecked.append(f"{store.secrets.backend_name} cannot list its entries, so "
                                 "orphaned secrets cannot be found there")
            else:
                known = _known_refs(store, accounts)
                orphans = [ref for ref in refs if ref not in known]
        except SecretStoreError as exc:
            unchecked.append(str(exc))
        removals = [a.name for a in accounts if a.removing is not None]
        aside = moved_aside(store)
        if orphans is not None:
            orphans, why = _not_named_aside(orphans, aside)
            if why is not None:
                unchecked.append(why)
        moves = [a.name for a in accounts if a.other_copy is not None]
        histories, why = _gone_histories(store, accounts, aside)
        if why is not None:
            unchecked.append(why)
        return Health(missing, orphans, _temp_files(store), unchecked, removals, aside, moves,
                      histories)


def _gone_histories(store: AccountStore, accounts: list, aside: list[AsideFile],
                    ids: list[str] | None = None) -> tuple[list[str] | None, str | None]:
    """(ids of check histories no account has any more, why that cannot be told). An id named
    anywhere in a moved-aside accounts file counts as known (that file may be restored), and a
    moved-aside file that cannot be read at all leaves every history kept."""
    from tui.services.store.history import HistoryStore

    if ids is None:
        everything, problem = HistoryStore(store.dir).read()
        if problem is not None:
            return None, problem
        ids = list(everything)
    blind = [f for f in aside if not f.raw]
    if blind:
        names = ", ".join(str(f.path) for f in blind)
        return None, (f"{names} cannot be read, so no check history is called a removed "
                      "account's: none is deleted while it is there")
    known = {a.id for a in accounts}
    return [key for key in ids if key not in known
            and not any(key.encode() in f.raw for f in aside)], None


def _reachable(store: AccountStore, account) -> bool:  # account: Account
    """True when keylink can use the store ``account``'s secret is in (the one in use, or pass
    opened beside it)."""
    from tui.services.store.errors import SecretStoreError

    try:
        store.secrets_for(account)
    except SecretStoreError:
        return False
    return True


def _known_refs(store: AccountStore, accounts: list) -> set[str]:  # accounts: list[Account]
    """Refs in the store in use that an account names: its own, or a second copy a cut-short
    move left (deleted by finishing the move, never as an orphan)."""
    known = {a.secret_ref for a in accounts}
    known |= {a.other_copy[1] for a in accounts
              if a.other_copy is not None and a.other_copy[0] == store.secrets.store_id}
    return known


def repair(store: AccountStore) -> Repaired:
    """Finish cut-short removals, delete orphaned secrets and leftover temp files.

    Accounts without a secret are left: only the user can say whether to remove them or add
    the key again. A cut-short removal is finished because its user asked for it; one whose
    store cannot be used now is left (and stays listed as unfinished).
    """
    from tui.services.store.errors import SecretNotFound, SecretStoreError

    finished: list[str] = []
    left: list[str] = []
    moves_done, moves_left = store.settle_other_copies()
    for account in store.list():
        if account.removing is not None:
            try:
                store.remove(account.id)
                finished.append(account.name)
            except AccountNotFound:
                pass  # finished by another keylink meanwhile
            except SecretStoreError as exc:
                left.append(f"{account.name}: {exc}")
    deleted = 0
    with store._lock():
        accounts = store._read()
        refs = store.secrets.refs() or []
        known = _known_refs(store, accounts)
        # Looked at again under the lock, just before deleting: a file moved aside since
        # the audit names secrets too.
        orphans, kept = _not_named_aside([r for r in refs if r not in known],
                                         moved_aside(store))
        for ref in orphans or []:
            with contextlib.suppress(SecretNotFound):
                store.secrets.delete(ref)
                deleted += 1
        files = remove_files(leftover_temp_files(store.path))
    from tui.services.store.history import HistoryStore

    history = HistoryStore(store.dir)

    def unknown(ids: list[str]) -> list[str]:
        # Under the history lock, then the accounts lock (the order check_and_record takes
        # them): read again here, so an account restored meanwhile keeps its history.
        with store._lock():
            gone, _why = _gone_histories(store, store._read(), moved_aside(store), ids)
        return gone or []

    histories = len(history.prune(unknown))
    files += history.remove_temp_files()
    if store.secrets.vault is not None:
        files += store.secrets.vault.remove_temp_files()
    return Repaired(deleted, files, finished, left, kept, moves_done, moves_left, histories)


def _not_named_aside(candidates: list[str], aside: list[AsideFile]
                     ) -> tuple[list[str] | None, str | None]:
    """(the candidates no moved-aside file names, why none can be trusted as orphans).

    A moved-aside file that cannot be read may name any secret, so then no secret is
    proven orphaned: (None, why)."""
    unreadable = [f for f in aside if not f.readable]
    if unreadable:
        names = ", ".join(str(f.path) for f in unreadable)
        return None, (f"{names} cannot be read as an accounts file, so no secret can be "
                      "proven orphaned: none is deleted while it is there (fix it and "
                      "restore it with `keylink doctor --restore FILE`, or move it away)")
    named: set[str] = set().union(*(f.refs or () for f in aside))
    return [ref for ref in candidates if ref not in named
            and not any(ref.encode() in f.raw for f in aside)], None


def moved_aside(store: AccountStore) -> list[AsideFile]:
    """Every accounts file moved aside as damaged, read as far as it can be (never changed).

    Leniently: any entry with a text ``secret_ref`` counts as naming that secret, even if
    the rest of the entry is damaged, so it is kept."""
    try:
        paths_found = sorted(p for p in store.dir.glob(f"{store.path.name}{ASIDE_MARK}*")
                             if not p.name.endswith(".tmp"))
    except OSError:
        return []
    found: list[AsideFile] = []
    for path in paths_found:
        found.append(_read_aside(path))
    return found


def _read_aside(path: Path) -> AsideFile:
    try:
        raw = read_regular(path, ACCOUNTS_LIMIT)
    except RefusedFile as exc:
        return AsideFile(path, None, None, str(exc))
    except OSError as exc:
        return AsideFile(path, None, None, f"cannot read it: {exc.strerror or exc}")
    try:
        doc = json.loads(raw.decode("utf-8"))
    except json.JSONDecodeError as exc:
        return AsideFile(path, None, None, f"not valid JSON (line {exc.lineno}, column "
                         f"{exc.colno}: {exc.msg})", raw)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return AsideFile(path, None, None, "not valid JSON", raw)
    items = doc.get("accounts") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        return AsideFile(path, None, None, "it has no account list", raw)
    names: list[str] = []
    refs: set[str] = set()
    for item in items:
        ref = item.get("secret_ref") if isinstance(item, dict) else None
        if not isinstance(ref, str) or not ref:
            # An account whose secret cannot be told: any secret may be its.
            return AsideFile(path, None, None, "an account entry has no readable secret "
                             "reference", raw)
        refs.add(ref)
        name = item.get("name")
        names.append(name if isinstance(name, str) and name else "(no name)")
    return AsideFile(path, names, frozenset(refs), None, raw)


def restore(store: AccountStore, path: Path) -> Restored:
    """Put the accounts of a moved-aside file back into accounts.json (one commit).

    Every entry must read as an account (a damaged one is named; fix the file first). An
    account already in accounts.json (same id) is left as it is; another account with the
    same name refuses the whole restore. After the write, accounts.json is read back and
    must hold every restored account unchanged; only then is the moved-aside file renamed
    to ``accounts.json.restored-<stamp>`` (kept, out of doctor's way)."""
    from tui.services.core.text import clean

    path = Path(path)
    if (path.parent.resolve() != store.dir.resolve()
            or not path.name.startswith(f"{store.path.name}{ASIDE_MARK}")):
        raise AccountError(f"{clean(path)} is not a moved-aside accounts file of "
                           f"{clean(store.path)} (`keylink doctor` lists them)")
    try:
        raw = read_regular(path, ACCOUNTS_LIMIT)
    except FileNotFoundError:
        raise AccountError(f"{clean(path)} does not exist") from None
    except RefusedFile as exc:
        raise AccountError(str(exc)) from None
    except OSError as exc:
        raise AccountError(f"cannot read {clean(path)}: {exc.strerror or exc}") from None
    try:
        try:
            doc = json.loads(raw.decode("utf-8"))
        except json.JSONDecodeError as exc:
            raise Damaged(f"it is not valid JSON at line {exc.lineno}, column {exc.colno} "
                          f"({exc.msg})") from None
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise Damaged("it is not valid JSON") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("version"), int):
            raise Damaged("it has no format version")
        if doc["version"] > FORMAT_VERSION:
            raise Damaged("it was written by a newer keylink")
        items = doc.get("accounts")
        if not isinstance(items, list):
            raise Damaged("it has no account list")
        wanted = [account_from_json(item) for item in items]
        if len({a.id for a in wanted}) != len(wanted):
            raise Damaged("two accounts share an id")
    except Damaged as exc:
        raise AccountError(f"{clean(path)} cannot be restored as it is: {exc}; fix it in an "
                           "editor and restore it again (nothing was changed)") from None
    with store._lock():
        current = store._read()
        ids = {a.id for a in current}
        already = [a for a in wanted if a.id in ids]
        new = [a for a in wanted if a.id not in ids]
        for account in new:
            try:
                validate_name(account.name, [*current, *[a for a in new if a is not account]])
            except ValueError as exc:
                raise AccountError(f"cannot restore {clean(path)}: {exc}; rename one of "
                                   "them first (nothing was changed)") from None
        if new:
            with interrupts_deferred():
                store._write([*current, *new])
        back = {a.id: a for a in store._read(move_aside=False)}
        if any(back.get(a.id) != a for a in new):
            raise AccountError(f"{clean(store.path)} did not read back with the restored "
                               f"accounts; {clean(path)} was kept as it is")
        kept = store._free_name(RESTORED_MARK)
        try:
            os.replace(path, kept)
        except OSError as exc:
            raise AccountError(
                f"the accounts were restored, but {clean(path)} could not be renamed "
                f"({exc.strerror or exc}); it names only restored accounts now") from None
    return Restored([a.name for a in new], [a.name for a in already], kept)
