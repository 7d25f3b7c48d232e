"""Inputs for credentials: a paste that keeps everything visible, and a masked field with reveal."""

from __future__ import annotations

from dataclasses import dataclass, field

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.reactive import var
from textual.widgets import Input

from tui.services.store.validation import tidy_paste, visible_paste


class CredentialInput(Input):
    """A one-line input for a pasted credential.

    A stock Input keeps only the first line of a multi-line paste, which can silently cut a key
    short. This one keeps the whole paste with its ends trimmed, and shows any inner control
    character as a visible mark, so the form can point at it and nothing the user pasted is lost
    (and no raw escape byte is ever drawn on the terminal).
    """

    @dataclass
    class Pasted(Message):
        """Sent after a paste went into the input (so the form can check it at once)."""

        input: CredentialInput
        #: What the paste's clean-up removed (see validation.tidy_paste), for the form to say.
        removed: list[str] = field(default_factory=list)

        @property
        def control(self) -> CredentialInput:
            return self.input

    def _on_paste(self, event: events.Paste) -> None:
        # prevent_default: Input's own handler (first line only) must not run after this one.
        event.prevent_default()
        event.stop()
        if event.text:
            self._insert_paste(event.text)

    def action_paste(self) -> None:
        """Paste from the app's clipboard, the same careful way."""
        if self.app.clipboard:
            self._insert_paste(self.app.clipboard)

    def _insert_paste(self, text: str) -> None:
        start, end = self.selection
        tidied, removed = tidy_paste(text)
        self.replace(visible_paste(tidied), start, end)
        self.post_message(self.Pasted(self, removed))


class SecretInput(CredentialInput):
    """A masked credential input; ``ctrl+r`` shows or hides what is typed.

    While masked, copy and cut do nothing, so a hidden secret cannot leave through the clipboard.
    """

    BINDINGS = [
        Binding("ctrl+r", "toggle_reveal", "Show/hide", id="secret_input.reveal",
                tooltip="In a secret field: show or hide what is typed there"),
    ]

    DEFAULT_CSS = """
    SecretInput {
        border-subtitle-color: $text-muted;
    }
    """

    revealed: var[bool] = var(False)

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("password", True)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._show_hint()

    def watch_revealed(self, revealed: bool) -> None:
        self.password = not revealed
        self._show_hint()

    def _show_hint(self) -> None:
        self.border_subtitle = "shown · ctrl+r hides" if self.revealed else "hidden · ctrl+r shows"

    def action_toggle_reveal(self) -> None:
        """Show or hide the value."""
        self.revealed = not self.revealed

    def on_blur(self) -> None:
        # Leaving the field hides it again: a revealed secret should not stay on screen unattended.
        self.revealed = False

    def action_copy(self) -> None:
        if self.revealed:
            super().action_copy()

    def action_cut(self) -> None:
        if self.revealed:
            super().action_cut()
