"""CopyPanel: what was (or will be) copied, kept on screen as selectable text.

Some terminals ignore OSC 52 and some machines have no clipboard: the text stays visible in
a read-only TextArea so it can still be selected and copied by hand.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Static, TextArea


class CopyPanel(Vertical):
    """A status line over a read-only text box holding the text in question.

    The text box shows its text literally (it is a TextArea, not markup); a str status is shown
    literally too, and a ``Content`` status keeps its styles.
    """

    DEFAULT_CSS = """
    CopyPanel {
        width: 1fr;
        height: 1fr;
        border: round $border-blurred;
        border-title-color: $text-muted;
        padding: 0 1;
        &:focus-within { border: round $border; border-title-color: $text; }
        &.-copied { border: round $success; border-title-color: $success; }
        #copy-status { height: auto; margin-bottom: 1; }
        #copy-text { height: 1fr; border: none; padding: 0; background: $surface; }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Preview"

    def compose(self) -> ComposeResult:
        yield Static(id="copy-status", markup=False)
        yield TextArea(read_only=True, soft_wrap=True, id="copy-text", show_cursor=False,
                       highlight_cursor_line=False)

    @property
    def text(self) -> str:
        """The text shown in the box."""
        return self.query_one(TextArea).text

    @property
    def status(self) -> str:
        """The status line, as plain text."""
        return str(self.query_one("#copy-status", Static).render())

    def show_preview(self, text: str, status: str | Content) -> None:
        """Show text that has not been copied yet."""
        self.remove_class("-copied")
        self.border_title = "Preview"
        self._show(text, status)

    def show_copied(self, text: str, status: str | Content) -> None:
        """Show text that was just copied, with how it was copied."""
        self.add_class("-copied")
        self.border_title = "Copied"
        self._show(text, status)

    def _show(self, text: str, status: str | Content) -> None:
        # A plain str is shown as it is (never parsed as markup): it may hold copied text.
        self.query_one("#copy-status", Static).update(
            status if isinstance(status, Content) else Content(status)
        )
        self.query_one(TextArea).load_text(text)
