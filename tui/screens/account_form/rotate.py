"""The rotate form: a new key for an account, which replaces the old one when saved.

The new key starts as the same kind as the old one (read by a worker, as the secret store may
block). A key pair generated here is switched to only once a signed check with it works; when
the exchange refuses this machine's address, a second save switches anyway (the user's call).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.widgets import Select

from tui.screens.account_form.base import FormMode, Settings, Unsaved
from tui.screens.account_form.credentials import KIND_ED25519, KIND_RSA, CredentialFormScreen
from tui.services.exchanges import exchange
from tui.services.keys import keypairs

if TYPE_CHECKING:
    from tui.services.store.accounts import AccountStore
    from tui.services.store.model import Account
    from tui.services.verify.report import KeyReport


class RotateKeyScreen(CredentialFormScreen):
    """Give one account a new key. Dismisses with a SaveResult, or None when left unsaved."""

    mode: ClassVar[FormMode] = FormMode.ROTATE
    FIRST_FIELD: ClassVar[str] = "#api_key"

    def __init__(self, store: AccountStore, account: Account,
                 existing: tuple[Account, ...] = ()) -> None:
        super().__init__(store, account, existing)
        #: The API key whose locked check the user was told about: saving it again switches.
        self._locked_seen_for: str | None = None

    def _title(self) -> str:
        assert self.account is not None
        label = exchange(self.account.exchange).label
        return f"New key for {self.account.name} ({label}): it replaces the old one when saved"

    def _compose_fields(self) -> ComposeResult:
        yield self._exchange_row()
        yield from self._credential_rows()

    def _mounted(self) -> None:
        self._read_current_kind()

    @work(thread=True, exclusive=True, group="current-kind", exit_on_error=False)
    def _read_current_kind(self) -> None:
        """Learn the kind of the key being replaced (the secret store may block: a worker), so a
        new key starts as the same kind: an Ed25519 account rotates to a new Ed25519 pair."""
        from tui.services.store.errors import SecretStoreError

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

    # -- saving --------------------------------------------------------------------------------

    def _check_settings(self, values: dict[str, str], errors: list[str]) -> Settings | None:
        return None  # a new key only: the account's settings are the edit form's

    def _saving_text(self) -> str:
        if self._generated is None:
            return super()._saving_text()
        label = exchange(self.exchange_id).label
        return (f"Checking the new key with {label} before switching to it; the account keeps "
                "its old key until this works…")

    def _store(self, settings: Settings | None, creds: dict[str, str] | None
               ) -> tuple[Account, KeyReport | None]:
        from tui.services.keys.credentials import Credentials
        from tui.services.session.rotation import NewKeyUnproven, rotate_checked

        assert self.account is not None and creds is not None
        new = Credentials(creds["api_key"], creds["secret"], creds["passphrase"])
        if self._generated is None:
            rotated_account = self.store.rotate(self.account.id, new)
            _note_use("rotate", rotated_account)
            return rotated_account, None
        # A generated pair: switch only once a signed check with it works (rotation).
        try:
            rotated = rotate_checked(self.store, self.account, new,
                                     accept_locked=self._locked_seen_for == creds["api_key"])
        except NewKeyUnproven as exc:
            self.app.call_from_thread(self._locked_refusal, creds["api_key"], str(exc))
            raise Unsaved from None
        _note_use("rotate", rotated.account)
        return rotated.account, rotated.report

    def _locked_refusal(self, api_key: str, message: str) -> None:
        """The exchange refused this machine's address: say what that does not prove, and let
        a second save with the same API key switch anyway."""
        self._saving = False
        self._locked_seen_for = api_key
        self._banner(f"Not switched yet: {message}. Press ctrl+s again to switch anyway, only if "
                     "the public key below is the one registered there.", "warning")


def _note_use(action: str, account: Account) -> None:
    """The access log's line for a rotation made here (issue 19); never in the way."""
    from tui.services.core.access_log import record_quietly
    from tui.services.handoff.fields import secret_fields

    record_quietly(action, account, secret_fields(account))
