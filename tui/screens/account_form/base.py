"""What the three account forms share: the screen's frame, the settings fields, saving, leaving.

Every check runs on the values as typed and nothing is ever cleared on a failed save: the user
fixes the marked field and saves again. Saving runs in a thread worker (the secret store may
block); each form says in ``_store`` what saving means for it (add, update, rotate).

Handlers named ``on_<event>`` are defined here only: Textual calls every class's own ``on_mount``
along the MRO, so a form hooks in through ``_mounted`` instead of a second ``on_mount``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Select, Static

from tui.services.core.text import clean, clean_lines
from tui.services.exchanges import exchange
from tui.services.exchanges.environments import Environment
from tui.styles import tcss
from tui.widgets.field_row import FieldRow

if TYPE_CHECKING:
    from collections.abc import Callable

    from tui.services.store.accounts import AccountStore
    from tui.services.store.model import Account, OwnList
    from tui.services.verify.report import KeyReport

#: The environment choice that shows the URL field.
CUSTOM = "custom"
#: The terminal choice for "not said".
NO_TERMINAL = "unset"


def sentence(message: str) -> str:
    """A service message (lower-case clause) as a sentence for a field."""
    message = message.strip()
    if not message:
        return message
    message = message[0].upper() + message[1:]
    return message if message.endswith((".", "?", "!")) else message + "."


def environment_choice(env: Environment) -> Text:
    """One line of the environment picker: label and host, and what the registry says to doubt
    (an unconfirmed host, one keylink cannot check). Registry text is data: shown plain (a
    Rich ``Text``, never markup; Select's type-to-search reads it)."""
    marks = [mark for mark, shown in (("unconfirmed host", not env.confirmed),
                                      ("keylink cannot check it", not env.checkable)) if shown]
    extra = f"  ({'; '.join(marks)})" if marks else ""
    return Text(clean(f"{env.label}  ·  {env.base_url}{extra}"))


class FormMode(Enum):
    """What the form is for."""

    ADD = "add"
    EDIT = "edit"
    ROTATE = "rotate"


@dataclass(frozen=True)
class SaveResult:
    """What the form hands back when it saved: the account and what was done to it."""

    account_id: str
    name: str
    mode: FormMode
    #: The check a generated key passed before the account switched to it (rotate only).
    report: KeyReport | None = None


@dataclass(frozen=True)
class Settings:
    """The checked settings fields, as the store takes them (the add and edit forms)."""

    name: str
    environment: str
    #: The base URL typed for a custom environment (None: the environment's own).
    custom_url: str | None
    whitelist: str
    #: The terminal id chosen (None: not said).
    terminal: str | None = None
    #: The account's own addresses typed in the form (None: none, or unchanged).
    own_list: OwnList | None = None


class Unsaved(Exception):
    """Not saved (yet), and the form has already told the user why: nothing more to say."""


class AccountFormScreen(Screen["SaveResult | None"]):
    """One account form. Dismisses with a SaveResult, or None when left unsaved."""

    DEFAULT_CSS = tcss(__file__, "account_form.tcss")

    BINDINGS = [
        # Not a priority binding: the key then travels through the focused input's queue, after
        # the characters typed before it, so a save never reads a half-typed value.
        Binding("ctrl+s", "save", "Save", id="account_form.save",
                tooltip="Save the account (press again to accept a warning)"),
        Binding("escape", "leave", "Cancel", id="account_form.cancel",
                tooltip="Leave the form (asks first when something changed)"),
    ]

    #: What this form is for (handed back in its SaveResult).
    mode: ClassVar[FormMode]
    #: The field focused when the form opens.
    FIRST_FIELD: ClassVar[str] = "#name"

    def __init__(
        self,
        store: AccountStore,
        account: Account | None = None,
        existing: tuple[Account, ...] = (),
    ) -> None:
        super().__init__()
        self.store = store
        self.account = account
        #: The other accounts, for the unique-name check.
        self.existing = existing
        self._initial: dict[str, str] = {}
        self._saving = False

    # -- building ------------------------------------------------------------------------------

    @property
    def exchange_id(self) -> str:
        assert self.account is not None
        return self.account.exchange

    def _title(self) -> str:
        raise NotImplementedError

    def compose(self) -> ComposeResult:
        yield Header(icon="⚿")
        yield Static(clean(self._title()), id="form-title", markup=False)  # names an account
        yield Static("", id="form-banner", markup=False)
        with VerticalScroll(id="fields"):
            yield from self._compose_fields()
        yield Footer()

    def _compose_fields(self) -> ComposeResult:
        raise NotImplementedError

    def _name_row(self) -> FieldRow:
        account = self.account
        return FieldRow(
            "name",
            "Display name",
            Input(
                value=account.name if account else "",
                placeholder="e.g. Bybit main (at most 40 characters)",
                id="name",
            ),
        )

    def _exchange_row(self) -> FieldRow:
        """The exchange as text: only a new account chooses it."""
        return FieldRow("exchange", "Exchange", Static(exchange(self.exchange_id).label,
                                                       classes="value"))

    def _settings_rows(self) -> ComposeResult:
        """Environment, its custom URL, and the whitelist (the add and edit forms)."""
        info = exchange(self.exchange_id)
        env_value, url = self._initial_environment()
        yield FieldRow(
            "environment",
            "Environment",
            Select(
                self._environment_options(info.id),
                allow_blank=False,
                value=env_value,
                id="environment",
            ),
        )
        url_row = FieldRow(
            "url",
            "Base URL",
            Input(value=url, placeholder="https://… (http only to this machine)", id="url"),
        )
        url_row.display = env_value == CUSTOM
        yield url_row
        yield self._terminal_row()
        yield FieldRow(
            "whitelist",
            "Whitelist",
            Select(
                self._whitelist_options(),
                allow_blank=False,
                value=self._initial_whitelist(info.id),
                id="whitelist",
            ),
        )
        yield self._own_list_row()

    def _initial_environment(self) -> tuple[str, str]:
        account = self.account
        if account is None:
            return exchange(self.exchange_id).default_environment(), ""
        known = {env.id for env in exchange(account.exchange).environments}
        if account.environment in known:
            return account.environment, ""
        return CUSTOM, account.base_url

    def _initial_whitelist(self, exchange_id: str) -> str:
        if self.account is not None:
            return self.account.whitelist
        return self._default_whitelist(exchange_id, self._initial_terminal())

    # -- the terminal ----------------------------------------------------------------------------

    def _own_list_row(self) -> FieldRow:
        """The account's own addresses (a per-user list, or the user's server): shown while the
        whitelist is "own"."""
        from tui.services.terminals.catalogue import OWN_LIST

        own = self.account.own_list if self.account is not None else None
        row = FieldRow("own_ips", "Server addresses", Input(
            value=",".join(own.addresses) if own else "",
            placeholder="the list your terminal shows you, or your server's public address",
            id="own_ips"))
        row.display = self._initial_whitelist(self.exchange_id) == OWN_LIST
        return row

    @on(Select.Changed, "#whitelist")
    def _whitelist_changed(self, event: Select.Changed) -> None:
        from tui.services.terminals.catalogue import OWN_LIST

        own = event.value == OWN_LIST
        self._row("own_ips").display = own
        if not own:
            self._row("own_ips").show(None)

    def _initial_terminal(self) -> str:
        """The account's terminal; for a new one, the terminal last chosen in the guide."""
        from tui.services.terminals.catalogue import terminals

        if self.account is not None:
            chosen = self.account.terminal or NO_TERMINAL
        else:
            chosen = getattr(getattr(self.app, "settings", None), "guide_terminal", "")
        return chosen if chosen in terminals() else NO_TERMINAL

    def _terminal_row(self) -> FieldRow:
        from tui.services.terminals.catalogue import terminals

        initial = self._initial_terminal()
        #: The terminal whose whitelist the form last set (see _terminal_changed).
        self._terminal_shown = initial
        options = [(item.name, item.id) for item in terminals().values()]
        return FieldRow("terminal", "Terminal", Select(
            [("Not said", NO_TERMINAL), *options], allow_blank=False, value=initial,
            id="terminal"))

    @staticmethod
    def _default_whitelist(exchange_id: str, terminal_id: str) -> str:
        """The chosen terminal's usual whitelist on this exchange (the exchange's without one)."""
        from tui.services.terminals import catalogue

        if terminal_id == NO_TERMINAL:
            return exchange(exchange_id).default_whitelist
        return catalogue.default_whitelist(catalogue.terminal(terminal_id), exchange_id)

    @on(Select.Changed, "#terminal")
    def _terminal_changed(self, event: Select.Changed) -> None:
        # Select also reports its first value on mount: only a real change moves the whitelist
        # (an edited account keeps the whitelist it has).
        if not isinstance(event.value, str) or event.value == self._terminal_shown:
            return
        self._terminal_shown = event.value
        self.query_one("#whitelist", Select).value = self._default_whitelist(
            self.exchange_id, event.value)

    @staticmethod
    def _environment_options(exchange_id: str) -> list[tuple[str, str]]:
        info = exchange(exchange_id)
        # From the registry (tui/content/environments.toml and KEYLINK_ENVIRONMENTS).
        options = [(environment_choice(env), env.id) for env in info.pickable]
        options.append(("Custom URL…", CUSTOM))
        return options

    @staticmethod
    def _whitelist_options() -> list[tuple[str, str]]:
        from tui.services.terminals.catalogue import LINKED, NO_LIST, OWN_LIST, all_lists

        def label(entry) -> str:  # a served list may not be fetched yet: say so
            fetched = entry.addresses_for() or not entry.endpoint
            return entry.name if fetched else f"{entry.name}, not fetched yet"

        # Linked first: it is the guide's safest way (the exchange manages the key's addresses).
        return [("Linked to the terminal (the exchange manages its IPs)", LINKED),
                *((label(entry), entry.id) for entry in all_lists()),
                ("This account's own list (per user or your server)", OWN_LIST),
                ("None (the key is not bound to a terminal's list)", NO_LIST)]

    def on_mount(self) -> None:
        for select in self.query(Select):
            self.watch(select, "expanded", self._select_list_watcher(select), init=False)
        self._initial = self._values()
        self.query_one(self.FIRST_FIELD).focus()
        self._mounted()

    def _mounted(self) -> None:
        """What a form does once it is shown (a hook: see the module's docstring)."""

    def _select_list_watcher(self, select: Select[str]) -> Callable[[bool], None]:
        # One parameter: Textual passes (old, new) to a callback that takes two.
        def expanded_changed(expanded: bool) -> None:
            self._fit_select_list(select, expanded)

        return expanded_changed

    def _fit_select_list(self, select: Select[str], expanded: bool) -> None:
        """Keep an opened select list off the footer: Textual keeps it inside the screen, and
        the footer (the form's keys) is part of the screen. Low on a short terminal (a banner
        above pushes the fields down) the list gets the rows left above the footer, and the
        form scrolls the select up first when that is too few to be of use."""
        if not expanded:
            return
        overlay = select.query_one("SelectOverlay")
        footer_y = self.query_one(Footer).region.y
        room = footer_y - select.region.bottom
        if room < 6:
            fields = self.query_one("#fields", VerticalScroll)
            # Up by as much as the fields can scroll, at most to their top.
            shift = min(select.region.y - fields.region.y,
                        int(fields.max_scroll_y - fields.scroll_y))
            if shift > 0:
                fields.scroll_to(y=fields.scroll_y + shift, animate=False, immediate=True)
                room += shift
        overlay.styles.max_height = max(3, min(12, room))

    # -- reading the form ----------------------------------------------------------------------

    def _values(self) -> dict[str, str]:
        """Every field's current value, as typed."""
        values: dict[str, str] = {}
        for widget in self.query("#fields Input, #fields Select").results():
            if widget.id is None:
                continue
            value = widget.value
            values[widget.id] = value if isinstance(value, str) else ""
        return values

    @property
    def dirty(self) -> bool:
        """True when a field differs from what the form opened with."""
        return self._values() != self._initial

    def _has_row(self, field_id: str) -> bool:
        return bool(self.query(f"#row-{field_id}"))

    def _row(self, field_id: str) -> FieldRow:
        return self.query_one(f"#row-{field_id}", FieldRow)

    def _banner(self, text: str = "", kind: str = "") -> None:
        banner = self.query_one("#form-banner", Static)
        banner.update(clean_lines(text))  # store errors carry names and paths
        for name in ("error", "warning", "busy"):
            banner.set_class(kind == name and bool(text), f"-{name}")

    # -- reacting to edits ---------------------------------------------------------------------

    @on(Select.Changed, "#environment")
    def _environment_changed(self, event: Select.Changed) -> None:
        custom = event.value == CUSTOM
        self._row("url").display = custom
        if not custom:
            self._row("url").show(None)

    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        field_id = event.input.id or ""
        # A shown message follows the value as it is fixed; a new message waits for blur or save.
        if field_id and self._has_row(field_id) and self._row(field_id).message:
            self._check_field(field_id)

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        widget = event.widget
        if isinstance(widget, Input) and widget.id and widget.value and self._has_row(widget.id):
            self._check_field(widget.id)

    def _check_field(self, field_id: str) -> None:
        """Check one field on its own and show the result under it."""
        values = self._values()
        row = self._row(field_id)
        if field_id == "name":
            row.show(self._name_problem(values.get("name", "")))
        elif field_id == "url":
            row.show(self._url_problem(values))

    def _name_problem(self, name: str) -> str | None:
        from tui.services.store.model import validate_name

        try:
            validate_name(
                name,
                existing=self.existing,
                ignore_id=self.account.id if self.account else None,
            )
        except ValueError as exc:
            return sentence(str(exc))
        return None

    def _url_problem(self, values: dict[str, str]) -> str | None:
        from tui.services.store.model import resolve_base_url

        try:
            resolve_base_url(self.exchange_id, CUSTOM, values.get("url", ""))
        except ValueError as exc:
            return sentence(str(exc))
        return None

    # -- saving --------------------------------------------------------------------------------

    def action_save(self) -> None:
        """Check every field; save when nothing blocks (a second save accepts warnings)."""
        if self._saving:
            return
        values = self._values()
        errors: list[str] = []
        warnings: list[str] = []
        settings = self._check_settings(values, errors)
        try:
            creds = self._check_credentials(values, errors, warnings)
        except Unsaved:
            return  # the form said why on its banner
        if errors:
            self._banner(
                "Not saved: fix the field(s) marked in red. Everything you typed is still here.",
                "error",
            )
            self._focus_field(errors[0])
            return
        if warnings and not self._accept_warnings(values):
            self._banner(
                "Check the warning(s) in yellow. Press ctrl+s again to save the values as they "
                "are.",
                "warning",
            )
            self._focus_field(warnings[0])
            return

        self._saving = True
        self._banner(self._saving_text(), "busy")
        self._save(settings, creds)

    def _check_settings(self, values: dict[str, str], errors: list[str]) -> Settings | None:
        """Check the name and the URL (the add and edit forms); what saving them needs."""
        from tui.services.store.model import resolve_base_url, validate_name

        name = ""
        try:
            name = validate_name(
                values.get("name", ""),
                existing=self.existing,
                ignore_id=self.account.id if self.account else None,
            )
            self._row("name").show(None)
        except ValueError as exc:
            self._row("name").show(sentence(str(exc)))
            errors.append("name")
        environment = values.get("environment", "")
        custom_url = values.get("url", "") if environment == CUSTOM else None
        try:
            resolve_base_url(self.exchange_id, environment, custom_url)
            self._row("url").show(None)
        except ValueError as exc:
            self._row("url").show(sentence(str(exc)))
            errors.append("url")
        terminal = values.get("terminal", NO_TERMINAL)
        own_list = self._check_own_list(values, errors)
        return Settings(name, environment, custom_url, values.get("whitelist", ""),
                        None if terminal == NO_TERMINAL else terminal, own_list)

    def _check_own_list(self, values: dict[str, str], errors: list[str]) -> OwnList | None:
        """The Server addresses field, checked, when the whitelist is the account's own list
        (None when it is not, or the field is unchanged)."""
        from tui.services.terminals import own, whitelist
        from tui.services.terminals.catalogue import OWN_LIST

        text = values.get("own_ips", "").strip()
        kept = self.account.own_list if self.account is not None else None
        if values.get("whitelist") != OWN_LIST:
            return None
        if kept is not None and text == ",".join(kept.addresses):
            return None  # unchanged: keep its date
        if not text:
            self._row("own_ips").show("Paste the addresses your terminal shows you, or type "
                                      "your server's public address.")
            errors.append("own_ips")
            return None
        try:
            result = own.own_list_from_text(text, "typed in the form")
        except whitelist.WhitelistError as exc:
            self._row("own_ips").show(sentence(str(exc).removeprefix("typed in the form: ")))
            errors.append("own_ips")
            return None
        self._row("own_ips").show(None)
        return result

    def _check_credentials(self, values: dict[str, str], errors: list[str],
                           warnings: list[str]) -> dict[str, str] | None:
        """The credential fields' checks (none here): their values to save. Raises ``Unsaved``
        once the form has said why it cannot save yet."""
        return None

    def _accept_warnings(self, values: dict[str, str]) -> bool:
        """True when the user has seen these warnings and saves anyway."""
        return True

    def _saving_text(self) -> str:
        return "Saving…"

    def _focus_field(self, field_id: str) -> None:
        target = "url" if field_id == "url" else field_id
        widgets = self.query(f"#{target}")
        if widgets:
            # Our own scroll below, not focus's animated one: the two raced, and the form was
            # left at a different spot each time.
            widgets.first().focus(scroll_visible=False)
            # After the refresh: the message just shown under the field changes the row's height.
            self.call_after_refresh(
                self.query_one("#fields", VerticalScroll).scroll_to_widget,
                self._row(field_id),
                animate=False,
            )

    @work(thread=True, exit_on_error=False, exclusive=True, group="account-form")
    def _save(self, settings: Settings | None, creds: dict[str, str] | None) -> None:
        from tui.services.store.errors import SecretStoreError
        from tui.services.store.model import AccountError, DuplicateName

        try:
            account, report = self._store(settings, creds)
        except Unsaved:
            return
        except DuplicateName as exc:
            self.app.call_from_thread(self._save_failed, sentence(str(exc)), "name")
        except (AccountError, SecretStoreError, ValueError) as exc:
            self.app.call_from_thread(self._save_failed, str(exc), None)
        except Exception as exc:  # keep the form usable; the type only (its text may hold data)
            self.app.call_from_thread(
                self._save_failed, f"an unexpected {type(exc).__name__} happened", None
            )
        else:
            result = SaveResult(account.id, account.name, self.mode, report)
            self.app.call_from_thread(self.dismiss, result)

    def _store(self, settings: Settings | None, creds: dict[str, str] | None
               ) -> tuple[Account, KeyReport | None]:
        """Save to the store (in the save worker's thread): the account and, for a rotation
        checked first, that check. Raises ``Unsaved`` once the form has said why not yet."""
        raise NotImplementedError

    def _save_failed(self, message: str, field_id: str | None) -> None:
        self._saving = False
        if field_id is not None:
            self._row(field_id).show(message)
            self._focus_field(field_id)
            self._banner("Not saved: fix the field marked in red.", "error")
        else:
            self._banner(f"Not saved: {message}. Everything you typed is still here.", "error")

    # -- leaving -------------------------------------------------------------------------------

    def action_leave(self) -> None:
        """Leave the form; asks first when there are unsaved changes."""
        if self._saving:
            return
        if not self.dirty:
            self.dismiss(None)
            return
        from tui.screens.confirm import ConfirmScreen

        def answered(discard: bool | None) -> None:
            if discard:
                self.dismiss(None)

        self.app.push_screen(
            ConfirmScreen(
                "Leave without saving?",
                "The form has changes that are not saved. Leaving discards them.",
                yes="Discard",
                no="Keep editing",
                danger=True,
            ),
            answered,
        )
