"""The one session of a keylink process: the open secret store and accounts, and what runs on them.

Why it exists: before it, nothing owned "the open store" for the process. The Accounts screen
opened one, the guide borrowed it or opened a second, and the CLI had a third copy of the unlock
policy; verify-and-record was written twice and the idle lock ran on one screen only. Now the app
and the CLI each make one ``Session``; everything that opens the store, unlocks it, reads a
secret, watches accounts.json or locks the idle vault goes through it.

Plain Python, no Textual. ``open``, ``tick``, ``reload``, ``ensure_unlocked`` and
``credentials_for`` block (keyring and file I/O): the caller picks the thread, never a UI thread.
Subscribers are called in the thread that made the event.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from tui.services.session.unlock import EnvPassphrase, SessionError, UnlockPolicy
from tui.services.store.accounts import AccountStore
from tui.services.store.backends import store_label
from tui.services.store.errors import RemovalUnfinished, SecretStoreError
from tui.services.store.history import HistoryStore
from tui.services.store.model import AccountError, LastCheck, removal_note
from tui.services.store.secrets import SecretStore

if TYPE_CHECKING:
    from tui.services.keys.credentials import Credentials
    from tui.services.store.choice import StoreOption
    from tui.services.store.model import Account
    from tui.services.verify.run import KeyReport

#: Seconds a changed accounts.json that does not parse must stay unchanged before it is reported
#: unreadable: until then it may be an editor's half-written save.
SETTLE_SECONDS = 3.0


class SessionState(StrEnum):
    """Where the session is; every change is a ``StateChanged`` event."""

    OPENING = "opening"
    #: The secret store and accounts.json are open (the vault may still be locked).
    OPEN = "open"
    #: The secret store could not be opened; ``reason`` says why.
    UNAVAILABLE = "unavailable"
    #: The secret store is open but accounts.json cannot be used; ``reason`` says why.
    FAILED = "failed"


class SessionNotOpen(SessionError):
    """The accounts cannot be used (yet): the message is the session's reason."""


class AccountUnusable(SessionError):
    """The account names an exchange this keylink does not know (a newer keylink's, a hand edit)."""


@dataclass(frozen=True)
class StateChanged:
    state: SessionState
    reason: str


@dataclass(frozen=True)
class AccountsChanged:
    """accounts.json now holds ``accounts``; ``problem``: what the read found wrong, if anything
    (moved aside, written by a newer keylink)."""

    accounts: tuple[Account, ...]
    problem: str | None = None


@dataclass(frozen=True)
class AccountsFileUnreadable:
    """accounts.json changed, and has not parsed for a settle period; it was left where it is and
    the accounts read before stay in use."""

    problem: str


@dataclass(frozen=True)
class VaultLockedNow:
    """The vault was locked: by ``lock()``, or (``idle``) after its idle limit without use."""

    idle: bool


@dataclass(frozen=True)
class VaultOpened:
    """The unlock policy opened the locked vault, or (``created``) made a new one."""

    created: bool


@dataclass(frozen=True)
class CheckFinished:
    """A check ended. ``account`` is as saved with it (or as given when ``not_saved`` says why the
    result could not be saved: the check itself still counts)."""

    account: Account
    report: KeyReport
    not_saved: str | None = None
    #: Said once: the check history was damaged and moved aside (a new one was started).
    history_problem: str | None = None


@dataclass(frozen=True)
class Removed:
    """An account removed (``Session.remove_account``): what of its secret stays behind (a
    forced removal whose store could not confirm; None when all went), and why its check history
    stays, if it does (never a reason to keep the account)."""

    left: str | None
    history_left: str | None = None


SessionEvent = (
    StateChanged | AccountsChanged | AccountsFileUnreadable | VaultLockedNow | VaultOpened
    | CheckFinished
)
FileSeen = tuple[int, int, int] | None


def _stat(path: Path) -> FileSeen:
    """(mtime_ns, size, inode) of ``path``, None while it is missing or cannot be looked at."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_mtime_ns, info.st_size, info.st_ino)


class Session:
    """The open secret store and accounts of this process (make one, call ``open`` off the UI)."""

    def __init__(
        self,
        *,
        unlock: UnlockPolicy | None = None,
        open_secrets: Callable[[], SecretStore] | None = None,
        config_dir: Path | None = None,
        clock: Callable[[], float] | None = None,
        settle: float = SETTLE_SECONDS,
    ) -> None:
        """``unlock``: who is asked for the vault passphrase (default: the environment only).
        ``open_secrets`` replaces ``SecretStore.open`` and ``config_dir`` the accounts folder
        (tests, embedding); ``clock`` replaces ``time.monotonic`` for the idle lock and the
        settle period."""
        self.unlock_policy = unlock or UnlockPolicy(EnvPassphrase())
        self._open_secrets = open_secrets or SecretStore.open
        self._config_dir = config_dir
        self._clock = clock
        self.settle = settle
        self.state = SessionState.OPENING
        self.secrets: SecretStore | None = None
        #: The AccountStore, once the session is OPEN.
        self.accounts: AccountStore | None = None
        #: The accounts as last read (by ``open``, ``reload`` or ``tick``).
        self.known_accounts: tuple[Account, ...] = ()
        #: What the last read of accounts.json found wrong, if anything.
        self.load_problem: str | None = None
        self._failure = ""
        #: Why the secret store could not be opened (UNAVAILABLE): its class names the fault.
        self.open_error: Exception | None = None
        self._subscribers: list[Callable[[SessionEvent], None]] = []
        self._opening = threading.Lock()
        self._unlocking = threading.Lock()
        self._watching = threading.RLock()
        self._seen: FileSeen = None
        #: A change that did not parse yet: its stat and when it was first seen.
        self._pending: tuple[FileSeen, float] | None = None

    @property
    def reason(self) -> str:
        """Why the state is what it is: the secret store's reason once OPEN, else the failure."""
        if self.state is SessionState.OPEN and self.secrets is not None:
            return self.secrets.reason
        return self._failure

    def subscribe(self, callback: Callable[[SessionEvent], None]) -> Callable[[], None]:
        """Call ``callback`` with every event from now on; returns the unsubscribe function.
        A callback that raises stops the call that made the event (nothing is swallowed)."""
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):  # already gone
                self._subscribers.remove(callback)

        return unsubscribe

    def _publish(self, events: list[SessionEvent]) -> list[SessionEvent]:
        for event in events:
            for callback in list(self._subscribers):
                callback(event)
        return events

    def _now(self) -> float:
        return (self._clock or time.monotonic)()

    # -- opening ----------------------------------------------------------------------------------

    def open(self) -> SessionState:
        """Open the secret store, then read accounts.json (a damaged file is moved aside: this is
        the explicit load of start-up). Blocks; may be called again to retry."""
        with self._opening:
            self.accounts = None
            if self.state is not SessionState.OPENING:  # a retry: say so while it runs
                self._settle_state(SessionState.OPENING, "")
            self.open_error = None
            try:
                secrets = self._open_secrets()
            except SecretStoreError as exc:
                self.secrets, self.open_error = None, exc
                return self._settle_state(SessionState.UNAVAILABLE, str(exc))
            except Exception as exc:  # the type only: a backend's text may hold data
                failure = f"the secret store could not be opened ({type(exc).__name__})"
                self.secrets, self.open_error = None, SecretStoreError(failure)
                return self._settle_state(SessionState.UNAVAILABLE, failure)
            if self._clock is not None:
                secrets.clock = self._clock
            self.secrets = secrets
            store = AccountStore(secrets, self._config_dir)  # reads the file once already
            try:
                changed = self._load(store, found=store.load_problem)
            except AccountError as exc:
                return self._settle_state(SessionState.FAILED, str(exc))
            self.accounts = store
            self._settle_state(SessionState.OPEN, "")
            self._publish(changed)
            return self.state

    def _settle_state(self, state: SessionState, failure: str) -> SessionState:
        self.state, self._failure = state, failure
        self._publish([StateChanged(state, self.reason)])
        return state

    def _require_open(self) -> AccountStore:
        if self.state is not SessionState.OPEN or self.accounts is None:
            raise SessionNotOpen(self._failure or "the secret store is still opening; try again "
                                 "in a moment")
        return self.accounts

    # -- accounts.json ----------------------------------------------------------------------------

    def _news(self, store: AccountStore) -> str | None:
        """A problem the store found since the last read that nobody was told about: a save
        (the store reads the file before it writes) that moved a damaged file aside."""
        found = store.load_problem
        return found if found is not None and found != self.load_problem else None

    def _load(self, store: AccountStore, found: str | None = None) -> list[SessionEvent]:
        """An explicit read (start-up, the user's reload): a damaged file is moved aside.
        ``found``: a problem an earlier read of this load found (the store's first read)."""
        with self._watching:
            seen = _stat(store.path)
            found = found or self._news(store)
            store.load_problem = None
            accounts = store.list()
            problem = store.load_problem or found
            if problem:  # moved aside (or a newer format): look at what is there now
                seen = _stat(store.path)
            store.load_problem = problem
            self._seen, self._pending = seen, None
            return self._took(accounts, problem, always=True)

    def _took(self, accounts: list[Account], problem: str | None,
              always: bool = False) -> list[SessionEvent]:
        fresh = tuple(accounts)
        if not always and fresh == self.known_accounts and problem == self.load_problem:
            return []
        self.known_accounts, self.load_problem = fresh, problem
        return [AccountsChanged(fresh, problem)]

    def reload(self) -> tuple[Account, ...]:
        """Read accounts.json again because the user asked (a damaged file is moved aside);
        AccountError if it cannot be read at all."""
        store = self._require_open()
        self._publish(self._load(store))
        return self.known_accounts

    def _look_at_file(self, store: AccountStore) -> list[SessionEvent]:
        """Re-read accounts.json if its stat changed; never moves it aside (see ``tick``)."""
        with self._watching:
            seen = _stat(store.path)
            if seen == self._seen:
                return []
            now = self._now()
            if self._pending is None or self._pending[0] != seen:
                self._pending = (seen, now)  # changed (again): the settle period starts over
            before, news = store.load_problem, self._news(store)
            store.load_problem = None
            try:
                accounts = store.list(move_aside=False)
            except AccountError as exc:
                store.load_problem = before
                if now - self._pending[1] < self.settle:
                    return []  # maybe half-written: look again on a later tick
                self._seen, self._pending = seen, None
                self.load_problem = f"{exc}; it was left as it is"
                return [AccountsFileUnreadable(self.load_problem)]
            self._seen, self._pending = seen, None
            return self._took(accounts, store.load_problem or news)

    def tick(self) -> list[SessionEvent]:
        """The app's one timer: the idle lock, then accounts.json. Returns the events (and tells
        subscribers). Blocks for a stat, and a read when the file changed.

        A changed file that does not parse is not moved aside here: an editor may be half-way
        through saving it. It is read again on later ticks, and reported unreadable only once it
        has stayed the same for ``settle`` seconds; it then stays where it is.
        """
        events: list[SessionEvent] = []
        if self.secrets is not None and self.secrets.lock_if_idle():
            events.append(VaultLockedNow(idle=True))
        if self.state is SessionState.OPEN and self.accounts is not None:
            events += self._look_at_file(self.accounts)
        return self._publish(events)

    # -- the vault --------------------------------------------------------------------------------

    def lock(self) -> bool:
        """Lock the vault now (its derived key leaves memory); False when there was none to lock."""
        if self.secrets is None or not self.secrets.can_lock:
            return False
        self.secrets.lock()
        self._publish([VaultLockedNow(idle=False)])
        return True

    def ensure_unlocked(self, *, create: bool = False) -> None:
        """Apply the unlock policy: open a locked vault (with ``create``, make a missing one).
        UnlockRefused (UnlockCancelled when the person backed out); nothing to do for a keyring."""
        secrets = self._secrets()
        with self._unlocking:  # one prompt or dialog at a time, however many callers wait
            new, locked = secrets.needs_new_vault, secrets.needs_unlock
            self.unlock_policy.apply(secrets, create=create, elsewhere=self._elsewhere)
            if (new or locked) and not (secrets.needs_new_vault or secrets.needs_unlock):
                self._publish([VaultOpened(created=new)])

    def in_own_store(self, account: Account) -> bool:
        """True when ``account``'s secret is in this session's own store, as the account recorded
        (an account from before stores were recorded: the one in use). Pure: no store is asked,
        so a screen may call it on its UI thread."""
        return self._require_open().store_of(account) == self._secrets().store_id

    def needs_vault_for(self, accounts: Iterable[Account], *,
                        count_unreachable: bool = True, leftovers: bool = False) -> bool:
        """True when working on ``accounts`` needs this session's vault open: the session keeps
        its secrets in a vault and one of them keeps its secret there (``in_own_store``), or,
        with ``leftovers`` (a move or a removal, which delete it), a second copy of it that a
        cut-short move left there. Reading a secret never touches such a copy.

        The one rule for "ask for the vault passphrase?": a secret kept in another store (pass
        asks its own GPG agent) needs none, and a keyring session has no vault to open.
        ``count_unreachable``: an account whose store keylink cannot use now counts as needing
        the vault (so a check of it goes through the unlock policy, which names where the
        secrets are when there is no vault here); False for a caller that never reads the
        secret (``accounts remove --forget``). Blocks at most to open pass's store object (no
        pass command runs)."""
        secrets = self._secrets()
        if not secrets.uses_vault:
            return False
        store = self._require_open()
        for account in accounts:
            if self.in_own_store(account) or (
                    leftovers and account.other_copy is not None
                    and account.other_copy[0] == secrets.store_id):
                return True
            if count_unreachable:
                try:
                    store.secrets_for(account)
                except SecretStoreError:
                    return True
        return False

    def ensure_unlocked_for(self, accounts: Iterable[Account], *, create: bool = False,
                            count_unreachable: bool = True, leftovers: bool = False) -> bool:
        """``ensure_unlocked`` when ``needs_vault_for(accounts)`` says the vault is needed;
        True when the unlock policy was applied (the vault is open now), False when nothing was
        asked. Raises what ``ensure_unlocked`` raises. Blocks: call it off the UI thread."""
        accounts = list(accounts)
        if not self.needs_vault_for(accounts, count_unreachable=count_unreachable,
                                    leftovers=leftovers):
            return False
        self.ensure_unlocked(create=create)
        return True

    def _secrets(self) -> SecretStore:
        """The open secret store; SessionNotOpen while there is none."""
        if self.secrets is None:
            raise SessionNotOpen(self._failure or "the secret store is still opening; try again "
                                 "in a moment")
        return self.secrets

    def _elsewhere(self) -> str | None:
        """There is no vault here, but the accounts' secrets are in another store: say that."""
        secrets = self.secrets
        assert secrets is not None
        stores = sorted({store_label(a.secret_store) for a in self.known_accounts
                         if a.secret_store and a.secret_store != secrets.store_id})
        if not stores:
            return None
        return (f"your accounts keep their secrets in {' and '.join(stores)}, which keylink "
                f"cannot use now ({secrets.reason}); make it reachable and retry")

    # -- secrets and checks -----------------------------------------------------------------------

    @staticmethod
    def _refuse_cut_short(account: Account) -> None:
        if account.removing is not None:
            raise RemovalUnfinished(removal_note(account))

    def credentials_for(self, account: Account) -> Credentials:
        """The account's key, secret and passphrase: the one place keylink reads a secret.

        Refused, before anyone is asked for a passphrase: an account whose removal was cut short
        (RemovalUnfinished, also when the file marks it since ``account`` was read) and one whose
        secret is in a store keylink is not using (StoreUnreachable). Then the unlock policy runs
        (UnlockRefused) and the store is read (SecretStoreError; AccountError for an account that
        is gone). Blocks.
        """
        self._refuse_cut_short(account)
        store = self._require_open()
        store.check_store(account)  # StoreUnreachable before anyone is asked
        self.ensure_unlocked_for([account])  # pass asks its own agent, not keylink
        return store.credentials(account)

    def _remember(self, account: Account) -> None:
        """``account`` as this session just wrote it: the next tick does not report our own
        write as news."""
        with self._watching:
            self.known_accounts = tuple(account if a.id == account.id else a
                                        for a in self.known_accounts)

    def store_choices(self) -> list[StoreOption]:
        """Every store keylink could use here and why it can or cannot (blocks: the keyring is
        asked, with a timeout)."""
        from tui.services.store.choice import store_options
        from tui.services.store.vault import default_path as default_vault_path

        secrets = self.secrets
        vault = secrets.vault.path if secrets is not None and secrets.vault else (
            default_vault_path())
        return store_options(str(vault))

    def open_store(self, name: str) -> SecretStore:
        """The store ``name`` names, made usable by the unlock policy (a vault unlocked, or
        made): the session's own when it is that one. SecretStoreError, UnlockRefused."""
        if self.secrets is None:
            raise SessionNotOpen(self._failure or "the secret store is still opening")
        target = SecretStore.open(choice=name)
        if target.store_id == self.secrets.store_id:
            self.ensure_unlocked(create=True)
            return self.secrets
        with self._unlocking:
            self.unlock_policy.apply(target, create=True, elsewhere=lambda: None)
        return target

    def move_account(self, account: Account, to: str) -> tuple[Account, str | None]:
        """Move ``account``'s secret to the store named ``to`` (``AccountStore.move``: copy,
        read back, commit, delete the old copy); (the account as saved, what stays behind or
        None). Blocks; raises what ``credentials_for`` and ``open_store`` raise, AccountError."""
        self._refuse_cut_short(account)
        store = self._require_open()
        store.check_store(account)  # StoreUnreachable before anyone is asked
        # The copy to read, or a leftover to delete, may be in the vault.
        self.ensure_unlocked_for([account], leftovers=True)
        target = self.open_store(to)
        moved, left = store.move(account.id, target)
        self._remember(moved)
        return moved, left
    def history(self) -> HistoryStore:
        """The check history beside accounts.json (``store.history``)."""
        return HistoryStore(self._require_open().dir)

    def _record(self, store: AccountStore, account: Account, report: KeyReport
                ) -> tuple[KeyReport, Account | None, str | None, str | None]:
        """Append the check to the history and record it in accounts.json (blocking).

        Returns the report with its changes, the saved account (None if not saved), why not,
        and the history's one-time problem (a damaged file moved aside)."""
        from dataclasses import replace

        from tui.services.core.text import plural
        from tui.services.store.history import HistoryEntry
        from tui.services.verify.changes import (
            change_findings,
            compare,
            drift_finding,
            entry_of,
            last_described,
        )

        final = report
        saved: list[Account] = []

        def make(entries: list[HistoryEntry]) -> HistoryEntry:
            nonlocal final
            previous = entries[-1] if entries else None
            changes = compare(previous, entry_of(report), last_described(entries))
            since = previous.checked_at if previous else None
            added = change_findings(changes, since)
            offsets = [e.clock_offset_ms for e in entries if e.clock_offset_ms is not None]
            if report.clock_offset_ms is not None:
                drift = drift_finding([*offsets, report.clock_offset_ms])
                added += [drift] if drift is not None else []
            final = replace(report, changes=changes, previous_checked_at=since,
                            findings=(*report.findings, *added))
            return entry_of(final, changes)

        def check_of(entry_at: str | None) -> LastCheck:
            summary = final.summary()
            if final.changes:
                summary += f"; {plural(len(final.changes), 'change')}"
            check = LastCheck.of(final)  # its expiry as the history entry has it (entry_of)
            return replace(check, checked_at=entry_at or check.checked_at, summary=summary)

        class NotSaved(Exception):
            """accounts.json refused the check (the account is gone): no history entry."""

        def then(entry: HistoryEntry) -> None:
            # accounts.json first, under the history lock: an account removed meanwhile gets
            # no history entry, and the history's write is the operation's commit point.
            try:
                saved.append(store.record_check(account.id, check_of(entry.checked_at)))
            except AccountError as exc:
                raise NotSaved(str(exc)) from None

        try:
            appended = self.history().append(account.id, make, then)
        except NotSaved as exc:
            return final, None, str(exc), None
        except AccountError as exc:  # the history itself failed: the check still counts
            if saved:  # recorded in accounts.json; only the history's write failed
                return final, saved[0], None, str(exc)
            expires = entry_of(final).expires_at
            try:
                updated = store.record_check(account.id, check_of(None, expires))
            except AccountError as again:
                return final, None, str(again), str(exc)
            return final, updated, None, str(exc)
        return final, saved[0], None, appended.problem

    async def check_and_record(
        self, account: Account, *, whitelist: Sequence[str] | None = None,
        warn_days: int | None = None, probe: bool = True, warm_up: bool = True,
    ) -> CheckFinished:
        """Verify the account's key against its exchange and save the summary with the account.

        ``whitelist``: addresses to compare the key's binding with (default: the account's own
        terminal profile); ``warn_days``: an expiry this close is a warning; ``probe``: ask the
        exchange's other environments where a key this host does not know belongs
        (``verify.probe``); ``warm_up``: False keeps the probe's connections from being opened
        beside the check even for a key not yet known to work (many checks at once would send
        each exchange's other hosts a burst of time calls). Raises what ``credentials_for``
        raises, and AccountUnusable for an exchange this keylink lacks, all before a secret is
        read or a request sent. A result that cannot be saved is not an error: ``not_saved``
        says why. Subscribers get the event too.

        The check is compared with the one before it in the history (``verify.changes``): each
        change becomes a finding and ``report.changes``. accounts.json and then the history are
        written under the history lock: a concurrent check (cron and the app) waits, so none is
        lost and each is compared with the one really before it; a check of an account removed
        meanwhile is saved nowhere.
        """
        from tui.services.exchanges import exchange
        from tui.services.verify.run import verify_account

        self._refuse_cut_short(account)
        store = self._require_open()
        try:
            exchange(account.exchange)
        except KeyError as exc:
            raise AccountUnusable(f"account {account.name!r}: {exc.args[0]}; update keylink or "
                                  "remove the account") from None
        creds = await asyncio.to_thread(self.credentials_for, account)
        extra: dict[str, int | bool] = {} if warn_days is None else {"warn_days": warn_days}
        if not warm_up:
            extra["probe_warm"] = False
        try:
            report = await verify_account(account, creds, whitelist, probe=probe, **extra)
        finally:
            del creds  # the secret lives no longer than the request
        from tui.services.core.access_log import record_quietly
        from tui.services.handoff.fields import secret_fields

        await asyncio.to_thread(record_quietly, "verify", account, secret_fields(account),
                                str(report.status))
        recorded = await asyncio.to_thread(self._record, store, account, report)
        report, updated, not_saved, problem = recorded
        if updated is None:
            finished = CheckFinished(account, report, not_saved, problem)
        else:
            finished = CheckFinished(updated, report, None, problem)
            self._remember(updated)
        self._publish([finished])
        return finished

    def remove_account(self, account: Account, *, force: bool = False) -> Removed:
        """Delete ``account``'s secret (and any copy a cut-short move left), then the account
        (``AccountStore.remove``: its one commit), then its check history. Raises what
        ``AccountStore.remove`` raises; nothing of the history is touched then. Blocks."""
        store = self._require_open()
        left = store.remove(account.id, force=force)
        with self._watching:  # our own write: the next tick does not report it as news
            self.known_accounts = tuple(a for a in self.known_accounts if a.id != account.id)
        # The account is gone (the commit above): whatever happens to its history now is said
        # (``forget`` never raises), never reported as a failed removal.
        return Removed(left, self.history().forget(account.id))

    def switch_environment(self, account: Account, environment: str) -> Account:
        """Move an account to another environment of its exchange (the fix a check offers when
        the key belongs elsewhere): one metadata write through the store's ``update``, its one
        commit; the secret is not touched. Raises AccountError (an unknown environment, the
        account gone) and RemovalUnfinished. Blocks (file lock and write)."""
        self._refuse_cut_short(account)
        store = self._require_open()
        updated = store.update(account.id, environment=environment)
        self._remember(updated)
        return updated
