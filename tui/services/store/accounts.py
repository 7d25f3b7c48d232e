"""The accounts file and the operations on it: metadata in ``accounts.json`` (config dir),
secrets only in the SecretStore.

The metadata file is small JSON, mode 0600 in a 0700 dir, replaced atomically, and every mutation
re-reads it under a cross-process file lock, so two running keylinks lose nothing. The order of the
secret and metadata writes is chosen so that a failure half-way leaves the previous state whole
(see ``add``, ``rotate`` and ``remove``).

What an account is and the checks of its input are in ``store.model``; what ``keylink doctor``
checks and repairs is in ``store.doctor``.

About 600 lines, on purpose: ``AccountStore`` is one class whose file handling (lock, read, move
aside, write) and operations (add, rotate and remove each order two stores' writes around one
commit) share its state and its reasoning; split in two, each half could only be read with the
other open beside it.
"""

from __future__ import annotations

import builtins
import contextlib
import json
import os
import uuid
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui.services.core import paths
from tui.services.core.private_files import (
    RefusedFile,
    atomic_write,
    free_name_beside,
    interrupts_deferred,
    read_regular,
)
from tui.services.exchanges import exchange as exchange_info
from tui.services.exchanges import exchanges
from tui.services.keys.credentials import Credentials
from tui.services.store.locking import file_lock
from tui.services.store.model import (
    CHECK_STATUSES,
    CUSTOM_ENV,
    WORST_LEVELS,
    Account,
    AccountError,
    AccountNotFound,
    AccountsUnreadable,
    Damaged,
    DuplicateName,
    LastCheck,
    OwnList,
    account_from_json,
    account_json,
    check_own_list,
    check_terminal,
    check_whitelist,
    clean_credentials,
    now_stamp,
    removal_note,
    resolve_base_url,
    validate_name,
)

if TYPE_CHECKING:
    from tui.services.store.secrets import SecretStore

ACCOUNTS_FILE = "accounts.json"
#: Where a damaged accounts file goes: ``accounts.json.damaged-<UTC stamp>[-n]`` beside it. doctor
#: reads every such file and never calls a secret orphaned while one of them names it.
ASIDE_MARK = ".damaged-"
#: Far above any real accounts file (about 1 KB an account); a bigger file is not keylink's.
ACCOUNTS_LIMIT = 4 * 2**20
SERVICE_NAME = "keylink"  # the keyring service name (secrets.SERVICE), said in messages
FORMAT_VERSION = 1
_LOCK_TIMEOUT = 15.0


def wait_until_settled(path: Path, quiet: float, limit: float) -> None:
    """Return once ``path`` (size, mtime, inode; or its absence) has not changed for ``quiet``
    seconds, or after ``limit`` seconds: a file an editor is still writing is not read half-way.
    """
    import time

    def look() -> tuple[int, int, int] | None:
        try:
            info = os.stat(path)
        except OSError:
            return None
        return (info.st_mtime_ns, info.st_size, info.st_ino)

    start = time.monotonic()
    seen, since = look(), start
    while True:
        now = time.monotonic()
        if now - since >= quiet or now - start >= limit:
            return
        time.sleep(min(0.05, quiet))
        current = look()
        if current != seen:
            seen, since = current, time.monotonic()


class AccountStore:
    """Accounts of this user. All calls are synchronous and may block on keyring I/O."""

    def __init__(self, secrets: SecretStore, config_dir: Path | None = None) -> None:
        self.secrets = secrets
        self.dir = config_dir if config_dir is not None else paths.config_dir()
        self.path = self.dir / ACCOUNTS_FILE
        self.load_problem: str | None = None
        #: Set when some accounts predate recorded stores (and how they are treated).
        self.legacy_note: str | None = None
        self._newer_format = False
        #: What accounts.json last saw of the vault: {"vault": id, "count": writes}.
        self._vault_generation: dict[str, Any] | None = None
        #: Stores other than ``secrets`` that accounts recorded and keylink opened by name
        #: (pass: it needs no passphrase of keylink's), by store id.
        self._others: dict[str, SecretStore] = {}
        with contextlib.suppress(AccountError), self._lock():
            self._read()

    def __repr__(self) -> str:
        return f"AccountStore({str(self.path)!r})"

    # -- file handling ----------------------------------------------------------------------------

    def _lock(self) -> contextlib.AbstractContextManager[None]:
        return file_lock(self.dir, self.path, "saving accounts", " (see `keylink doctor`)",
                         _LOCK_TIMEOUT)

    def _read(self, *, move_aside: bool = True) -> builtins.list[Account]:
        """Current accounts (call under the lock). A damaged file is moved aside, not trusted;
        with ``move_aside=False`` it stays where it is and AccountsUnreadable says why (the
        app's file watcher: an editor may still be writing it)."""
        try:
            raw = read_regular(self.path, ACCOUNTS_LIMIT)
        except FileNotFoundError:
            return []
        except RefusedFile as exc:
            raise AccountError(str(exc)) from None
        except OSError as exc:
            raise AccountError(f"cannot read {self.path}: {exc.strerror or exc}") from None
        try:
            try:
                doc = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError, RecursionError):  # nested past the parser
                raise Damaged("it is not valid JSON") from None
            if not isinstance(doc, dict) or not isinstance(doc.get("version"), int):
                raise Damaged("it has no format version")
            if doc["version"] > FORMAT_VERSION:
                self._newer_format = True
                self.load_problem = (
                    f"{self.path} was written by a newer keylink; this version "
                    "shows no accounts and will not change the file"
                )
                return []
            items = doc.get("accounts")
            if not isinstance(items, builtins.list):
                raise Damaged("it has no account list")
            accounts = [account_from_json(item) for item in items]
            seen = doc.get("vault_generation")
            if seen is not None:
                if not (
                    isinstance(seen, dict)
                    and isinstance(seen.get("vault"), str)
                    and type(seen.get("count")) is int
                ):
                    raise Damaged("its vault generation is not a vault id and a count")
                if self.secrets.vault is not None:
                    # An older copy of this vault put back over it is refused, not used.
                    self.secrets.vault.expect_generation(seen["vault"], seen["count"])
            self._vault_generation = seen
            if len({a.id for a in accounts}) != len(accounts):
                raise Damaged("two accounts share an id")
            legacy = sum(1 for a in accounts if a.secret_store is None)
            self.legacy_note = (
                f"{legacy} account{'s' if legacy != 1 else ''} saved by an older keylink "
                f"{'do' if legacy != 1 else 'does'} not record where the secret is; keylink "
                f"looks in the store in use ({self.secrets.backend_name})"
                if legacy
                else None
            )
        except Damaged as exc:
            if not move_aside:
                raise AccountsUnreadable(f"{self.path} cannot be read ({exc})") from None
            aside = self._move_aside()
            self.load_problem = (
                f"the accounts file was damaged ({exc}); it was moved to {aside} "
                "and keylink started with no accounts. `keylink doctor --restore FILE` puts its "
                "accounts back; no secret it names is deleted meanwhile"
            )
            return []
        return accounts

    def _free_name(self, mark: str) -> Path:
        return free_name_beside(self.path, mark)

    def _move_aside(self) -> Path:
        target = self._free_name(ASIDE_MARK)
        try:
            os.replace(self.path, target)
        except OSError as exc:
            raise AccountError(
                f"the accounts file {self.path} is damaged and could not be moved aside "
                f"({exc.strerror or exc}); move it away by hand"
            ) from None
        return target

    def _write(self, accounts: builtins.list[Account]) -> None:
        if self._newer_format:
            raise AccountError(
                f"{self.path} was written by a newer keylink; update keylink to change accounts"
            )
        doc: dict[str, Any] = {"version": FORMAT_VERSION}
        vault = self.secrets.vault
        seen = self._vault_generation
        if vault is not None and vault.vault_id is not None:
            count = vault.generation
            if seen is not None and seen["vault"] == vault.vault_id:
                count = max(count, seen["count"])  # this process may not have read it lately
            seen = {"vault": vault.vault_id, "count": count}
        if seen is not None:
            doc["vault_generation"] = seen
        doc["accounts"] = [account_json(a) for a in accounts]
        data = (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
        try:
            atomic_write(self.path, data)
        except OSError as exc:
            raise AccountError(
                f"could not save {self.path}: {exc.strerror or exc}; nothing was changed"
            ) from None

    @staticmethod
    def _find(accounts: builtins.list[Account], account_id: str) -> Account:
        for account in accounts:
            if account.id == account_id:
                return account
        raise AccountNotFound("that account no longer exists (another keylink may have removed it)")

    def _forget_secret(self, ref: str, secrets: SecretStore | None = None) -> None:
        """Delete a secret nobody points at any more; a failure leaves an orphan, never a hole."""
        from tui.services.store.errors import SecretNotFound, SecretStoreError

        with contextlib.suppress(SecretNotFound, SecretStoreError):
            (secrets or self.secrets).delete(ref)

    @staticmethod
    def _new_ref(account_id: str, name: str = "", secrets: SecretStore | None = None) -> str:
        """A fresh entry name. In pass, where people list and share entries, it starts with the
        account's name (``keylink/bybit-main-3f2a…``); elsewhere it is the account's id."""
        from tui.services.store.pass_store import PASS_STORE, slug

        if secrets is not None and secrets.store_id == PASS_STORE and name:
            return f"{slug(name)}-{uuid.uuid4().hex[:12]}"
        return f"account-{account_id}-{uuid.uuid4().hex[:12]}"

    def entry_of(self, account: Account, secrets: SecretStore) -> str:
        """Where ``account``'s secret is in ``secrets``: its ref, or for secret files handed in
        (``KEYLINK_SECRETS_DIR``) the readable name of the account's files."""
        from tui.services.store.files_store import FILES_STORE, entry_name

        if secrets.store_id == FILES_STORE:
            return entry_name(account.name)
        return account.secret_ref

    def _commit(self, accounts: builtins.list[Account], new_ref: str | None = None,
                secrets: SecretStore | None = None) -> None:
        """Write ``accounts``: the one commit point of add, rotate and remove.

        Before the rename a failure or interrupt undoes ``new_ref`` (a secret nothing points at
        yet); after it nothing is undone. Ctrl-C is held across the write, so it cannot land
        between the rename and the line that records it (it once landed in the directory fsync,
        and the rollback deleted the secret of a saved account).
        """
        committed = False
        try:
            with interrupts_deferred():
                self._write(accounts)
                committed = True
        except BaseException:
            if not committed and new_ref is not None:
                self._forget_secret(new_ref, secrets)
            raise

    def store_of(self, account: Account) -> str:
        """The store that holds ``account``'s secret (old accounts: the one in use)."""
        return account.secret_store or self.secrets.store_id

    def other_store(self, store: str) -> SecretStore | None:
        """A store an account recorded that keylink opens by name next to the one in use: pass
        (its GPG agent, not keylink, holds the key). None for the others (the vault and system
        keyrings are used only as the process's store, chosen as before)."""
        from tui.services.store.pass_store import PASS_STORE
        from tui.services.store.secrets import SecretStore

        if store == self.secrets.store_id:
            return self.secrets
        if store != PASS_STORE:
            return None
        if store not in self._others:
            self._others[store] = SecretStore.open_pass(
                "an account records pass as its store")
        return self._others[store]

    def secrets_for(self, account: Account) -> SecretStore:
        """The store that holds ``account``'s secret, as it recorded; StoreUnreachable when that
        is not one keylink can use now. Secrets handed in as files (``KEYLINK_SECRETS_DIR``)
        serve every account: setting that folder says the copies are there.

        keylink never looks for (or deletes, or saves) a secret in a store other than the one it
        was saved in: a silent switch made "removed" keys stay in the keyring.
        """
        if self.secrets.read_only:
            return self.secrets
        recorded = self.store_of(account)
        found = self.other_store(recorded)
        if found is None:
            from tui.services.store.backends import store_label
            from tui.services.store.errors import StoreUnreachable

            raise StoreUnreachable(
                f"the secret of {account.name!r} is in {store_label(recorded)}, which keylink "
                f"cannot use now (it is using {self.secrets.backend_name}: "
                f"{self.secrets.reason}); make that store reachable and retry"
            )
        return found

    def check_store(self, account: Account) -> None:
        """StoreUnreachable when the account's secret is in a store keylink cannot use now (see
        ``secrets_for``)."""
        self.secrets_for(account)

    def check_new_account_store(self, accounts: builtins.list[Account] | None = None) -> None:
        """New secrets go where the existing ones are, unless the user chose a store
        (StoreUnreachable otherwise). ``accounts``: the current list (read when not given)."""
        from tui.services.store.backends import BACKEND_ENV, store_label
        from tui.services.store.errors import StoreUnreachable

        self.secrets.refuse_writes("save a new account")  # secrets handed in as files
        if self.secrets.chosen:
            return
        if accounts is None:
            accounts = self.list()
        recorded = {a.secret_store for a in accounts if a.secret_store}
        if recorded and self.secrets.store_id not in recorded:
            where = " and ".join(sorted(store_label(r) for r in recorded))
            raise StoreUnreachable(
                f"your accounts keep their secrets in {where}, which keylink cannot use now "
                f"({self.secrets.reason}); make it reachable, or set {BACKEND_ENV}=vault or "
                "=keyring to save this account in another store"
            )

    # -- public API --------------------------------------------------------------------------------

    def list(self, *, move_aside: bool = True) -> builtins.list[Account]:
        """All accounts, in the order they were added. ``move_aside=False``: a damaged file is
        left where it is and AccountsUnreadable raised (see ``_read``)."""
        with self._lock():
            return self._read(move_aside=move_aside)

    def get(self, name_or_id: str) -> Account:
        """The account with this id, or with this name (case-insensitive); AccountNotFound."""
        accounts = self.list()
        for account in accounts:
            if account.id == name_or_id:
                return account
        folded = name_or_id.strip().casefold()
        for account in accounts:
            if account.name.casefold() == folded:
                return account
        raise AccountNotFound(f"no account named {name_or_id.strip()!r}")

    def add(
        self,
        name: str,
        exchange: str,
        environment: str,
        creds: Credentials,
        base_url: str | None = None,
        whitelist: str | None = None,
        terminal: str | None = None,
        own_list: OwnList | None = None,
    ) -> Account:
        """Add an account: secret first under a fresh ref, then metadata.

        If the metadata cannot be saved, the new secret is deleted again (best effort); once it is
        saved, nothing is undone (see ``_commit``). Ctrl-C and SIGTERM are held from before the
        secret's write until the commit or its rollback, then delivered: an interrupt cannot land
        between the two stores' writes."""
        if exchange not in exchanges():
            raise AccountError(f"unknown exchange {exchange!r} (known: {', '.join(exchanges())})")
        try:
            url = resolve_base_url(exchange, environment, base_url)
            profile = check_whitelist(whitelist or exchange_info(exchange).default_whitelist)
            terminal_id = check_terminal(terminal) if terminal is not None else None
            own = check_own_list(own_list) if own_list is not None else None
            clean = clean_credentials(exchange, creds)
        except ValueError as exc:
            raise AccountError(str(exc)) from None
        with self._lock():
            accounts = self._read()
            try:
                cleaned_name = validate_name(name, accounts)
            except DuplicateName:
                raise
            except ValueError as exc:
                raise AccountError(str(exc)) from None
            account_id = uuid.uuid4().hex
            now = now_stamp()
            account = Account(
                id=account_id,
                name=cleaned_name,
                exchange=exchange,
                environment=environment,
                base_url=url,
                whitelist=profile,
                created_at=now,
                updated_at=now,
                secret_ref=self._new_ref(account_id, cleaned_name, self.secrets),
                secret_store=self.secrets.store_id,
                terminal=terminal_id,
                own_list=own,
            )
            self.check_new_account_store(accounts)  # refuses first where writes are refused
            # Ctrl-C is held from before the secret's write to the commit (or its rollback): one
            # landing just after the write once left a secret no account pointed at (4 in 40).
            with interrupts_deferred():
                self.secrets.set(account.secret_ref, clean)
                self._commit([*accounts, account], new_ref=account.secret_ref)
        return account

    def update(
        self,
        account_id: str,
        *,
        name: str | None = None,
        environment: str | None = None,
        base_url: str | None = None,
        whitelist: str | None = None,
        terminal: str | None = None,
        own_list: OwnList | None = None,
    ) -> Account:
        """Change metadata only (rename, environment/URL, whitelist, terminal, own list). A base
        URL without an environment means the custom environment."""
        with self._lock():
            accounts = self._read()
            current = self._find(accounts, account_id)
            self._refuse_removing(current)
            changes: dict[str, Any] = {}
            try:
                if name is not None:
                    changes["name"] = validate_name(name, accounts, ignore_id=account_id)
                if environment is not None or base_url is not None:
                    env = environment if environment is not None else CUSTOM_ENV
                    if env == CUSTOM_ENV and base_url is None:
                        if current.environment != CUSTOM_ENV:
                            raise ValueError("a custom environment needs a base URL")
                        base_url = current.base_url
                    changes["environment"] = env
                    changes["base_url"] = resolve_base_url(current.exchange, env, base_url)
                if whitelist is not None:
                    changes["whitelist"] = check_whitelist(whitelist)
                if terminal is not None:  # "" forgets the terminal
                    changes["terminal"] = check_terminal(terminal) if terminal else None
                if own_list is not None:
                    changes["own_list"] = check_own_list(own_list)
            except DuplicateName:
                raise
            except ValueError as exc:
                raise AccountError(str(exc)) from None
            if not changes:
                return current
            if changes.get("base_url", current.base_url) != current.base_url:
                changes["last_check"] = None  # that check was against another server
            updated = replace(current, **changes, updated_at=now_stamp())
            self._write(self._with(accounts, updated))
        return updated

    def rotate(self, account_id: str, creds: Credentials) -> Account:
        """Replace an account's key: new secret under a NEW ref, then metadata pointing at it, then
        delete the old ref. No secret is ever overwritten under unchanged metadata, and metadata
        never points at a missing secret; a failed old-secret delete leaves an orphan entry."""
        with self._lock():
            accounts = self._read()
            current = self._find(accounts, account_id)
            self._refuse_removing(current)
            try:
                clean = clean_credentials(current.exchange, creds)
            except ValueError as exc:
                raise AccountError(str(exc)) from None
            except KeyError as exc:  # an exchange from a newer keylink or a hand-edited file
                raise AccountError(exc.args[0]) from None
            target = self.secrets_for(current)
            target.refuse_writes("rotate a key")
            new_ref = self._new_ref(account_id, current.name, target)
            updated = replace(
                current,
                secret_ref=new_ref,
                updated_at=now_stamp(),
                last_check=None,
                secret_store=target.store_id,
            )
            # As in ``add``: Ctrl-C is held from the new secret's write through the commit and
            # the old secret's delete, which nothing points at once the commit is done.
            with interrupts_deferred():
                target.set(new_ref, clean)
                self._commit(self._with(accounts, updated),
                             new_ref=new_ref, secrets=target)
                self._forget_secret(current.secret_ref, target)
        return updated

    def remove(self, account_id: str, *, force: bool = False) -> str | None:
        """Mark, delete the secret, then drop the metadata; None, or what stays behind.

        Why this order: the point of removing is that the secret leaves this machine. The metadata
        goes only after the account's own store confirmed the secret is gone (or was never
        there), so a refusing, hung or unreachable store fails the call and the account stays
        listed as it was; deleting metadata first would report success while the secret stays
        behind, invisible.

        The two stores cannot change in one step, so the removal is written down first: the
        account is saved with ``removing`` set before its secret is deleted. A kill -9 or power
        cut after that leaves an account that says its removal was cut short (never used again,
        finished by removing it again or by ``keylink doctor --repair``), not an account that
        silently lost its secret. If the store refuses the delete, the mark is taken back:
        nothing was deleted. Ctrl-C is held from the mark to the commit, so it cannot split them.

        ``force`` ("forget") drops the metadata even when the store cannot confirm (a keyring
        that no longer exists); the returned line says what stays behind.
        """
        from tui.services.core.text import clean
        from tui.services.store.backends import store_label
        from tui.services.store.errors import SecretNotFound, SecretStoreError

        with self._lock():
            accounts = self._read()
            current = self._find(accounts, account_id)
            left: str | None = None
            # A second copy a cut-short move left is this account's secret too: it goes first
            # (as a move run again deletes it), or nothing is removed. Dropped unsaid, it would
            # stay on the machine with nothing naming it.
            copy_left: str | None = None
            if current.other_copy is not None:
                try:
                    accounts, current, _ = self._settle_other_copy(accounts, current)
                except SecretStoreError:
                    if not force:
                        raise
                    # Not the store's own advice ("retry", "doctor --repair deletes it"): once
                    # the account is gone nothing names this copy, so only a hand can find it.
                    store, ref = current.other_copy
                    copy_left = (f"a second copy from a move that was cut short may stay in "
                                 f"{store_label(store)} (entry {ref!r}), which keylink could not "
                                 "reach; nothing names it any more: delete it there by hand")
            rest = [a for a in accounts if a.id != account_id]
            with interrupts_deferred():
                marked = current.removing is not None
                try:
                    home = self.secrets_for(current)
                    home.refuse_writes("delete a secret")
                    if not marked:
                        self._write(self._with(accounts, replace(current, removing=now_stamp())))
                        marked = True
                    home.delete(current.secret_ref)
                except SecretNotFound:
                    pass
                except SecretStoreError as exc:
                    if not force:
                        if marked and current.removing is None:
                            if not self._surely_not_deleted(exc):
                                # A store that did not answer in time, or failed in a way that
                                # may come after the delete: the mark stays.
                                error = type(exc)(
                                    f"{exc}; {clean(current.name)!r} is now marked as being "
                                    "removed and will not be used: remove it again to finish")
                                error.account_marked = True
                                raise error from None
                            # The store refused: its secret is where it was, so is the account.
                            with contextlib.suppress(AccountError):
                                self._write(accounts)
                        raise
                    left = (
                        f"its secret may stay in {store_label(self.store_of(current))} "
                        f"(service {SERVICE_NAME!r}, entry {current.secret_ref!r}): {exc}"
                    )
                self._commit(rest)
        return "; ".join(part for part in (left, copy_left) if part) or None

    def move(self, account_id: str, target: SecretStore) -> tuple[Account, str | None]:
        """Move an account's secret to ``target``: copy, read back, commit, delete the old copy.

        (the account as saved, None or what stays behind). Each step is written down first,
        so a kill -9 anywhere leaves the account usable from one store and any second copy
        named in it (``other_copy``), never unknown to keylink: before the copy is written the
        account names the copy to come; the commit (one write of accounts.json) switches the
        account to it and names the old copy instead; once that is deleted the name goes.
        A failure before the commit deletes the new copy and leaves the account as it was.
        Ctrl-C is held from the first write to the last. A leftover of an earlier cut-short
        move is deleted first.
        """
        from tui.services.store.errors import SecretStoreError

        with self._lock():
            accounts = self._read()
            current = self._find(accounts, account_id)
            self._refuse_removing(current)
            if current.other_copy is not None:
                accounts, current, _ = self._settle_other_copy(accounts, current)
            source = self.secrets_for(current)
            if self.store_of(current) == target.store_id and not source.read_only:
                return current, None
            target.refuse_writes("take an account moved to it")
            creds = source.get(self.entry_of(current, source))
            new_ref = self._new_ref(current.id, current.name, target)
            old = (source.store_id, current.secret_ref)
            with interrupts_deferred():
                # 1. The copy to come is written down before it exists.
                self._write(self._with(accounts, replace(current,
                                                         other_copy=(target.store_id, new_ref))))
                try:
                    target.set(new_ref, creds)
                    if target.get(new_ref) != creds:
                        raise SecretStoreError(f"{target.backend_name} did not read back what "
                                               "keylink saved; the account stays where it was")
                except BaseException:
                    self._forget_secret(new_ref, target)
                    with contextlib.suppress(AccountError):
                        self._write(accounts)
                    raise
                # 2. The commit: the account uses the new copy and names the old one.
                moved = replace(current, secret_ref=new_ref, secret_store=target.store_id,
                                updated_at=now_stamp(), other_copy=old)
                self._write(self._with(accounts, moved))
                # 3. The old copy goes; then its name.
                if source.read_only:
                    left = (f"the files in {source.backend_name} were left as they are "
                            "(keylink never changes them)")
                else:
                    left = self._delete_copy(source, current.secret_ref)
                if left is None or source.read_only:
                    moved = replace(moved, other_copy=None)
                    self._write(self._with(accounts, moved))
        return moved, left

    @staticmethod
    def _with(accounts: builtins.list[Account], account: Account) -> builtins.list[Account]:
        return [account if a.id == account.id else a for a in accounts]

    def _delete_copy(self, secrets: SecretStore, ref: str) -> str | None:
        """Delete a copy no account uses; None, or why it stays (one line)."""
        from tui.services.store.errors import SecretNotFound, SecretStoreError

        try:
            secrets.delete(ref)
        except SecretNotFound:
            pass
        except SecretStoreError as exc:
            return (f"the old copy stays in {secrets.backend_name} (entry {ref!r}): {exc}; "
                    "`keylink doctor --repair` deletes it once that store can be used")
        return None

    def _settle_other_copy(self, accounts: builtins.list[Account], current: Account
                           ) -> tuple[builtins.list[Account], Account, bool]:
        """Delete the copy a cut-short move left (named by the account, used by nobody) and
        drop its name; SecretStoreError when its store cannot be used now (nothing changes).
        The bool: whether a leftover copy was there to go (False when the name was that of the
        copy in use: only the name goes)."""
        from tui.services.store.backends import store_label
        from tui.services.store.errors import StoreUnreachable

        assert current.other_copy is not None
        store, ref = current.other_copy
        leftover = (store, ref) != (self.store_of(current), current.secret_ref)
        if leftover:  # (otherwise the name is that of the copy in use: keep the copy)
            where = self.other_store(store)
            if where is None:
                raise StoreUnreachable(
                    f"{current.name!r} has another copy in {store_label(store)} from a move "
                    "that was cut short, which keylink cannot use now; make that store "
                    "reachable and retry")
            left = self._delete_copy(where, ref)
            if left is not None:
                raise StoreUnreachable(left)
        settled = replace(current, other_copy=None)
        accounts = self._with(accounts, settled)
        with interrupts_deferred():
            self._write(accounts)
        return accounts, settled, leftover

    def settle_other_copies(self) -> tuple[builtins.list[str], builtins.list[str]]:
        """For ``doctor --repair``: delete every leftover copy of a cut-short move.
        (names of the accounts whose leftover copy is now gone, lines on those left); a name
        that only named the copy in use is dropped and not counted."""
        from tui.services.store.errors import SecretStoreError

        done: builtins.list[str] = []
        left: builtins.list[str] = []
        with self._lock():
            accounts = self._read()
            for account in list(accounts):
                if account.other_copy is None:
                    continue
                try:
                    accounts, _, leftover = self._settle_other_copy(accounts, account)
                    if leftover:
                        done.append(account.name)
                except SecretStoreError as exc:
                    left.append(f"{account.name}: {exc}")
        return done, left

    def _surely_not_deleted(self, exc: BaseException) -> bool:
        """True for store errors that mean the delete did not happen: a locked or missing
        keyring, a locked vault, and any vault error but a timeout (the vault is rewritten by
        atomic replace, so a failed write leaves the old file whole)."""
        from tui.services.store.errors import (
            KeyringLocked,
            KeyringTimeout,
            KeyringUnavailable,
            VaultLocked,
        )

        if isinstance(exc, KeyringTimeout):
            return False
        if isinstance(exc, (KeyringLocked, KeyringUnavailable, VaultLocked)):
            return True
        return self.secrets.uses_vault

    @staticmethod
    def _refuse_removing(account: Account) -> None:
        if account.removing is not None:
            raise AccountError(removal_note(account))


    def credentials(self, account: Account) -> Credentials:
        """The account's key, secret and passphrase from its store (SecretStoreError;
        RemovalUnfinished for an account whose removal was cut short)."""
        from tui.services.store.errors import RemovalUnfinished

        # The file's record, not the caller's copy: another keylink (or a removal that timed
        # out) may have marked the account since that copy was read.
        with self._lock():
            account = self._find(self._read(), account.id)
        if account.removing is not None:
            raise RemovalUnfinished(removal_note(account))
        home = self.secrets_for(account)
        return home.get(self.entry_of(account, home))

    def names_with_key(self, exchange: str, api_key: str) -> builtins.list[str]:
        """Names of the stored accounts of ``exchange`` that hold this API key already.

        Storing one key under two names is rare but legitimate, so callers warn and ask rather
        than refuse. Only that exchange's secrets are read; one that cannot be read (a locked
        keyring, a cut-short removal) is skipped: this is a courtesy check, not a guarantee."""
        from tui.services.store.errors import SecretStoreError

        names = []
        for account in self.list():
            if account.exchange != exchange or account.removing is not None:
                continue
            try:
                stored = self.credentials(account).api_key
            except (SecretStoreError, AccountError):
                continue
            if stored == api_key:
                names.append(account.name)
        return names

    def record_check(self, account_id: str, check: LastCheck) -> Account:
        """Remember the summary of the last verification."""
        if check.worst not in WORST_LEVELS:
            raise AccountError(f"unknown check level {check.worst!r}")
        if check.status and check.status not in CHECK_STATUSES:
            raise AccountError(f"unknown check status {check.status!r}")
        summary = " ".join(check.summary.split())
        with self._lock():
            accounts = self._read()
            current = self._find(accounts, account_id)
            updated = replace(current, last_check=replace(check, summary=summary))
            self._write(self._with(accounts, updated))
        return updated
