"""The add form: a new account, its exchange chosen here, its key pasted or generated.

Only this form chooses the exchange (the other fields follow the choice), and only it asks
before storing an API key that is stored already under another name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.widgets import Select

from tui.screens.account_form.base import NO_TERMINAL, FormMode, Settings, Unsaved
from tui.screens.account_form.credentials import KIND_HMAC, CredentialFormScreen
from tui.services.core.text import clean
from tui.services.exchanges import exchange, exchanges
from tui.services.store import validation
from tui.widgets.field_row import FieldRow

if TYPE_CHECKING:
    from tui.services.store.accounts import AccountStore
    from tui.services.store.model import Account
    from tui.services.verify.report import KeyReport


class AddAccountScreen(CredentialFormScreen):
    """Add an account. Dismisses with a SaveResult, or None when left unsaved."""

    mode: ClassVar[FormMode] = FormMode.ADD

    def __init__(
        self,
        store: AccountStore,
        existing: tuple[Account, ...] = (),
        exchange_id: str | None = None,
    ) -> None:
        """``exchange_id`` opens the form on that exchange (the guide's "store it" step)."""
        if exchange_id is not None and exchange_id not in exchanges():
            raise ValueError(f"unknown exchange {exchange_id!r}")
        super().__init__(store, None, existing)
        #: The exchange the form opens on (None: the first one).
        self._start_exchange = exchange_id
        #: The API key the user was told is stored already: saving it again stores it anyway.
        self._duplicate_seen_for: str | None = None

    @property
    def exchange_id(self) -> str:
        if self.is_mounted:
            value = self.query_one("#exchange", Select).value
            if isinstance(value, str):
                return value
        return self._start_exchange or next(iter(exchanges()))

    def _title(self) -> str:
        return "Add an account"

    def _compose_fields(self) -> ComposeResult:
        yield self._name_row()
        yield FieldRow(
            "exchange",
            "Exchange",
            Select(
                [(i.label, i.id) for i in exchanges().values()],
                allow_blank=False,
                value=self.exchange_id,
                id="exchange",
            ),
        )
        yield from self._settings_rows()
        yield from self._credential_rows()

    @on(Select.Changed, "#exchange")
    def _exchange_changed(self, event: Select.Changed) -> None:
        if not isinstance(event.value, str):
            return
        info = exchange(event.value)
        environment = self.query_one("#environment", Select)
        environment.set_options(self._environment_options(info.id))
        environment.value = info.default_environment()
        # Both Bybit and OKX start with "mainnet": the value may not change, so Select would keep
        # showing the old exchange's host. Run its watcher anyway to redraw the label.
        environment.mutate_reactive(Select.value)
        terminal = self.query_one("#terminal", Select).value
        self.query_one("#whitelist", Select).value = self._default_whitelist(
            info.id, terminal if isinstance(terminal, str) else NO_TERMINAL)
        self._row(validation.PASSPHRASE).display = info.has_passphrase
        kinds = self.query_one("#key_kind", Select)
        options = self._kind_options(info)
        # Select also reports its first value on mount: leave the choice alone when the kinds
        # on offer did not change (no needless relayout while the form opens).
        if options != self._kind_offer:
            self._kind_offer = options
            kinds.set_options(options)
            kinds.value = KIND_HMAC
        # Shapes differ per exchange: re-check the fields that already show a message.
        for field_id in (validation.API_KEY, validation.SECRET, validation.PASSPHRASE):
            if self._row(field_id).message:
                self._check_field(field_id)

    def _store(self, settings: Settings | None, creds: dict[str, str] | None
               ) -> tuple[Account, KeyReport | None]:
        from tui.services.keys.credentials import Credentials

        assert settings is not None and creds is not None
        if self._duplicate_seen_for != creds["api_key"]:
            others = self.store.names_with_key(self.exchange_id, creds["api_key"])
            if others:
                self.app.call_from_thread(self._duplicate_key, creds["api_key"], others)
                raise Unsaved
        account = self.store.add(
            settings.name,
            self.exchange_id,
            settings.environment,
            Credentials(creds["api_key"], creds["secret"], creds["passphrase"]),
            base_url=settings.custom_url,
            whitelist=settings.whitelist,
            terminal=settings.terminal,
            own_list=settings.own_list,
        )
        return account, None

    def _duplicate_key(self, api_key: str, others: list[str]) -> None:
        """The key is stored already: say under which name, and let a second save store it
        under this name too (rare, but some keep one key under two names on purpose)."""
        self._saving = False
        self._duplicate_seen_for = api_key
        named = ", ".join(f'"{clean(name)}"' for name in others)
        self._row(validation.API_KEY).show(f"This API key is stored already, as {named}.",
                                           blocking=False)
        self._banner(f"This API key is stored already, as {named}. Press ctrl+s again to store "
                     "it under this name too.", "warning")
        self._focus_field(validation.API_KEY)
