"""The edit form: an account's name, environment and whitelist. Its key is left as it is
(a new key goes through the rotate form, which checks it)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult

from tui.screens.account_form.base import AccountFormScreen, FormMode, Settings
from tui.services.exchanges import exchange

if TYPE_CHECKING:
    from tui.services.store.accounts import AccountStore
    from tui.services.store.model import Account
    from tui.services.verify.report import KeyReport


class EditAccountScreen(AccountFormScreen):
    """Edit one account's settings. Dismisses with a SaveResult, or None when left unsaved."""

    mode: ClassVar[FormMode] = FormMode.EDIT

    def __init__(self, store: AccountStore, account: Account,
                 existing: tuple[Account, ...] = ()) -> None:
        super().__init__(store, account, existing)

    def _title(self) -> str:
        assert self.account is not None
        return f"Edit {self.account.name} ({exchange(self.account.exchange).label})"

    def _compose_fields(self) -> ComposeResult:
        yield self._name_row()
        yield self._exchange_row()
        yield from self._settings_rows()

    def _store(self, settings: Settings | None, creds: dict[str, str] | None
               ) -> tuple[Account, KeyReport | None]:
        assert self.account is not None and settings is not None
        account = self.store.update(
            self.account.id,
            name=settings.name,
            environment=settings.environment,
            base_url=settings.custom_url,
            whitelist=settings.whitelist,
            terminal=settings.terminal or "",
            own_list=settings.own_list,
        )
        return account, None
