"""Deleting an account from the accounts screen: ask, remove it and its secret, and when the
secret store refuses, say why and offer to drop the account anyway.

One commit point: the account store removes the secret and the account together (a removal cut
short leaves the account marked, and its row says so). A message says "Deleted" only when both
are gone, "Removed from keylink" with where the secret stays when only the account went.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import work

from tui.widgets.accounts_table import exchange_label

if TYPE_CHECKING:
    from collections.abc import Callable

    from textual.app import App

    from tui.services.session.session import Session
    from tui.services.store.accounts import AccountStore
    from tui.services.store.model import Account
    from tui.services.store.secrets import SecretStore
    from tui.services.verify.report import KeyReport


class DeleteFlow:
    """The accounts screen's d key (a mixin: the screen gives the attributes named below)."""

    if TYPE_CHECKING:
        accounts: list[Account]
        reports: dict[str, KeyReport]
        secrets: SecretStore | None
        store: AccountStore | None
        session: Session | None

        @property
        def app(self) -> App[Any]: ...
        @property
        def selected(self) -> Account | None: ...
        def notify(self, message: str, **kwargs: Any) -> None: ...
        def _with_secrets_for(self, accounts: list[Account] | None,
                              then: Callable[[], None] | None, *,
                              create: bool = False, leftovers: bool = False) -> None: ...
        def _show_fault(self, exc: BaseException) -> None: ...
        def _clear_fault(self) -> None: ...
        def _reload(self, select_id: str | None = None) -> None: ...

    def action_delete(self) -> None:
        """Delete the selected account and its secret, after a confirmation that names the
        store the secret is deleted from."""
        account, session = self.selected, self.session
        if account is None or session is None or self.store is None:
            return
        from tui.screens.confirm import ConfirmScreen
        from tui.services.store.backends import store_label

        # The session's one rule: is the secret in its own store (the vault, in a vault session)?
        in_own_store = session.in_own_store(account)
        # A second copy a cut-short move left in the vault is deleted too, so the vault is asked.
        copy_in_vault = session.needs_vault_for([account], count_unreachable=False,
                                                leftovers=True)
        no_vault = in_own_store and self.secrets is not None and self.secrets.needs_new_vault
        if no_vault:
            what = ("This removes the account from keylink: there is no vault yet, so no secret "
                    "of it is stored here.")
        else:
            what = (f"This removes the account and deletes its stored key and secret from "
                    f"{store_label(self.store.store_of(account))}.")

        def answered(yes: bool | None) -> None:
            if not yes or self.secrets is None:
                return
            if no_vault:
                # There is no vault, so there is no secret to remove: drop the account only.
                self._remove(account.id, account.name, force=True)
            elif not copy_in_vault:
                # Its secret is in another store, which asks its own way (pass: its GPG agent),
                # never the vault's passphrase. One keylink cannot use now fails the removal,
                # which says so and offers to forget the account, rather than dropping it while
                # the secret stays.
                self._remove(account.id, account.name)
            else:
                self._with_secrets_for([account], lambda: self._remove(account.id, account.name),
                                       leftovers=True)

        self.app.push_screen(
            ConfirmScreen(
                f"Delete {account.name}?",
                f"{what} The key itself stays active on {exchange_label(account)}: delete it "
                "there too if you no longer use it.",
                yes="Delete",
                no="Keep",
                danger=True,
            ),
            answered,
        )

    def _neighbour_of(self, account_id: str) -> str | None:
        """The account the cursor should land on once ``account_id`` is gone: the next row,
        or the one before when it was the last."""
        ids = [a.id for a in self.accounts]
        if account_id not in ids:
            return None
        index = ids.index(account_id)
        rest = ids[:index] + ids[index + 1:]
        return rest[min(index, len(rest) - 1)] if rest else None

    @work(thread=True, exit_on_error=False, group="accounts-store")
    def _remove(self, account_id: str, name: str, force: bool = False) -> None:
        from tui.services.store.backends import store_label
        from tui.services.store.errors import SecretStoreError
        from tui.services.store.model import AccountError

        assert self.store is not None and self.session is not None
        neighbour = self._neighbour_of(account_id)
        from tui.services.core.access_log import record_quietly

        account = next((a for a in self.accounts if a.id == account_id), None)
        if account is None:  # gone meanwhile (another keylink removed it)
            self._reload(neighbour)
            return
        try:
            removed = self.session.remove_account(account, force=force)
        except SecretStoreError as exc:
            self.app.call_from_thread(self._show_fault, exc)
            self.app.call_from_thread(self._offer_forced_remove, account_id, name)
            self._reload(account_id)  # a delete that timed out left the account marked
            return
        except AccountError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error")
            return
        left = removed.left
        record_quietly("remove", account, ["secret"], "forgot" if left else "ok")
        self.reports.pop(account_id, None)
        self.app.call_from_thread(self._clear_fault)
        if left:  # forgotten, not deleted: say where the secret stays
            self.app.call_from_thread(self.notify, f"Removed {name} from keylink; {left}.",
                                      title="Removed", severity="warning", markup=False)
        else:
            where = store_label(self.store.store_of(account))
            self.app.call_from_thread(self.notify, f"Deleted {name} and its secret from {where}.",
                                      title="Deleted", markup=False)
        if removed.history_left:
            self.app.call_from_thread(self.notify, f"{removed.history_left[:1].upper()}"
                                      f"{removed.history_left[1:]}.", title="Check history",
                                      severity="warning", markup=False)
        self._reload(neighbour)

    def _offer_forced_remove(self, account_id: str, name: str) -> None:
        """The secret store refused: offer to drop the account anyway (the fix may be elsewhere)."""
        from tui.screens.confirm import ConfirmScreen
        from tui.services.store.backends import store_label

        # The account's own store: it may not be the one keylink could open now.
        account = next((a for a in self.accounts if a.id == account_id), None)
        backend = (store_label(self.store.store_of(account))
                   if account is not None and self.store is not None else "the secret store")

        def answered(yes: bool | None) -> None:
            if yes:
                self._remove(account_id, name, force=True)

        self.app.push_screen(
            ConfirmScreen(
                f"Remove {name} from keylink anyway?",
                f"Its secret could not be deleted (the reason is shown on the accounts screen). "
                f"Fix that and delete again to remove the secret too; or remove the account "
                f"now and its secret may stay in {backend}.",
                yes="Remove anyway",
                no="Keep it",
                danger=True,
            ),
            answered,
        )
