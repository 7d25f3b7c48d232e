"""The account form: add an account, edit its settings, or rotate its key.

Every check runs on the values as typed and nothing is ever cleared on a failed save: the user
fixes the marked field and saves again. Saving runs in a thread worker (the secret store may block).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Label, Select, Static

from tui.services.core.text import clean, clean_lines
from tui.services.exchanges import exchange, exchanges
from tui.services.keys import keypairs
from tui.services.store import validation
from tui.widgets.secret_input import CredentialInput, SecretInput

if TYPE_CHECKING:
    from collections.abc import Callable

    from tui.services.exchanges.base import ExchangeInfo
    from tui.services.store.accounts import AccountStore
    from tui.services.store.model import Account
    from tui.services.verify.report import KeyReport

#: The key-kind choice: the exchange's HMAC key, or a pair generated here (issue 11).
KIND_HMAC = "hmac"
KIND_ED25519 = "generate-ed25519"
KIND_RSA = "generate-rsa"
#: The input for an encrypted PEM's passphrase (not a credential: it is used once, never stored).
KEY_PASSPHRASE = "key_passphrase"

#: The environment choice that shows the URL field.
CUSTOM = "custom"


def _sentence(message: str) -> str:
    """A service message (lower-case clause) as a sentence for a field."""
    message = message.strip()
    if not message:
        return message
    message = message[0].upper() + message[1:]
    return message if message.endswith((".", "?", "!")) else message + "."


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


class FieldRow(Vertical):
    """A label beside a field, and the field's message (error or warning) under it."""

    DEFAULT_CSS = """
    FieldRow {
        height: auto;
        margin-bottom: 0;
    }
    FieldRow > Horizontal {
        height: auto;
    }
    FieldRow > Horizontal > Label {
        width: 16;
        padding: 1 1 0 0;
        text-align: right;
        color: $text-muted;
    }
    FieldRow > Horizontal > Input, FieldRow > Horizontal > Select {
        width: 1fr;
    }
    FieldRow > Horizontal > .value {
        width: 1fr;
        padding: 1 1 1 1;
    }
    FieldRow > .message {
        display: none;
        margin-left: 16;
        padding: 0 1;
    }
    FieldRow.-error > .message {
        display: block;
        color: $error;
    }
    FieldRow.-warning > .message {
        display: block;
        color: $warning;
    }
    FieldRow.-error > Horizontal > Label {
        color: $error;
    }
    FieldRow.-warning > Horizontal > Label {
        color: $warning;
    }
    """

    def __init__(self, field_id: str, label: str, widget: Any) -> None:
        super().__init__(id=f"row-{field_id}")
        self.field_id = field_id
        self._label = label
        self._widget = widget

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Label(self._label)
            yield self._widget
        yield Static("", classes="message", markup=False)

    def show(self, message: str | None, blocking: bool = True) -> None:
        """Show ``message`` under the field (None clears it)."""
        self.query_one(".message", Static).update(clean_lines(message or ""))
        self.set_class(bool(message) and blocking, "-error")
        self.set_class(bool(message) and not blocking, "-warning")

    @property
    def message(self) -> str:
        return str(self.query_one(".message", Static).content)


#: The secret field's state while a worker reads a pasted RSA key.
_READING = "Reading the private key…"


def pem_reading(check: validation.CredentialCheck) -> bool:
    """True when the secret is a PEM whose reading has not finished yet."""
    issue = check.issues.get(validation.SECRET)
    return issue is not None and issue.message == _READING


class AccountFormScreen(Screen["SaveResult | None"]):
    """Add, edit or rotate one account. Dismisses with a SaveResult, or None when left unsaved."""

    DEFAULT_CSS = """
    AccountFormScreen #form-title {
        padding: 0 1;
        text-style: bold;
        background: $panel;
        width: 1fr;
    }
    AccountFormScreen #form-banner {
        display: none;
        padding: 0 1;
        margin: 0 1;
    }
    AccountFormScreen #form-banner.-error {
        display: block;
        color: $error;
        border-left: thick $error;
    }
    AccountFormScreen #form-banner.-warning {
        display: block;
        color: $warning;
        border-left: thick $warning;
    }
    AccountFormScreen #form-banner.-busy {
        display: block;
        color: $text-muted;
        border-left: thick $primary;
    }
    AccountFormScreen #fields {
        padding: 0 1;
    }
    AccountFormScreen #key-info {
        display: none;
        margin: 0 1 1 1;
        padding: 0 1;
        border-left: thick $primary;
    }
    AccountFormScreen #key-info.-shown {
        display: block;
    }
    AccountFormScreen .note {
        color: $text-muted;
        margin-left: 16;
        padding: 0 1;
    }
    """

    BINDINGS = [
        # Not a priority binding: the key then travels through the focused input's queue, after
        # the characters typed before it, so a save never reads a half-typed value.
        Binding("ctrl+s", "save", "Save", id="account_form.save",
                tooltip="Save the account (press again to accept a warning)"),
        Binding("escape", "leave", "Cancel", id="account_form.cancel",
                tooltip="Leave the form (asks first when something changed)"),
    ]

    def __init__(
        self,
        store: AccountStore,
        mode: FormMode,
        account: Account | None = None,
        existing: tuple[Account, ...] = (),
        exchange_id: str | None = None,
    ) -> None:
        """``exchange_id`` opens the add form on that exchange (the guide's "store it" step)."""
        super().__init__()
        if mode is not FormMode.ADD and account is None:
            raise ValueError(f"the {mode.value} form needs an account")
        if exchange_id is not None and exchange_id not in exchanges():
            raise ValueError(f"unknown exchange {exchange_id!r}")
        #: The exchange the add form opens on (None: the first one).
        self._start_exchange = exchange_id
        self.store = store
        self.mode = mode
        self.account = account
        #: The other accounts, for the unique-name check.
        self.existing = existing
        self._initial: dict[str, str] = {}
        #: Credential values whose warnings the user has seen; saving them again accepts them.
        self._warned_for: dict[str, str] | None = None
        self._saving = False
        #: A key pair generated in this form: its private key becomes the secret on save.
        self._generated: keypairs.ParsedKey | None = None
        #: The key kinds the form currently offers (they follow the chosen exchange).
        self._kind_offer: list[tuple[str, str]] = []
        #: The last PEM secret read and what reading it gave: a field check runs on paste, blur,
        #: every edit while a message shows, and save, and a full RSA-4096 read takes ~0.3 s.
        self._pem_memo: tuple[tuple[str, str, str], validation.PemResult] | None = None
        #: The API key whose locked check the user was told about: saving it again switches.
        self._locked_seen_for: str | None = None
        #: The PEM being read by a worker (exchange, text, key password), if one is.
        self._pem_reading: tuple[str, str, str] | None = None
        #: The API key the user was told is stored already: saving it again stores it anyway.
        self._duplicate_seen_for: str | None = None

    # -- building ------------------------------------------------------------------------------

    @property
    def exchange_id(self) -> str:
        if self.account is not None:
            return self.account.exchange
        if self.is_mounted:
            value = self.query_one("#exchange", Select).value
            if isinstance(value, str):
                return value
        return self._start_exchange or next(iter(exchanges()))

    def _title(self) -> str:
        if self.mode is FormMode.ADD:
            return "Add an account"
        assert self.account is not None
        label = exchange(self.account.exchange).label
        if self.mode is FormMode.EDIT:
            return f"Edit {self.account.name} ({label})"
        return f"New key for {self.account.name} ({label}): it replaces the old one when saved"

    def compose(self) -> ComposeResult:
        yield Header(icon="⚿")
        yield Static(clean(self._title()), id="form-title", markup=False)  # names an account
        yield Static("", id="form-banner", markup=False)
        with VerticalScroll(id="fields"):
            yield from self._compose_fields()
        yield Footer()

    def _compose_fields(self) -> ComposeResult:
        info = exchange(self.exchange_id)
        account = self.account
        if self.mode is not FormMode.ROTATE:
            yield FieldRow(
                "name",
                "Display name",
                Input(
                    value=account.name if account else "",
                    placeholder="e.g. Bybit main (at most 40 characters)",
                    id="name",
                ),
            )
        if self.mode is FormMode.ADD:
            yield FieldRow(
                "exchange",
                "Exchange",
                Select(
                    [(i.label, i.id) for i in exchanges().values()],
                    allow_blank=False,
                    value=info.id,
                    id="exchange",
                ),
            )
        else:
            yield FieldRow("exchange", "Exchange", Static(info.label, classes="value"))
        if self.mode is not FormMode.ROTATE:
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
        if self.mode is not FormMode.EDIT:
            yield FieldRow(
                "key_kind",
                "Key kind",
                Select(self._offer_kinds(info), value=KIND_HMAC, allow_blank=False,
                       id="key_kind"),
            )
            yield Static("", id="key-info", markup=False)
            yield FieldRow(
                validation.API_KEY,
                "API key",
                CredentialInput(placeholder="paste the API key", id=validation.API_KEY),
            )
            yield FieldRow(
                validation.SECRET,
                "Secret",
                SecretInput(placeholder="paste the secret", id=validation.SECRET),
            )
            passphrase_row = FieldRow(
                validation.PASSPHRASE,
                "Passphrase",
                SecretInput(
                    placeholder="the passphrase you set on the exchange",
                    id=validation.PASSPHRASE,
                ),
            )
            passphrase_row.display = info.has_passphrase
            yield passphrase_row
            key_pass_row = FieldRow(
                KEY_PASSPHRASE,
                "Key password",
                SecretInput(placeholder="the passphrase that encrypts this private key",
                            id=KEY_PASSPHRASE),
            )
            key_pass_row.display = False
            yield key_pass_row
            yield Static(
                "Secret fields are hidden: ctrl+r shows or hides the focused one. "
                "ctrl+s saves; esc leaves.",
                classes="note",
            )

    def _offer_kinds(self, info: ExchangeInfo) -> list[tuple[str, str]]:
        self._kind_offer = self._kind_options(info)
        return self._kind_offer

    @staticmethod
    def _kind_options(info: ExchangeInfo) -> list[tuple[str, str]]:
        options = [("HMAC: the exchange makes the key and its secret", KIND_HMAC)]
        if info.key_kind("ed25519"):
            options.append(("Ed25519: generate the key pair here", KIND_ED25519))
        if info.key_kind("rsa"):
            options.append(("RSA 2048: generate the key pair here", KIND_RSA))
        return options

    def _initial_environment(self) -> tuple[str, str]:
        account = self.account
        if account is None:
            return exchange(self.exchange_id).environments[0].id, ""
        known = {env.id for env in exchange(account.exchange).environments}
        if account.environment in known:
            return account.environment, ""
        return CUSTOM, account.base_url

    def _initial_whitelist(self, exchange_id: str) -> str:
        if self.account is not None:
            return self.account.whitelist
        return exchange(exchange_id).default_whitelist

    @staticmethod
    def _environment_options(exchange_id: str) -> list[tuple[str, str]]:
        info = exchange(exchange_id)
        options = [(f"{env.label}  ·  {env.base_url}", env.id) for env in info.environments]
        options.append(("Custom URL…", CUSTOM))
        return options

    @staticmethod
    def _whitelist_options() -> list[tuple[str, str]]:
        from tui.services.terminals.whitelist import profiles
        from tui.services.verify.run import LINKED, NO_WHITELIST

        # Linked first: it is the guide's safest way (the exchange manages the key's addresses).
        return [("Linked to the terminal (the exchange manages its IPs)", LINKED),
                *((p.name, p.id) for p in profiles().values()),
                ("None (the key is not bound to a terminal's list)", NO_WHITELIST)]

    def on_mount(self) -> None:
        for select in self.query(Select):
            self.watch(select, "expanded", self._select_list_watcher(select), init=False)
        self._initial = self._values()
        first = "#api_key" if self.mode is FormMode.ROTATE else "#name"
        self.query_one(first).focus()
        if self.mode is FormMode.ROTATE:
            self._read_current_kind()

    @work(thread=True, exclusive=True, group="current-kind", exit_on_error=False)
    def _read_current_kind(self) -> None:
        """Learn the kind of the key being replaced (the secret store may block: a worker), so a
        new key starts as the same kind: an Ed25519 account rotates to a new Ed25519 pair."""
        from tui.services.store.secrets import SecretStoreError

        assert self.account is not None
        try:
            secret = self.store.credentials(self.account).secret
            kind = keypairs.kind_of_secret(secret).kind
        except (SecretStoreError, ValueError):
            return  # the save will meet the same problem and say it; HMAC stays the default
        finally:
            secret = ""  # no reference to the old secret outlives this
        self.app.call_from_thread(self._preset_kind, kind)

    def _preset_kind(self, kind: str) -> None:
        choice = {keypairs.ED25519: KIND_ED25519, keypairs.RSA: KIND_RSA}.get(kind)
        if choice is None or choice not in {value for _, value in self._kind_offer}:
            return
        if self.dirty:
            return  # the user already chose or typed: their choice stands
        self.query_one("#key_kind", Select).value = choice
        # What the form now starts with: leaving it as it is asks nothing.
        self._initial = {**self._initial, "key_kind": choice}

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

    def on_unmount(self) -> None:
        # Closed: no reference to a private key outlives the form.
        self._pem_memo = None
        self._pem_reading = None
        self._generated = None

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

    @on(Select.Changed, "#exchange")
    def _exchange_changed(self, event: Select.Changed) -> None:
        if not isinstance(event.value, str):
            return
        info = exchange(event.value)
        environment = self.query_one("#environment", Select)
        environment.set_options(self._environment_options(info.id))
        environment.value = info.environments[0].id
        # Both Bybit and OKX start with "mainnet": the value may not change, so Select would keep
        # showing the old exchange's host. Run its watcher anyway to redraw the label.
        environment.mutate_reactive(Select.value)
        self.query_one("#whitelist", Select).value = info.default_whitelist
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

    @on(Select.Changed, "#key_kind")
    def _kind_changed(self, event: Select.Changed) -> None:
        generate = event.value in (KIND_ED25519, KIND_RSA)
        if not generate and self._generated is None and self._row(validation.SECRET).display:
            return  # Select's report of its first value on mount: nothing to change
        self._generated = None
        self._row(validation.SECRET).display = not generate
        self._show_key_info(None)
        if generate:
            self._show_key_info(Content("Generating the key pair…"))
            self._generate(keypairs.ED25519 if event.value == KIND_ED25519 else keypairs.RSA)

    @work(thread=True, exclusive=True, group="keypair")
    def _generate(self, kind: str) -> None:
        """Make the pair off the UI thread (RSA takes a moment), then show and copy its public
        key. The private key stays in this screen until saved to the secret store."""
        from functools import partial

        from tui.services.handoff.clipboard import copy_text

        pair = keypairs.generate(kind)
        app = self.app
        app.call_from_thread(self._generated_pair, pair)
        result = copy_text(pair.public_pem, partial(app.call_from_thread, app.copy_to_clipboard))
        app.call_from_thread(self.notify, f"The public key: {result.describe()}.",
                             title="Copied", markup=False)

    def _generated_pair(self, pair: keypairs.ParsedKey) -> None:
        self._generated = pair
        label = exchange(self.exchange_id).label
        self._show_key_info(Content(
            f"New {pair.kind.label} key pair. The private key stays in keylink. Register this "
            f"public key on {label}'s API page, then paste the API key {label} gives you:\n\n"
            f"{pair.public_pem}"))
        # The whole public key in view, so it can be read and selected without scrolling.
        self.call_after_refresh(self.query_one("#fields", VerticalScroll).scroll_to_widget,
                                self.query_one("#key-info", Static), animate=False)

    def _show_key_info(self, text: Content | None) -> None:
        box = self.query_one("#key-info", Static)
        if text is None and not box.has_class("-shown"):
            return  # nothing shown, nothing to hide: no extra layout pass on every check
        box.update(text or "")
        box.set_class(text is not None, "-shown")

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

    @on(CredentialInput.Pasted)
    def _pasted(self, event: CredentialInput.Pasted) -> None:
        # A paste is where bad characters come from: check it at once, not on blur.
        field_id = event.input.id
        if event.removed and field_id in validation.FIELD_LABELS:
            label = validation.FIELD_LABELS[field_id]
            self.notify(f"Removed from the pasted {label}: {', '.join(event.removed)}.",
                        title="Paste cleaned up", markup=False)
        if field_id and self._has_row(field_id):
            self._check_field(field_id)

    def _check_field(self, field_id: str) -> None:
        """Check one field on its own and show the result under it."""
        values = self._values()
        row = self._row(field_id)
        if field_id in validation.FIELD_LABELS:
            check = self._credential_check(values)
            issue = check.issues.get(field_id)
            if issue is not None and issue.message == _READING:
                row.show(None)  # the key box says it is being read; the answer follows
                return
            if issue is not None and values.get(field_id, "") == "" and not row.message:
                return  # an empty field is only reported when saving
            row.show(issue.message if issue else None, issue.blocking if issue else True)
        elif field_id == "name":
            row.show(self._name_problem(values.get("name", "")))
        elif field_id == "url":
            row.show(self._url_problem(values))

    def _credential_check(self, values: dict[str, str]) -> validation.CredentialCheck:
        """The credential checks; a generated pair's private key stands in for the secret, and a
        pasted PEM's kind and public key are shown so the user can compare them."""
        generated = self._generated is not None
        secret = self._generated.private_pem if self._generated else values.get(
            validation.SECRET, "")
        check = validation.check_credentials(
            exchange(self.exchange_id),
            values.get(validation.API_KEY, ""),
            secret,
            values.get(validation.PASSPHRASE, ""),
            values.get(KEY_PASSPHRASE, ""),
            # A pair made here needs no reading back.
            pem_check=self._pem_check if self._generated is None else self._generated_check,
        )
        wanted = check.needs_key_passphrase or bool(values.get(KEY_PASSPHRASE))
        if self._row(KEY_PASSPHRASE).display != wanted:
            self._row(KEY_PASSPHRASE).display = wanted
        if not generated:
            if self._pem_reading is not None and pem_reading(check):
                self._show_key_info(Content(_READING))
            elif check.key is not None:
                self._show_key_info(Content(
                    f"Recognised {check.key.kind.a_label} private key. Its public key (compare "
                    f"it with the one {exchange(self.exchange_id).label} shows):\n\n"
                    f"{check.key.public_pem}"))
            else:
                self._show_key_info(None)
        return check

    def _pem_check(self, info: ExchangeInfo, pem: str, key_passphrase: str
                   ) -> validation.PemResult:
        memo_key = (info.id, pem, key_passphrase)
        if self._pem_memo is not None and self._pem_memo[0] == memo_key:
            return self._pem_memo[1]
        if len(pem) <= keypairs.SLOW_PEM_CHARS:  # Ed25519: read at once (well under 1 ms)
            self._pem_memo = (memo_key, validation.check_pem_secret(info, pem, key_passphrase))
            return self._pem_memo[1]
        # An RSA key: its full check would freeze the screen, so a worker has a child do it.
        if self._pem_reading != memo_key:
            self._pem_reading = memo_key
            self._read_pem(info, pem, key_passphrase)
        return None, _READING, False

    def _generated_check(self, info: ExchangeInfo, pem: str, key_passphrase: str
                         ) -> validation.PemResult:
        return self._generated, None, False

    @work(thread=True, exclusive=True, group="pem-read", exit_on_error=False)
    def _read_pem(self, info: ExchangeInfo, pem: str, key_passphrase: str) -> None:
        result: validation.PemResult
        try:
            result = validation.check_pem_secret(info, pem, key_passphrase,
                                                 read=keypairs.parse_elsewhere)
        except Exception as exc:  # never left "reading" for good; the type only (no key text)
            result = (None, f"keylink could not read this private key ({type(exc).__name__}).",
                      False)
        self.app.call_from_thread(self._pem_read, (info.id, pem, key_passphrase), result)

    def _pem_read(self, memo_key: tuple[str, str, str], result: validation.PemResult) -> None:
        if self._pem_reading != memo_key:
            return  # the field changed while this key was read
        self._pem_reading = None
        self._pem_memo = (memo_key, result)
        self._check_field(validation.SECRET)

    def _name_problem(self, name: str) -> str | None:
        from tui.services.store.model import validate_name

        try:
            validate_name(
                name,
                existing=self.existing,
                ignore_id=self.account.id if self.account else None,
            )
        except ValueError as exc:
            return _sentence(str(exc))
        return None

    def _url_problem(self, values: dict[str, str]) -> str | None:
        from tui.services.store.model import resolve_base_url

        try:
            resolve_base_url(self.exchange_id, CUSTOM, values.get("url", ""))
        except ValueError as exc:
            return _sentence(str(exc))
        return None

    # -- saving --------------------------------------------------------------------------------

    def action_save(self) -> None:
        """Check every field; save when nothing blocks (a second save accepts warnings)."""
        if self._saving:
            return
        values = self._values()
        errors: list[str] = []
        warnings: list[str] = []
        name = environment = whitelist = ""
        custom_url: str | None = None

        if self.mode is not FormMode.ROTATE:
            from tui.services.store.model import resolve_base_url, validate_name

            try:
                name = validate_name(
                    values.get("name", ""),
                    existing=self.existing,
                    ignore_id=self.account.id if self.account else None,
                )
                self._row("name").show(None)
            except ValueError as exc:
                self._row("name").show(_sentence(str(exc)))
                errors.append("name")
            environment = values.get("environment", "")
            custom_url = values.get("url", "") if environment == CUSTOM else None
            try:
                resolve_base_url(self.exchange_id, environment, custom_url)
                self._row("url").show(None)
            except ValueError as exc:
                self._row("url").show(_sentence(str(exc)))
                errors.append("url")
            whitelist = values.get("whitelist", "")

        check = None
        if self.mode is not FormMode.EDIT:
            if values.get("key_kind") in (KIND_ED25519, KIND_RSA) and self._generated is None:
                self._banner("Not saved yet: the key pair is still being generated.", "busy")
                return
            check = self._credential_check(values)
            if pem_reading(check):
                self._banner("Not saved yet: the private key is still being read; press ctrl+s "
                             "again in a moment.", "busy")
                return
            for field_id in validation.FIELD_LABELS:
                issue = check.issues.get(field_id)
                if issue is None:
                    self._row(field_id).show(None)
                    continue
                self._row(field_id).show(issue.message, issue.blocking)
                (errors if issue.blocking else warnings).append(field_id)

        if errors:
            self._banner(
                "Not saved: fix the field(s) marked in red. Everything you typed is still here.",
                "error",
            )
            self._focus_field(errors[0])
            return
        credential_values = {k: values.get(k, "") for k in validation.FIELD_LABELS}
        if warnings and self._warned_for != credential_values:
            self._warned_for = credential_values
            self._banner(
                "Check the warning(s) in yellow. Press ctrl+s again to save the values as they "
                "are.",
                "warning",
            )
            self._focus_field(warnings[0])
            return

        self._saving = True
        if self.mode is FormMode.ROTATE and self._generated is not None:
            label = exchange(self.exchange_id).label
            self._banner(f"Checking the new key with {label} before switching to it; the "
                         "account keeps its old key until this works…", "busy")
        else:
            self._banner("Saving…", "busy")
        self._save(
            name=name,
            environment=environment,
            custom_url=custom_url,
            whitelist=whitelist,
            creds=dict(check.values) if check is not None else None,
        )

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
    def _save(
        self,
        *,
        name: str,
        environment: str,
        custom_url: str | None,
        whitelist: str,
        creds: dict[str, str] | None,
    ) -> None:
        from tui.services.keys.credentials import Credentials
        from tui.services.session.rotation import NewKeyUnproven
        from tui.services.store.model import AccountError, DuplicateName
        from tui.services.store.secrets import SecretStoreError

        report = None
        try:
            if self.mode is FormMode.ADD:
                assert creds is not None
                if self._duplicate_seen_for != creds["api_key"]:
                    others = self.store.names_with_key(self.exchange_id, creds["api_key"])
                    if others:
                        self.app.call_from_thread(self._duplicate_key, creds["api_key"], others)
                        return
                account = self.store.add(
                    name,
                    self.exchange_id,
                    environment,
                    Credentials(creds["api_key"], creds["secret"], creds["passphrase"]),
                    base_url=custom_url,
                    whitelist=whitelist,
                )
            elif self.mode is FormMode.EDIT:
                assert self.account is not None
                account = self.store.update(
                    self.account.id,
                    name=name,
                    environment=environment,
                    base_url=custom_url,
                    whitelist=whitelist,
                )
            elif self._generated is not None:
                # A generated pair: switch only once a signed check with it works (rotation).
                from tui.services.session.rotation import rotate_checked

                assert self.account is not None and creds is not None
                rotated = rotate_checked(
                    self.store, self.account,
                    Credentials(creds["api_key"], creds["secret"], creds["passphrase"]),
                    accept_locked=self._locked_seen_for == creds["api_key"])
                account, report = rotated.account, rotated.report
            else:
                assert self.account is not None and creds is not None
                account = self.store.rotate(
                    self.account.id,
                    Credentials(creds["api_key"], creds["secret"], creds["passphrase"]),
                )
        except DuplicateName as exc:
            self.app.call_from_thread(self._save_failed, _sentence(str(exc)), "name")
        except NewKeyUnproven as exc:
            assert creds is not None
            self.app.call_from_thread(self._locked_refusal, creds["api_key"], str(exc))
        except (AccountError, SecretStoreError, ValueError) as exc:
            self.app.call_from_thread(self._save_failed, str(exc), None)
        except Exception as exc:  # keep the form usable; the type only (its text may hold data)
            self.app.call_from_thread(
                self._save_failed, f"an unexpected {type(exc).__name__} happened", None
            )
        else:
            result = SaveResult(account.id, account.name, self.mode, report)
            self.app.call_from_thread(self.dismiss, result)

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

    def _locked_refusal(self, api_key: str, message: str) -> None:
        """The exchange refused this machine's address: say what that does not prove, and let
        a second save with the same API key switch anyway."""
        self._saving = False
        self._locked_seen_for = api_key
        self._banner(f"Not switched yet: {message}. Press ctrl+s again to switch anyway, only if "
                     "the public key below is the one registered there.", "warning")

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
