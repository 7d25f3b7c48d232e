"""The FAQ: questions as collapsible entries, with a word filter."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Collapsible, Input, Static
from textual.widgets.collapsible import CollapsibleTitle

from tui.commands import PaletteCommand
from tui.content.faq import FaqTopic, faq_topics
from tui.screens.section import SectionScreen
from tui.styles import tcss

__all__ = ["FaqScreen", "FaqTopic", "FilterInput", "faq_topics"]


class FilterInput(Input):
    """The FAQ's filter box: Escape clears it and hands focus back to the questions."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "leave", "Leave filter",
                tooltip="In the filter box: clear it, back to the questions",
                id="faq.filter.leave"),
    ]

    def action_leave(self) -> None:
        self.value = ""
        self.screen.focus_next(CollapsibleTitle)


class FaqScreen(SectionScreen):
    """Answers to the common questions, filterable by words."""

    SECTION = "faq"
    SECTION_TITLE = "FAQ"
    SUB_TITLE = "Questions and answers"
    AUTO_FOCUS = "CollapsibleTitle"
    WIDGET_BINDINGS = FilterInput.BINDINGS

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_filter", "Filter", tooltip="Type words to filter the questions",
                id="faq.filter"),
        Binding("down,j", "move(1)", "Next", show=False, tooltip="Go to the next question",
                id="faq.next"),
        Binding("up,k", "move(-1)", "Previous", show=False,
                tooltip="Go to the previous question", id="faq.previous"),
        Binding("a", "toggle_all", "Open/close all", tooltip="Open every answer, or close them all",
                id="faq.toggle_all"),
        Binding("escape", "clear_filter", "Clear filter", show=False,
                tooltip="Clear a filter left in place", id="faq.clear"),
    ]

    DEFAULT_CSS = tcss(__file__, "faq.tcss")

    def compose_body(self) -> ComposeResult:
        yield FilterInput(placeholder="/ to filter: type words, all must match", id="faq-filter",
                          compact=True)
        with Vertical(id="faq-topics"):
            for topic in faq_topics().values():
                with Collapsible(title=topic.question, id=f"topic-{topic.id}"):
                    yield Static(topic.answer, classes="answer")
            yield Static(id="faq-empty")

    def on_mount(self) -> None:
        self.query_one("#faq-empty", Static).display = False

    # -- filtering ---------------------------------------------------------------------------

    @property
    def filter_text(self) -> str:
        return self.query_one(FilterInput).value

    def visible_topics(self) -> list[str]:
        """Ids of the topics the filter lets through, in order."""
        return [c.id.removeprefix("topic-") for c in self.query(Collapsible) if c.display and c.id]

    def apply_filter(self, text: str) -> None:
        """Show only the topics containing every word of ``text``; open them when filtering."""
        words = text.split()
        shown = 0
        for topic in faq_topics().values():
            collapsible = self.query_one(f"#topic-{topic.id}", Collapsible)
            match = topic.matches(words)
            collapsible.display = match
            if words:
                collapsible.collapsed = not match
            shown += match
        empty = self.query_one("#faq-empty", Static)
        empty.display = shown == 0
        empty.update(Content.assemble("No question contains all of: ", (text, "bold"),
                                      "\nPress Escape to clear the filter."))
        self.refresh_bindings()

    @on(Input.Changed, "#faq-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.apply_filter(event.value)

    @on(Input.Submitted, "#faq-filter")
    def _filter_submitted(self) -> None:
        self.focus_next(CollapsibleTitle)

    # -- actions -----------------------------------------------------------------------------

    def action_focus_filter(self) -> None:
        self.query_one(FilterInput).focus()

    def action_clear_filter(self) -> None:
        self.query_one(FilterInput).value = ""
        self.apply_filter("")

    def action_move(self, step: int) -> None:
        titles = [c.query_one(CollapsibleTitle) for c in self.query(Collapsible) if c.display]
        if not titles:
            return
        focused = self.focused
        index = titles.index(focused) if focused in titles else (-1 if step > 0 else 0)
        target = titles[max(0, min(index + step, len(titles) - 1))]
        target.focus()
        target.parent.scroll_visible() if target.parent else None

    def action_toggle_all(self) -> None:
        shown = [c for c in self.query(Collapsible) if c.display]
        open_all = any(c.collapsed for c in shown)
        for collapsible in shown:
            collapsible.collapsed = not open_all
        # Each opened answer scrolls itself into view after the next refresh; once they have,
        # bring the reader back to the question they were on.
        focused = self.focused
        if focused is not None:
            self.call_after_refresh(self.call_after_refresh, focused.scroll_visible,
                                    animate=False, top=True)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_filter":
            # Without a filter, Escape falls through to the app (back to the previous section).
            return self.is_mounted and bool(self.query(FilterInput)) and bool(self.filter_text)
        return True

    def reveal(self, target: str) -> None:
        """Clear the filter, open question ``target`` alone and focus it."""
        if target not in faq_topics():
            raise ValueError(f"the FAQ has no question {target!r}")
        self.action_clear_filter()
        for collapsible in self.query(Collapsible):
            collapsible.collapsed = collapsible.id != f"topic-{target}"
        chosen = self.query_one(f"#topic-{target}", Collapsible)
        chosen.query_one(CollapsibleTitle).focus()
        self.call_after_refresh(chosen.scroll_visible, animate=False, top=True)

    def palette_commands(self) -> Iterable[PaletteCommand]:
        for topic in faq_topics().values():
            yield PaletteCommand(f"FAQ: {topic.question}", "Open this answer",
                                 partial(self.reveal, topic.id))
