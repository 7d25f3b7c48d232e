"""StepList: the numbered steps of a procedure beside the step in focus.

One line per step, drawn through Textual's line API. It stands where an OptionList stood and
looks and moves the same (arrows, Home/End, Page Up/Down, a click, the mouse's hover), without
what a list of a dozen one-line titles does not need: per-option markup, wrapping, separators,
disabled options. That weight was about 12 ms of the guide's first paint, the app's first screen
(benchmarks/keys.py). A title wider than the list ends in "…" (the guide's titles are written
to fit: tests/screens/test_guide.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip


class StepList(ScrollView, can_focus=True):
    """A numbered list of step titles; ``highlighted`` is the index of the current step.

    Steps are given as ``(id, title)`` pairs. Moving the highlight (keys, click, or setting
    ``highlighted``) posts ``StepList.Highlighted``.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "step(-1)", "Up", show=False),
        Binding("down", "step(1)", "Down", show=False),
        Binding("home", "first", "First", show=False),
        Binding("end", "last", "Last", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {"step-list--highlighted", "step-list--hover"}

    # The colours are the ones Textual's OptionList uses, so the list looks as it did.
    DEFAULT_CSS = """
    StepList {
        width: 28;
        height: 1fr;
        color: $foreground;
        background: $surface;
        overflow-x: hidden;
        scrollbar-size-vertical: 1;
        border: round $border-blurred;
        border-title-color: $text-muted;
        padding: 0;
        & > .step-list--highlighted {
            color: $foreground;
            background: $block-cursor-blurred-background;
            text-style: $block-cursor-blurred-text-style;
        }
        & > .step-list--hover { background: $block-hover-background; }
        &:focus {
            border: round $border;
            border-title-color: $text;
            background-tint: $foreground 5%;
            & > .step-list--highlighted {
                color: $block-cursor-foreground;
                background: $block-cursor-background;
                text-style: $block-cursor-text-style;
            }
        }
    }
    """

    highlighted: reactive[int | None] = reactive(None)
    """The index of the highlighted step (None only while there are no steps)."""

    _hover: reactive[int | None] = reactive(None)

    class Highlighted(Message):
        """The highlight moved to step ``index`` (id ``step_id``)."""

        def __init__(self, step_list: StepList, index: int, step_id: str) -> None:
            super().__init__()
            self.step_list = step_list
            self.index = index
            self.step_id = step_id

        @property
        def control(self) -> StepList:
            return self.step_list

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Steps"
        self._ids: tuple[str, ...] = ()
        self._labels: tuple[str, ...] = ()

    @property
    def labels(self) -> tuple[str, ...]:
        """The lines as drawn before cropping: number and title."""
        return self._labels

    def set_steps(self, steps: Sequence[tuple[str, str]], current: int = 0) -> None:
        """Replace the steps and highlight the one at index ``current``."""
        # Numbers right-aligned to the widest one, after a space: "  9" and " 10" line up and
        # neither touches the border.
        width = len(str(len(steps)))
        self._ids = tuple(step_id for step_id, _title in steps)
        self._labels = tuple(f" {number:>{width}}  {title}"
                             for number, (_id, title) in enumerate(steps, start=1))
        self._hover = None
        self._update_virtual_size()
        self.refresh()
        if steps:
            # Setting the same index again still announces it: the steps behind it changed.
            self.set_reactive(StepList.highlighted, None)
            self.highlighted = max(0, min(current, len(steps) - 1))
        else:
            self.highlighted = None

    # -- drawing ---------------------------------------------------------------------------

    def _update_virtual_size(self) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, len(self._labels))

    def _on_resize(self, _event: events.Resize) -> None:
        self._update_virtual_size()
        self._scroll_to_highlight()

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        index = self.scroll_offset.y + y
        if index >= len(self._labels):
            return Strip.blank(width, self.rich_style)
        if index == self.highlighted:
            style = self.get_visual_style("step-list--highlighted").rich_style
        elif index == self._hover:
            style = self.get_visual_style("step-list--hover").rich_style
        else:
            style = self.rich_style
        text = self._labels[index]
        if cell_len(text) > width and width > 1:
            text = set_cell_size(text, width - 1) + "…"
        pad = width - cell_len(text)
        return Strip([Segment(text, style), Segment(" " * pad, style)], width)

    def watch_highlighted(self, old: int | None, new: int | None) -> None:
        for index in (old, new):
            self._refresh_row(index)
        if new is not None:
            self._scroll_to_highlight()
            self.post_message(self.Highlighted(self, new, self._ids[new]))

    def validate_highlighted(self, index: int | None) -> int | None:
        if index is None or not self._labels:
            return None
        return max(0, min(index, len(self._labels) - 1))

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if round(old_value) != round(new_value):
            # Another step is under the mouse now; its next move shades that one.
            self._hover = None

    def watch__hover(self, old: int | None, new: int | None) -> None:
        for index in (old, new):
            self._refresh_row(index)

    def _refresh_row(self, index: int | None) -> None:
        if index is not None:
            self.refresh(Region(0, index - self.scroll_offset.y,
                                self.scrollable_content_region.width, 1))

    def _scroll_to_highlight(self) -> None:
        if self.highlighted is None or not self.is_mounted:
            return
        self.scroll_to_region(Region(0, self.highlighted, self.scrollable_content_region.width, 1),
                              animate=False, force=True, immediate=True)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self.refresh()  # focus and theme change the highlight's colours

    # -- keys and mouse ---------------------------------------------------------------------

    def action_step(self, delta: int) -> None:
        """Up and Down, round the ends as in an OptionList."""
        if self._labels:
            self.highlighted = ((self.highlighted or 0) + delta) % len(self._labels)

    def action_first(self) -> None:
        self.highlighted = 0

    def action_last(self) -> None:
        self.highlighted = len(self._labels) - 1

    def action_page(self, direction: int) -> None:
        if self.highlighted is not None:
            page = max(1, self.scrollable_content_region.height - 1)
            self.highlighted += direction * page  # clamped to the ends

    def _row_at(self, event: events.MouseEvent) -> int | None:
        offset = event.get_content_offset(self)
        if offset is None:
            return None
        index = offset.y + self.scroll_offset.y
        return index if 0 <= index < len(self._labels) else None

    def _on_click(self, event: events.Click) -> None:
        index = self._row_at(event)
        if index is not None:
            self.highlighted = index

    def _on_mouse_move(self, event: events.MouseMove) -> None:
        self._hover = self._row_at(event)

    def _on_leave(self, _event: events.Leave) -> None:
        self._hover = None
