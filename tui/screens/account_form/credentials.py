"""The credential fields the add and rotate forms share: key kind, API key, secret, passphrases.

A secret is checked as typed or pasted; a pasted PEM private key is read (an RSA key by a worker,
as its full check takes ~0.3 s) and its kind and public key shown for comparison; a key pair
chosen as the kind is generated here, its public key shown and copied, its private key kept in
the form until saved. No reference to a private key outlives the form.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Select, Static

from tui.screens.account_form.base import AccountFormScreen, Unsaved
from tui.services.exchanges import exchange
from tui.services.keys import keypairs
from tui.services.store import validation
from tui.widgets.field_row import FieldRow
from tui.widgets.secret_input import CredentialInput, SecretInput

if TYPE_CHECKING:
    from tui.services.exchanges.base import ExchangeInfo
    from tui.services.store.accounts import AccountStore
    from tui.services.store.model import Account

#: The key-kind choice: the exchange's HMAC key, or a pair generated here (issue 11).
KIND_HMAC = "hmac"
KIND_ED25519 = "generate-ed25519"
KIND_RSA = "generate-rsa"
#: The input for an encrypted PEM's passphrase (not a credential: it is used once, never stored).
KEY_PASSPHRASE = "key_passphrase"

#: The secret field's state while a worker reads a pasted RSA key.
_READING = "Reading the private key…"


def pem_reading(check: validation.CredentialCheck) -> bool:
    """True when the secret is a PEM whose reading has not finished yet."""
    issue = check.issues.get(validation.SECRET)
    return issue is not None and issue.message == _READING


class CredentialFormScreen(AccountFormScreen):
    """A form that takes a new key: the add and rotate forms."""

    def __init__(
        self,
        store: AccountStore,
        account: Account | None = None,
        existing: tuple[Account, ...] = (),
    ) -> None:
        super().__init__(store, account, existing)
        #: Credential values whose warnings the user has seen; saving them again accepts them.
        self._warned_for: dict[str, str] | None = None
        #: A key pair generated in this form: its private key becomes the secret on save.
        self._generated: keypairs.ParsedKey | None = None
        #: The key kinds the form currently offers (they follow the chosen exchange).
        self._kind_offer: list[tuple[str, str]] = []
        #: The last PEM secret read and what reading it gave: a field check runs on paste, blur,
        #: every edit while a message shows, and save, and a full RSA-4096 read takes ~0.3 s.
        self._pem_memo: tuple[tuple[str, str, str], validation.PemResult] | None = None
        #: The PEM being read by a worker (exchange, text, key password), if one is.
        self._pem_reading: tuple[str, str, str] | None = None

    # -- building ------------------------------------------------------------------------------

    def _credential_rows(self) -> ComposeResult:
        info = exchange(self.exchange_id)
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

    def on_unmount(self) -> None:
        # Closed: no reference to a private key outlives the form.
        self._pem_memo = None
        self._pem_reading = None
        self._generated = None

    # -- key kind and key pairs ----------------------------------------------------------------

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
        app.call_from_thread(self._generated_pair, pair, result.describe())

    def _generated_pair(self, pair: keypairs.ParsedKey, copied: str | None = None) -> None:
        """Show the public key (and, once known, where it was copied to) in the form itself: a
        toast would cover the key's lines at 80x24, just when they are to be read."""
        if copied is not None and self._generated is not pair:
            return  # another kind was chosen meanwhile: this pair is gone
        self._generated = pair
        label = exchange(self.exchange_id).label
        where = f"\n\nThe public key was {copied}." if copied else ""
        self._show_key_info(Content(
            f"New {pair.kind.label} key pair. The private key stays in keylink. Register this "
            f"public key on {label}'s API page, then paste the API key {label} gives you:\n\n"
            f"{pair.public_pem}{where}"))
        # The whole public key in view, so it can be read and selected without scrolling.
        self.call_after_refresh(self.query_one("#fields", VerticalScroll).scroll_to_widget,
                                self.query_one("#key-info", Static), animate=False)

    def _show_key_info(self, text: Content | None) -> None:
        box = self.query_one("#key-info", Static)
        if text is None and not box.has_class("-shown"):
            return  # nothing shown, nothing to hide: no extra layout pass on every check
        box.update(text or "")
        box.set_class(text is not None, "-shown")

    # -- checking ------------------------------------------------------------------------------

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
        if field_id not in validation.FIELD_LABELS:
            super()._check_field(field_id)
            return
        values = self._values()
        row = self._row(field_id)
        check = self._credential_check(values)
        issue = check.issues.get(field_id)
        if issue is not None and issue.message == _READING:
            row.show(None)  # the key box says it is being read; the answer follows
            return
        if issue is not None and values.get(field_id, "") == "" and not row.message:
            return  # an empty field is only reported when saving
        row.show(issue.message if issue else None, issue.blocking if issue else True)

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

    # -- saving --------------------------------------------------------------------------------

    def _check_credentials(self, values: dict[str, str], errors: list[str],
                           warnings: list[str]) -> dict[str, str] | None:
        if values.get("key_kind") in (KIND_ED25519, KIND_RSA) and self._generated is None:
            self._banner("Not saved yet: the key pair is still being generated.", "busy")
            raise Unsaved
        check = self._credential_check(values)
        if pem_reading(check):
            self._banner("Not saved yet: the private key is still being read; press ctrl+s "
                         "again in a moment.", "busy")
            raise Unsaved
        for field_id in validation.FIELD_LABELS:
            issue = check.issues.get(field_id)
            if issue is None:
                self._row(field_id).show(None)
                continue
            self._row(field_id).show(issue.message, issue.blocking)
            (errors if issue.blocking else warnings).append(field_id)
        return dict(check.values)

    def _accept_warnings(self, values: dict[str, str]) -> bool:
        credential_values = {k: values.get(k, "") for k in validation.FIELD_LABELS}
        if self._warned_for == credential_values:
            return True
        self._warned_for = credential_values
        return False
