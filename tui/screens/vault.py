"""Modals for keylink's encrypted vault: create it (a new master passphrase) and unlock it.

Both run the slow, memory-hard key derivation in a thread worker, so the UI keeps drawing.
Both dismiss with True once the vault is open, False when the user backs out. The app shows them
for its session, from the worker that needs a secret (``tui.passphrase_dialog``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from tui.services.core.text import clean_lines
from tui.styles import tcss
from tui.widgets.secret_input import SecretInput

if TYPE_CHECKING:
    from tui.services.store.secrets import SecretStore


def shown_path(path: object) -> str:
    """A path for a message, with the home folder written as ``~`` (shorter, and no user name)."""
    try:
        return "~/" + Path(str(path)).relative_to(Path.home()).as_posix()
    except ValueError:
        return str(path)


class _VaultDialog(ModalScreen[bool]):
    """What the two vault modals share: the frame, the message line and the busy state."""

    DEFAULT_CSS = tcss(__file__, "vault.tcss")

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="vault.cancel")]

    def __init__(
        self, store: SecretStore, *, answered: Callable[[bool], None] | None = None
    ) -> None:
        """``answered`` is told, once and at once (before the dismiss), whether the vault was
        opened; False too when the dialog goes without an answer (the app closing)."""
        super().__init__()
        self.store = store
        self._busy = False
        self._answered = answered
        #: Keys typed after the submitting Enter wait here (``KeysInOrderApp.hold_keys``) until
        #: the answer: then they reach the screen below, or the field again after a wrong one.
        self._hold: int | None = None

    def _hold_keys(self) -> None:
        hold = getattr(self.app, "hold_keys", None)
        self._hold = hold() if callable(hold) else None

    def _release_keys(self) -> None:
        hold, self._hold = self._hold, None
        release = getattr(self.app, "release_keys", None)
        if hold is not None and callable(release):
            release(hold)

    def _finish(self, opened: bool) -> None:
        self._tell(opened)
        self.dismiss(opened)
        self._release_keys()

    def _tell(self, opened: bool) -> None:
        answered, self._answered = self._answered, None
        if answered is not None:
            answered(opened)

    def on_unmount(self) -> None:
        self._tell(False)

    def _say(self, text: str, kind: str = "") -> None:
        message = self.query_one("#message", Static)
        message.update(clean_lines(text))  # store errors carry paths
        message.set_class(kind == "error", "-error")
        message.set_class(kind == "busy", "-busy")
        # On a short terminal the dialog scrolls: bring the message (and the buttons) into view.
        self.call_after_refresh(self.query_one("#buttons").scroll_visible, animate=False)

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        for widget in self.query(Input):
            widget.disabled = busy
        for button in self.query(Button):
            button.disabled = busy

    def action_cancel(self) -> None:
        """Back out; the vault stays closed."""
        if not self._busy:
            self._finish(False)

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_cancel()


class UnlockVaultScreen(_VaultDialog):
    """Ask for the vault passphrase. A wrong one can be retried; a damaged file is reported."""

    # Enter is taken before the field sees it, while the key is still being handled, so the
    # keys typed after it (one read over ssh: the passphrase, Enter, then h) wait for the
    # answer instead of landing in the field.
    BINDINGS = [Binding("enter", "enter", "Unlock", show=False, priority=True)]

    def compose(self) -> ComposeResult:
        vault = self.store.vault
        path = shown_path(vault.path) if vault is not None else "the vault file"
        with VerticalScroll(id="dialog") as dialog:
            dialog.border_title = "Unlock keylink's vault"
            yield Static(
                f"Your API secrets are kept encrypted in {path}. Enter the master passphrase "
                "to use them in this session.",
                classes="why",
                markup=False,
            )
            yield Label("Master passphrase")
            yield SecretInput(id="passphrase", placeholder="the passphrase you chose")
            yield Static("", id="message", markup=False)
            with Horizontal(id="buttons"):
                yield Button("Cancel (esc)", id="cancel")
                yield Button("Unlock (enter)", id="submit", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#passphrase", SecretInput).focus()

    @on(Button.Pressed, "#submit")
    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted | Button.Pressed) -> None:
        event.stop()
        # Enter's own value: keys typed right after Enter (one read over ssh) can reach the
        # field before this runs, and are not part of the passphrase.
        self.action_submit(event.value if isinstance(event, Input.Submitted) else None)

    def action_enter(self) -> None:
        """Enter: a focused button does what it says (Cancel, Unlock); anywhere else it
        submits."""
        focused = self.focused
        if isinstance(focused, Button):
            focused.press()
        else:
            self.action_submit()

    def action_submit(self, typed: str | None = None) -> None:
        """Try the passphrase (``typed``: as the field held it when Enter was pressed)."""
        if self._busy:
            return
        field = self.query_one("#passphrase", SecretInput)
        passphrase = field.value if typed is None else typed
        if not passphrase:
            self._say("Type the passphrase first.", "error")
            return
        self._set_busy(True)
        self._hold_keys()
        self._say("Opening the vault…", "busy")
        self._unlock(passphrase)

    @work(thread=True, exit_on_error=False, exclusive=True, group="vault")
    def _unlock(self, passphrase: str) -> None:
        from tui.services.store.errors import SecretStoreError, VaultDamaged, WrongPassphrase

        try:
            self.store.unlock(passphrase)
        except WrongPassphrase:
            self.app.call_from_thread(self._failed, "wrong", "")
        except VaultDamaged as exc:
            self.app.call_from_thread(self._failed, "damaged", str(exc))
        except SecretStoreError as exc:
            self.app.call_from_thread(self._failed, "other", str(exc))
        else:
            self.app.call_from_thread(self._finish, True)

    def _failed(self, kind: str, detail: str) -> None:
        self._set_busy(False)
        self.call_after_refresh(self._release_keys)  # once the field takes keys again
        field = self.query_one("#passphrase", SecretInput)
        if kind == "wrong":
            self._say("That passphrase does not open the vault. Check it and try again.", "error")
            # Keep what was typed (a near miss is easier to fix) but select it, so typing replaces.
            field.focus()
            field.select_all()
        elif kind == "damaged":
            self._say(
                f"The vault file is damaged and cannot be read: {detail}. "
                "Nothing was changed. Press esc to go back.",
                "error",
            )
            field.disabled = True
            self.query_one("#submit", Button).disabled = True
            self.query_one("#cancel", Button).focus()
        else:
            self._say(detail, "error")
            field.focus()


class CreateVaultScreen(_VaultDialog):
    """Choose the master passphrase of a new vault (typed twice, with a strength hint)."""

    #: The message shows an error about the typed passphrase (not a store error).
    _typed_error = False

    def compose(self) -> ComposeResult:
        from tui.services.store.vault import MIN_PASSPHRASE

        vault = self.store.vault
        path = shown_path(vault.path) if vault is not None else "a file"
        with VerticalScroll(id="dialog") as dialog:
            dialog.border_title = "Create keylink's vault"
            yield Static(
                "No system keyring is available here, so keylink keeps your API secrets in an "
                f"encrypted file ({path}), locked with a master passphrase you choose now. "
                "Nobody can recover it: forget it and you add your keys again.",
                classes="why",
                markup=False,
            )
            yield Label(f"Master passphrase (at least {MIN_PASSPHRASE} characters)")
            yield SecretInput(id="passphrase", placeholder="a few unrelated words work well")
            yield Static("", id="strength", markup=False)
            yield Label("Type it again")
            yield SecretInput(id="repeat")
            yield Static("", id="message", markup=False)
            with Horizontal(id="buttons"):
                yield Button("Cancel (esc)", id="cancel")
                yield Button("Create vault", id="submit", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#passphrase", SecretInput).focus()

    @on(Button.Pressed, "#submit")
    def _create_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_submit()

    @on(Input.Changed, "#passphrase")
    def _show_strength(self, event: Input.Changed) -> None:
        from tui.services.store.secrets import passphrase_strength

        score, hint = passphrase_strength(event.value)
        strength = self.query_one("#strength", Static)
        if not event.value:
            strength.update("")
        else:
            bar = "■" * score + "□" * (4 - score)
            # The hint starts with the strength word itself ("good", "weak: add more words").
            strength.update(f"{bar}  Strength: {hint}")
        for level in range(5):
            strength.set_class(level == score, f"-s{level}")
        self._drop_stale_error()

    @on(Input.Changed, "#repeat")
    def _repeat_changed(self) -> None:
        self._drop_stale_error()

    def _drop_stale_error(self) -> None:
        """Clear an error about what was typed once the typing changes: "too easy to guess"
        must not stay under a passphrase that is now strong. Store errors stay."""
        if self._typed_error:
            self._typed_error = False
            self._say("")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "passphrase":
            self.query_one("#repeat", SecretInput).focus()
        else:
            self.action_submit()

    def action_submit(self) -> None:
        """Check both entries and create the vault."""
        if self._busy:
            return
        first = self.query_one("#passphrase", SecretInput)
        second = self.query_one("#repeat", SecretInput)
        from tui.services.keys.credentials import check_new_passphrase

        try:
            check_new_passphrase(first.value)
        except ValueError as exc:
            self._say(f"{str(exc)[:1].upper()}{str(exc)[1:]}.", "error")
            self._typed_error = True
            first.focus()
            return
        if first.value != second.value:
            self._say("The two entries differ. Type the passphrase again in the second field.",
                      "error")
            self._typed_error = True
            second.focus()
            second.select_all()
            return
        self._set_busy(True)
        self._say("Creating the vault…", "busy")
        self._create(first.value)

    @work(thread=True, exit_on_error=False, exclusive=True, group="vault")
    def _create(self, passphrase: str) -> None:
        from tui.services.store.errors import SecretStoreError

        try:
            self.store.create_vault(passphrase)
        except (ValueError, SecretStoreError) as exc:
            self.app.call_from_thread(self._failed, str(exc))
        else:
            self.app.call_from_thread(self._finish, True)

    def _failed(self, detail: str) -> None:
        self._set_busy(False)
        self._say(f"The vault was not created: {detail}", "error")
        self.query_one("#passphrase", SecretInput).focus()
