"""The accounts screen's vault and secret-store parts: the status line, the fault banner, an
unlocked vault before anything that needs a secret, copying a field, and locking.

The secret store is the app session's (``self.session``). The session asks for the passphrase
in the app's dialog (``tui.passphrase_dialog``) from the worker that needs it, so the guide and
the accounts section share one unlocked vault, one dialog and one idle lock.
"""

from __future__ import annotations

import math
from functools import partial
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work
from textual.content import Content
from textual.widgets import Static

from tui.services.core.text import clean, clean_lines
from tui.widgets.accounts_table import exchange_label

if TYPE_CHECKING:
    from collections.abc import Callable

    from textual.app import App

    from tui.services.session.session import Session
    from tui.services.store.accounts import AccountStore
    from tui.services.store.model import Account
    from tui.services.store.secrets import SecretStore
    from tui.session_messages import VaultUnlocked

#: Titles for secret-store faults, by exception class name (the message says how to fix it).
#: By name, so this module does not import the secret store (and keyring) at start-up.
_FAULT_TITLES = {
    "KeyringLocked": "The system keyring is locked.",
    "KeyringTimeout": "The secret store did not answer in time.",
    "KeyringUnavailable": "No usable keyring.",
    "VaultLocked": "keylink's vault is locked.",
    "VaultDamaged": "keylink's vault file is damaged.",
    "WrongPassphrase": "Wrong vault passphrase.",
    "SecretNotFound": "A secret is missing from the secret store.",
    "RemovalUnfinished": "This account's removal was cut short.",
    "StoreUnreachable": "This account's secret store cannot be used now.",
    "UnlockRefused": "keylink's vault is locked.",
}


def _lock_time(seconds: float | None) -> str:
    """", locks in 15 min if unused" for the status line (nothing when there is no idle lock)."""
    if seconds is None:
        return ""
    minutes = math.ceil(seconds / 60)
    when = "in under a minute" if seconds < 60 else f"in {minutes} min"
    return f", locks {when} if unused"


def _has_passphrase(account: Account) -> bool:
    """False only for an exchange known to have none (an unknown one is left to the copy,
    which says what is wrong)."""
    from tui.services.handoff.fields import has_passphrase

    try:
        return has_passphrase(account)
    except KeyError:
        return True


class VaultGate:
    """Mixin of the accounts screen (which gives the attributes named below)."""

    if TYPE_CHECKING:
        _greeted: bool
        session: Session | None
        secrets: SecretStore | None
        store: AccountStore | None

        @property
        def app(self) -> App[Any]: ...
        @property
        def selected(self) -> Account | None: ...
        def query_one(self, selector: Any, expect_type: Any = None) -> Any: ...
        def notify(self, message: str, **kwargs: Any) -> None: ...
        def refresh_bindings(self) -> None: ...

    def on_vault_locked(self) -> None:
        self._update_status()

    def _status_line(self) -> str:
        """One short line that fits 80 columns: the store and its state. Why this store was
        chosen is in the tooltip and in `keylink doctor`."""
        secrets = self.secrets
        if secrets is None:
            return "Opening the secret store…"
        if not secrets.uses_vault:
            return clean(f"Secrets: {secrets.backend_name}")
        if secrets.needs_new_vault:
            state = "not created yet (made when you add an account)"
        elif secrets.needs_unlock:
            state = "locked (press u to unlock)"
        else:
            state = "unlocked" + _lock_time(secrets.lock_due())
        return clean(f"Secrets: {secrets.backend_name}, {state}")

    def _update_status(self) -> None:
        line = self._status_line()
        self._shown_status = line
        self.query_one("#store-status", Static).update(Content(line))
        if self.secrets is not None:
            self.query_one("#store-status", Static).tooltip = Text(clean(self.secrets.reason))
        self.refresh_bindings()

    def _show_banner(self, selector: str, text: str) -> None:
        banner = self.query_one(selector, Static)
        banner.update(clean_lines(text))  # paths and store errors: outside text
        banner.set_class(bool(text), "-shown")

    def _show_fault(self, exc: BaseException) -> None:
        from tui.services.store.errors import SecretStoreError

        title = _FAULT_TITLES.get(type(exc).__name__, "The secret store failed.")
        # A removal whose delete may have happened leaves its account marked: a change.
        marked = isinstance(exc, SecretStoreError) and exc.account_marked
        after = "" if marked else "\nYour accounts were not changed."
        self._show_banner("#fault", f"{title} {str(exc).rstrip('.')}.{after}")
        if self.secrets is not None:
            self._update_status()  # a fault may have locked the vault: line and keys again

    def _clear_fault(self) -> None:
        self._show_banner("#fault", "")

    # -- secrets gate --------------------------------------------------------------------------

    def _with_secrets(self, then: Callable[[], None] | None) -> None:
        """Run ``then`` once the secret store itself can be used, for what concerns no account
        yet (adding one, u, the opening greeting): the vault is asked for, or made, whatever the
        accounts. Work on given accounts goes through ``_with_secrets_for``."""
        self._with_secrets_for(None, then, create=True)

    def _with_secrets_for(self, accounts: list[Account] | None,
                          then: Callable[[], None] | None, *,
                          create: bool = False, leftovers: bool = False) -> None:
        """Run ``then`` once the secrets of ``accounts`` can be used, by the session's one rule
        (``Session.ensure_unlocked_for``): the vault is asked for (or, with ``create``, made)
        only when one of them keeps its secret in it; a key kept in pass asks nothing (its GPG
        agent is asked when it is read). An account whose store keylink cannot use now is
        refused before anyone is asked. Backing out of the dialog runs nothing. ``leftovers``:
        a copy a cut-short move left in the vault counts (for a removal, which deletes it).
        ``accounts`` None: the store itself (see ``_with_secrets``)."""
        from tui.passphrase_dialog import hold_keys_for_dialog

        session = self.session
        if self.secrets is None or self.store is None or session is None:
            self.notify("The secret store is still opening; try again in a moment.")
            return
        self._greeted = True  # the vault is seen to: the "open" news asks nothing more
        if not (self.secrets.needs_unlock or self.secrets.needs_new_vault):
            if then is not None:
                then()  # nothing to ask: at once, so keys typed next reach what it opens
            return
        # Deciding may open pass's store object and the unlock waits for the dialog: a worker.
        release = hold_keys_for_dialog(self.app, session, create=create)
        self._unlock_then(None if accounts is None else list(accounts), then, release, create,
                          leftovers)

    @work(thread=True, exit_on_error=False, group="vault-gate")
    def _unlock_then(self, accounts: list[Account] | None, then: Callable[[], None] | None,
                     release: Callable[[], None], create: bool, leftovers: bool) -> None:
        from tui.passphrase_dialog import on_ui_thread
        from tui.services.session.unlock import SessionError, UnlockCancelled
        from tui.services.store.errors import SecretStoreError

        session, store = self.session, self.store
        try:
            if session is None or store is None:
                raise SessionError("the secret store is opening again; try again in a moment")
            if accounts is None:
                session.ensure_unlocked(create=create)
            else:
                for account in accounts:
                    store.check_store(account)  # StoreUnreachable before anyone is asked
                session.ensure_unlocked_for(accounts, create=create, leftovers=leftovers)
        except UnlockCancelled:
            release()
            return
        except (SessionError, SecretStoreError) as exc:
            release()
            on_ui_thread(self.app, partial(self._show_fault, exc))
            return
        except BaseException:
            release()
            raise

        def go() -> None:
            try:
                if then is not None:
                    then()  # first, so the keys held meanwhile reach what it opens
            finally:
                release()

        on_ui_thread(self.app, go)

    def on_vault_unlocked(self, message: VaultUnlocked) -> None:
        """The vault was opened, from this screen or another: say so, drop an old fault."""
        self._update_status()
        self._clear_fault()

    def action_copy(self, field: str) -> None:
        """Copy one field of the selected account (the session asks to unlock a locked vault)."""
        from tui.screens.credential_copy import copy_field
        from tui.screens.handoff_gate import gated

        account = self.selected
        if account is None or self.store is None or self.session is None:
            return
        if field == "passphrase" and not _has_passphrase(account):
            # Information, not a failure: there is nothing to copy, and no unlock is needed.
            self.notify(f"{exchange_label(account)} keys have no passphrase: leave the "
                        "terminal's passphrase field empty. Nothing to copy.",
                        title="No passphrase", markup=False)
            return
        self._greeted = True
        session = self.session
        # The last check's verdict first (issue 19): a risky key is asked about; then the
        # session asks for the vault's passphrase if it needs one.
        gated(self, session, account,  # type: ignore[arg-type]
              lambda checked: copy_field(self, session, checked, field))

    def show_lock_state(self) -> None:
        """Show whether the vault is locked and when it will be (the app calls this after each
        of its session's ticks)."""
        # Each tick asks; only a line that changed is drawn again (and the footer's keys looked
        # at again): an idle app stays quiet between the minutes of its countdown.
        if self.secrets is not None and self._status_line() != getattr(self, "_shown_status", None):
            self._update_status()

    def action_lock(self) -> None:
        """Lock the vault now (the derived key leaves memory)."""
        session = self.session
        if session is not None and session.lock():
            self._update_status()
            self.notify("Vault locked. Its passphrase is asked for on next use.",
                        title="Vault locked")

    def action_unlock(self) -> None:
        """Ask for the vault passphrase."""
        if self.secrets is not None and self.secrets.needs_unlock:
            self._with_secrets(None)
