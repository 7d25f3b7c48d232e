"""ChoiceRow: a one-line row of options with the chosen one highlighted, like tabs.

All options stay visible (no drop-down to open), a click chooses one, and the owning screen
binds a key to cycle them. One widget drawing text, lighter than a Select on the first screen.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.content import Content
from textual.message import Message
from textual.widget import Widget


class ChoiceRow(Widget):
    """Options as ``(value, text)`` pairs; ``value`` is the chosen one."""

    DEFAULT_CSS = """
    ChoiceRow {
        height: 1;
        width: auto;
        color: $text-muted;
    }
    """

    class Changed(Message):
        """Posted when the user chooses another option (a click), never for a ``value`` set.

        An echo of a set value would reach the owner after keys already queued behind it (a
        burst of keys over ssh arrives in one read): the owner would then go back to a value it
        has already left, set it, get that echoed too, and so on for ever.
        """

        def __init__(self, row: ChoiceRow, value: str) -> None:
            super().__init__()
            self.row = row
            self.value = value

        @property
        def control(self) -> ChoiceRow:
            return self.row

    def __init__(self, options: Sequence[tuple[str, str]], value: str, *,
                 id: str | None = None) -> None:
        super().__init__(id=id)
        self._options = tuple(options)
        if value not in self.values:
            raise ValueError(f"{value!r} is not one of {self.values}")
        self._value = value
        #: The row as drawn for the value it was drawn for.
        self._drawn: tuple[str, Content] | None = None

    @property
    def values(self) -> list[str]:
        """The option values, in order."""
        return [value for value, _ in self._options]

    @property
    def value(self) -> str:
        """The chosen option's value."""
        return self._value

    @value.setter
    def value(self, value: str) -> None:
        # The owner sets this to show its own state: nothing is posted (see Changed).
        if value not in self.values:
            raise ValueError(f"{value!r} is not one of {self.values}")
        if value == self._value:
            return
        self._value = value
        self.refresh(layout=True)

    def action_choose(self, value: str) -> None:
        """Choose an option (what a click does); the owner hears of it by Changed."""
        if value != self._value:
            self.value = value  # ValueError for an unknown value
            self.post_message(self.Changed(self, value))

    def render(self) -> Content:
        # Markup is parsed once per chosen value, not on every repaint.
        if self._drawn is None or self._drawn[0] != self._value:
            self._drawn = (self._value, self._parse())
        return self._drawn[1]

    def _parse(self) -> Content:
        parts: list[Content] = []
        for value, text in self._options:
            style = "bold $text on $accent 35%" if value == self._value else "$text-muted"
            option = Content.from_markup(f"[@click=choose('{value}')] $text [/]", text=text)
            parts.append(option.stylize(style))
        return Content("").join(parts)
