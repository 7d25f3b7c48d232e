"""The line of section names under the header: where you are, and the key for each section.

One widget drawing text with click actions (not a widget per section): this bar is on every
screen, including the first one painted, so it is kept cheap to style and lay out.
"""

from __future__ import annotations

from textual.content import Content
from textual.widget import Widget

_HINT = Content.from_markup("[b]^q[/b] quit ")


class SectionBar(Widget):
    """Every registered section, the current one highlighted; click one to show it."""

    DEFAULT_CSS = """
    SectionBar {
        height: 1;
        background: $panel;
        color: $text-muted;
    }
    """

    def __init__(self, current: str) -> None:
        super().__init__()
        self.current = current
        self._labels: Content | None = None

    def labels(self) -> Content:
        """The sections as one line of text, without the hint."""
        # Parsed once: the sections and the current one do not change while the bar exists.
        if self._labels is None:
            self._labels = self._parse_labels()
        return self._labels

    def _parse_labels(self) -> Content:
        from tui.sections import ordered_sections

        parts: list[Content] = []
        for mode, section in ordered_sections():
            style = "bold $text on $primary 40%" if mode == self.current else "$text-muted"
            label = Content.from_markup(
                f"[@click=app.show('{mode}')] [b]$key[/b] $title [/]",
                key=section.key, title=section.title,
            )
            parts.append(label.stylize(style))
        return Content("").join(parts)

    def render(self) -> Content:
        labels = self.labels()
        gap = max(1, self.size.width - labels.cell_length - _HINT.cell_length)
        return Content.assemble(labels, " " * gap, _HINT)
