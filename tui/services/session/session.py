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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from tui.services.session.unlock import EnvPassphrase, SessionError, UnlockPolicy
from tui.services.store.accounts import AccountStore
from tui.services.store.backends import store_label
from tui.services.store.errors import RemovalUnfinished, SecretStoreError
from tui.services.store.model import AccountError, LastCheck, removal_note
from tui.services.store.secrets import SecretStore

if TYPE_CHECKING:
    from tui.services.keys.credentials import Credentials
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
                self.secrets = None
                self.open_error = SecretStoreError(
                    f"the secret store could not be opened ({type(exc).__name__})")
                return self._settle_state(
                    SessionState.UNAVAILABLE,
                    f"the secret store could not be opened ({type(exc).__name__})")
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
        secrets = self.secrets
        if secrets is None:
            raise SessionNotOpen(self._failure or "the secret store is still opening; try again "
                                 "in a moment")
        with self._unlocking:  # one prompt or dialog at a time, however many callers wait
            new, locked = secrets.needs_new_vault, secrets.needs_unlock
            self.unlock_policy.apply(secrets, create=create, elsewhere=self._elsewhere)
            if (new or locked) and not (secrets.needs_new_vault or secrets.needs_unlock):
                self._publish([VaultOpened(created=new)])

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
        store.check_store(account)
        self.ensure_unlocked()
        return store.credentials(account)

    async def check_and_record(
        self, account: Account, *, whitelist: Sequence[str] | None = None
    ) -> CheckFinished:
        """Verify the account's key against its exchange and save the summary with the account.

        ``whitelist``: addresses to compare the key's binding with (default: the account's own
        terminal profile). Raises what ``credentials_for`` raises, and AccountUnusable for an
        exchange this keylink lacks, all before a secret is read or a request sent. A result that
        cannot be saved is not an error: ``not_saved`` says why. Subscribers get the event too.
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
        try:
            report = await verify_account(account, creds, whitelist)
        finally:
            del creds  # the secret lives no longer than the request
        try:
            updated = await asyncio.to_thread(store.record_check, account.id,
                                              LastCheck.of(report))
        except AccountError as exc:
            finished = CheckFinished(account, report, str(exc))
        else:
            finished = CheckFinished(updated, report)
            with self._watching:  # so the next tick does not report our own write as news
                if any(a.id == updated.id for a in self.known_accounts):
                    self.known_accounts = tuple(updated if a.id == updated.id else a
                                                for a in self.known_accounts)
        self._publish([finished])
        return finished
