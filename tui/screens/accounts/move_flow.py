"""Moving an account's secret to another store from the accounts screen (the m key).

The stores are listed with why each can or cannot be used here (the session asks, off the UI
thread); the move itself is the session's (copy, read back, one commit, delete the old copy),
run in a worker. A vault other than the one this app uses is not offered as a target here (it
would need a second passphrase dialog): `keylink accounts move` does that.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import work

if TYPE_CHECKING:
    from collections.abc import Callable

    from textual.app import App

    from tui.services.session.session import Session
    from tui.services.store.accounts import AccountStore
    from tui.services.store.model import Account
    from tui.services.store.secrets import SecretStore


class MoveFlow:
    """The accounts screen's m key (a mixin: the screen gives the attributes named below)."""

    if TYPE_CHECKING:
        secrets: SecretStore | None
        store: AccountStore | None
        session: Session | None

        @property
        def app(self) -> App[Any]: ...
        @property
        def selected(self) -> Account | None: ...
        def notify(self, message: str, **kwargs: Any) -> None: ...
        def _show_fault(self, exc: BaseException) -> None: ...
        def _clear_fault(self) -> None: ...
        def _reload(self, select_id: str | None = None) -> None: ...

    def action_move(self) -> None:
        """Offer the stores the selected account's secret could move to."""
        account = self.selected
        if account is None or self.store is None:
            return
        self._list_stores(account)

    @work(thread=True, exit_on_error=False, group="accounts-store")
    def _list_stores(self, account: Account) -> None:
        from tui.services.store.backends import VAULT_STORE

        session, store = self.session, self.store
        if session is None or store is None:
            return
        options = [(o.name, o.usable, o.detail) for o in session.store_choices()]
        own = self.secrets.store_id if self.secrets is not None else None
        options = [(name, usable and (name != VAULT_STORE or own == VAULT_STORE),
                    why if name != VAULT_STORE or own == VAULT_STORE else
                    "run `keylink accounts move` to move to the vault while the app uses "
                    "another store")
                   for name, usable, why in options if name != "files"]
        current = store.store_of(account)
        current_name = current if current in ("vault", "pass") else None
        self.app.call_from_thread(self._ask_store, account, options, current_name)

    def _ask_store(self, account: Account, options: list[tuple[str, bool, str]],
                   current: str | None) -> None:
        from tui.screens.store_choice import StoreChoiceScreen

        def chosen(name: str | None) -> None:
            if name:
                # The session's move opens what it needs itself, in the worker (the vault only
                # when the copy to read, a leftover to delete or the target is in it): a key
                # moved from pass to another keyring never asks for the vault's passphrase.
                from tui.passphrase_dialog import hold_keys_for_dialog

                self._move(account, name, hold_keys_for_dialog(self.app, self.session,
                                                               create=True))

        self.app.push_screen(StoreChoiceScreen(f"Move {account.name}'s secret to", options,
                                               current), chosen)

    @work(thread=True, exit_on_error=False, group="accounts-store")
    def _move(self, account: Account, name: str, release: Callable[[], None]) -> None:
        """Move in a worker: the session may ask for the vault's passphrase (in its dialog) and
        copies between stores, which block. ``release``: the key hold taken for the dialog."""
        from tui.services.session.unlock import SessionError, UnlockCancelled
        from tui.services.store.backends import store_label
        from tui.services.store.errors import SecretStoreError
        from tui.services.store.model import AccountError

        session = self.session
        try:
            if session is None:
                return
            moved, left = session.move_account(account, name)
        except UnlockCancelled:
            return  # not now: nothing was moved
        except (SecretStoreError, SessionError) as exc:
            self.app.call_from_thread(self._show_fault, exc)
            return
        except AccountError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error", markup=False)
            return
        finally:
            release()
        self.app.call_from_thread(self._clear_fault)
        where = store_label(moved.secret_store or name)
        if left:
            self.app.call_from_thread(self.notify, f"Moved {moved.name} to {where}; {left}.",
                                      title="Moved", severity="warning", markup=False)
        else:
            self.app.call_from_thread(self.notify, f"Moved {moved.name} to {where}.",
                                      title="Moved", markup=False)
        self._reload(moved.id)
