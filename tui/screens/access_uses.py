"""An account's recent uses from the access log (issue 19), as a small modal of its own.

Opened from the accounts screen (``L``). The log is read in a thread worker (a file read never
runs on the UI thread); every line is outside text (an account name, a parent command) and is
shown as text, never markup.
"""

from __future__ import annotations

from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.services.core.text import clean
from tui.styles import tcss

#: How many of the newest uses are shown.
SHOWN = 20


class AccessUsesScreen(ModalScreen[None]):
    """The last uses of one account's stored secret: when, what, the outcome, from where."""

    DEFAULT_CSS = tcss(__file__, "access_uses.tcss")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,L", "dismiss_screen", "Close", id="access_uses.close"),
    ]

    def __init__(self, account_id: str, name: str) -> None:
        super().__init__()
        self._account_id = account_id
        self._name = name

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(clean(f"Recent uses of {self._name}"), id="title", markup=False)
            with VerticalScroll(id="uses"):
                yield Static("Reading the access log…", id="lines", markup=False)
            yield Static("Newest first. The whole log: keylink log; its check: keylink log "
                         "--check. escape: close", id="hint", markup=False)

    def on_mount(self) -> None:
        self._read()

    @work(thread=True, exit_on_error=False)
    def _read(self) -> None:
        from tui.services.core.access_log import recent_uses

        try:
            lines, problems = recent_uses(self._account_id, SHOWN)
        except OSError as exc:
            lines, problems = [], [f"the access log could not be read ({exc.strerror})"]
        text = "\n".join(clean(line) for line in lines) or "No use recorded yet."
        if problems:
            text += "\n\n" + "\n".join(clean(p) for p in problems[:3])
        self.app.call_from_thread(self._show, text)

    def _show(self, text: str) -> None:
        # On the UI thread: the DOM is only queried there.
        self.query_one("#lines", Static).update(text)

    def action_dismiss_screen(self) -> None:
        self.dismiss(None)
