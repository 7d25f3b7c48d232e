"""A form row: a label beside a field, and the field's message (error or warning) under it.

The account forms (tui/screens/account_form/) build every field from it; the message line stays
hidden until there is something to say, so a form without problems is as short as it can be.
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Label, Static

from tui.services.core.text import clean_lines


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
