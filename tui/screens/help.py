"""The help screen: tui/content/help.md followed by every key, read from the real bindings.

The screen is built once per app and kept (see ``KeylinkApp.action_help``): its text is the same
every time it opens, so it is drawn by one widget (one Rich group) instead of a Markdown tree of
table widgets, and later opens only show the screen that already exists.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingsMap, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.content import shipped_text
from tui.styles import tcss

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderableType
    from rich.segment import Segment
    from textual.app import App


@dataclass(frozen=True)
class HelpTable:
    """One part of the help: a heading, one line saying what it is, and its keys."""

    heading: str
    description: str
    #: (keys as the user presses them, what they do); one row per key.
    rows: tuple[tuple[str, str], ...]


def key_rows(app: App[Any], bindings: Iterable[BindingType]) -> list[tuple[str, str]]:
    """(keys, description) per action, keys of one action joined, in declaration order.

    A key bound twice in one part (a screen's Escape and its text box's Escape) is one row whose
    text says both things, so every key appears once per table.
    """
    rows: dict[str, tuple[list[str], list[str]]] = {}
    owner: dict[str, str] = {}  # key display -> the action whose row shows it
    keymap: dict[str, str] = getattr(app, "_keymap", {})
    bindings_map = BindingsMap(bindings)
    if keymap:
        # Users can remap keys by binding id (App.set_keymap); show what they really press.
        bindings_map.apply_keymap(keymap)
    for _key, binding in bindings_map:
        if binding.system or not binding.description:
            continue
        text = binding.tooltip or binding.description
        display = app.get_key_display(binding)
        if display in owner:
            texts = rows[owner[display]][1]
            if text not in texts:
                texts.append(text)
            continue
        keys, _texts = rows.setdefault(binding.action, ([], [text]))
        owner[display] = binding.action
        keys.append(display)
    return [(" / ".join(keys), "; ".join(texts)) for keys, texts in rows.values() if keys]


def help_tables(app: App[Any]) -> list[HelpTable]:
    """Every key, part by part: the keys that work everywhere, then each section's."""
    from tui.sections import ordered_sections

    app_bindings: list[BindingType] = list(type(app).BINDINGS)
    app_bindings.append(Binding(app.COMMAND_PALETTE_BINDING, "command_palette", "Palette",
                                tooltip="Open the command palette (also: change theme)"))
    tables = [HelpTable("Everywhere", "Keys that work in every section",
                        tuple(key_rows(app, app_bindings)))]
    for _mode, section in ordered_sections():
        screen_class = section.screen_class()
        own = [*screen_class.__dict__.get("BINDINGS", []),
               *getattr(screen_class, "WIDGET_BINDINGS", [])]
        tables.append(HelpTable(f"{section.title} (press {section.key})", section.description,
                                tuple(key_rows(app, own))))
    tables.append(HelpTable("In this help", "While this help is open",
                            tuple(key_rows(app, HelpScreen.BINDINGS))))
    return tables


def help_intro() -> str:
    """The packaged introduction (Markdown)."""
    return shipped_text("help.md").strip()


class DrawnOnce:
    """A renderable drawn once per width and kept (the help's, which never changes).

    Textual draws a widget's Rich renderable to measure its height, again for each reflow, and
    once more to paint it. The help is long (an introduction in Markdown and a table of keys
    per section, about a hundred rows): three draws were most of the first ``?`` (1.6x a bare
    Textual help screen in benchmarks/keys.py). Drawn once, and ahead by the warm-up
    (``draw_help_ahead``), the first ``?`` is no slower than the bare one.
    """

    def __init__(self, renderable: RenderableType) -> None:
        self.renderable = renderable
        self._drawn: dict[tuple[object, ...], list[Segment]] = {}

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterable[Segment]:
        key = (options.max_width, options.justify, options.overflow, options.no_wrap,
               options.highlight, options.markup)
        drawn = self._drawn.get(key)
        if drawn is None:
            drawn = list(console.render(self.renderable, options))
            self._drawn = {key: drawn}  # the last width only: a resize draws anew
        return drawn


#: Columns the help's text loses to its frame (help.tcss): the border, the padding, the
#: scrollbar's gutter and the text's own right padding. Only a guess for the drawing made ahead
#: (``draw_help_ahead``): a wrong one costs a draw at the real width, when the help opens.
_FRAME_COLUMNS = 6
#: The widest the help's frame gets (help.tcss: max-width).
_MAX_WIDTH = 100


def draw_help_ahead(app: App[Any]) -> DrawnOnce:
    """The help, drawn for the app's width now: called in the app's warm-up thread after the
    first paint, so the first ``?`` only shows it. Reads the app's bindings and draws with its
    console; changes nothing of the app's."""
    drawing = DrawnOnce(help_renderable(app))
    width = min(app.size.width, _MAX_WIDTH) - _FRAME_COLUMNS
    if width > 0:
        options = app.console_options.update_width(width).update(highlight=False)
        list(drawing.__rich_console__(app.console, options))
    return drawing


def help_renderable(app: App[Any]) -> RenderableType:
    """The whole help as one renderable: the introduction, then a table of keys per part."""
    from rich.console import Group
    from rich.markdown import Markdown
    from rich.table import Table
    from rich.text import Text

    parts: list[RenderableType] = [Markdown(help_intro())]
    for table in help_tables(app):
        parts.append(Text(f"\n{table.heading}", style="bold"))
        parts.append(Text(table.description, style="dim"))
        grid = Table.grid(padding=(0, 2))
        grid.add_column(no_wrap=True, style="bold", min_width=10)
        grid.add_column()
        for keys, text in table.rows:
            # Text, not markup: a "[" in a key name or a tooltip is shown as it is.
            grid.add_row(Text(keys), Text(text))
        parts.append(grid)
    return Group(*parts)


class HelpScreen(ModalScreen[None]):
    """Every key of every section, scrollable; Escape (or ? or q) closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "close", "Close", tooltip="Close the help",
                id="help.close"),
    ]

    DEFAULT_CSS = tcss(__file__, "help.tcss")

    def __init__(self, drawing: DrawnOnce | None = None) -> None:
        """``drawing``: the help drawn ahead (``draw_help_ahead``), else it is made here."""
        super().__init__()
        self._drawing = drawing

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-scroll") as scroll:
            scroll.border_title = "Keys and help"
            scroll.border_subtitle = "↑↓ scroll · Esc closes"
            drawing = self._drawing or DrawnOnce(help_renderable(self.app))
            yield Static(drawing, id="help-text")

    def on_screen_resume(self) -> None:
        # The same screen is shown again on every open: start at the top each time.
        self.query_one("#help-scroll", VerticalScroll).scroll_home(animate=False)

    def action_close(self) -> None:
        self.dismiss()
