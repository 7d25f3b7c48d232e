"""A small yes/no question as a modal screen."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from tui.services.core.text import clean_lines
from tui.styles import tcss


class ConfirmScreen(ModalScreen[bool]):
    """Ask one question; dismisses with True (yes) or False (no / escape).

    ``danger`` styles the yes button as destructive (delete, discard).
    """

    DEFAULT_CSS = tcss(__file__, "confirm.tcss")

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
        Binding("left,right", "app.focus_next", show=False),
    ]

    def __init__(
        self,
        title: str,
        message: str,
        yes: str = "Yes",
        no: str = "No",
        danger: bool = False,
        id: str | None = None,
    ) -> None:
        super().__init__(classes="-danger" if danger else "", id=id)
        self._title = title
        self._message = message
        self._yes = yes
        self._no = no
        self._danger = danger

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            # Questions name accounts and files (outside text): escaped, never markup.
            yield Static(clean_lines(self._title), id="title", markup=False)
            yield Static(clean_lines(self._message), id="message", markup=False)
            with Horizontal(id="buttons"):
                yield Button(f"{self._no} (n)", id="no")
                yield Button(
                    f"{self._yes} (y)", id="yes", variant="error" if self._danger else "primary"
                )

    def on_mount(self) -> None:
        # The safe answer has focus, so a stray enter never deletes anything.
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)
