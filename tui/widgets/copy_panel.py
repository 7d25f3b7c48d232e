"""CopyPanel: what was (or will be) copied, kept on screen as selectable text.

Some terminals ignore OSC 52 and some machines have no clipboard: the text stays visible so it
can be selected and copied by hand. Two things make a hand-copied list paste cleanly:

- lines break only after a comma or a space, never inside an address (a terminal's own
  selection turns every screen line into a line of the copied text);
- the text's rows carry no box border: the panel is framed by a top rule with its title and a
  bottom rule, never by side borders, so a selection across rows picks up no ``│``.
"""

from __future__ import annotations

import re

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.events import Resize
from textual.widgets import Static, TextArea

#: A piece that may end a screen line: up to and including a comma or a run of spaces.
_PIECE = re.compile(r"[^,\s]*(?:,|\s+)|[^,\s]+")


def reflow(text: str, width: int) -> str:
    """``text`` with line breaks added only after commas or spaces, lines at most ``width``
    wide where the pieces allow (a single piece wider than the line stays whole on its own)."""
    if width < 1:
        return text
    out: list[str] = []
    for line in text.split("\n"):
        current = ""
        for piece in _PIECE.findall(line):
            if current and len((current + piece).rstrip()) > width:
                out.append(current.rstrip(" "))
                current = piece.lstrip(" ")
            else:
                current += piece
        out.append(current.rstrip(" ") if out or current else current)
    return "\n".join(out)


class CopyPanel(Vertical):
    """A status line over a read-only text box holding the text in question.

    The text box shows its text literally (it is a TextArea, not markup); a str status is shown
    literally too, and a ``Content`` status keeps its styles.
    """

    DEFAULT_CSS = """
    CopyPanel {
        width: 1fr;
        height: 1fr;
        border-top: round $border-blurred;
        border-bottom: round $border-blurred;
        border-title-color: $text-muted;
        padding: 0 0 0 1;
        &:focus-within {
            border-top: round $border; border-bottom: round $border; border-title-color: $text;
        }
        &.-copied {
            border-top: round $success; border-bottom: round $success;
            border-title-color: $success;
        }
        #copy-status { height: auto; margin-bottom: 1; padding-right: 1; }
        #copy-text { height: 1fr; border: none; padding: 0; background: $surface; }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Preview"
        self._text = ""

    def compose(self) -> ComposeResult:
        yield Static(id="copy-status", markup=False)
        yield TextArea(read_only=True, soft_wrap=False, id="copy-text", show_cursor=False,
                       highlight_cursor_line=False)

    @property
    def text(self) -> str:
        """The text in question, exactly (what a copy sends)."""
        return self._text

    @property
    def shown(self) -> str:
        """The text as laid out on screen (line breaks only after commas or spaces)."""
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
        """Show text that was just sent to the clipboard, with how it was sent."""
        self.add_class("-copied")
        self.border_title = "Sent"
        self._show(text, status)

    def _show(self, text: str, status: str | Content) -> None:
        self._text = text
        # A plain str is shown as it is (never parsed as markup): it may hold copied text.
        self.query_one("#copy-status", Static).update(
            status if isinstance(status, Content) else Content(status)
        )
        self._layout_text()

    def _layout_text(self) -> None:
        area = self.query_one(TextArea)
        width = area.scrollable_content_region.width or self.size.width
        area.load_text(reflow(self._text, max(width - 1, 1)))

    def on_resize(self, _event: Resize) -> None:
        self.call_after_refresh(self._layout_text)
