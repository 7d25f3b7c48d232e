"""The help screen: tui/content/help.md followed by every key, read from the real bindings."""

from __future__ import annotations

from collections.abc import Iterable
from importlib import resources
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingsMap, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

if TYPE_CHECKING:
    from textual.app import App


def _key_rows(app: App[Any], bindings: Iterable[BindingType]) -> list[tuple[str, str]]:
    """(keys, description) per action, keys of one action joined, in declaration order."""
    rows: dict[str, tuple[list[str], str]] = {}
    keymap: dict[str, str] = getattr(app, "_keymap", {})
    bindings_map = BindingsMap(bindings)
    if keymap:
        # Users can remap keys by binding id (App.set_keymap); show what they really press.
        bindings_map.apply_keymap(keymap)
    for _key, binding in bindings_map:
        if binding.system or not binding.description:
            continue
        keys, _ = rows.setdefault(binding.action, ([], binding.tooltip or binding.description))
        display = app.get_key_display(binding)
        if display not in keys:
            keys.append(display)
    return [(" / ".join(keys), text) for keys, text in rows.values()]


def _table(rows: list[tuple[str, str]]) -> str:
    lines = ["| Key | What it does |", "| --- | --- |"]
    # A "|" key would end the cell: escape it for Markdown.
    lines += [f"| `{keys}` | {text.replace('|', '/')} |" for keys, text in rows]
    return "\n".join(lines)


def help_markdown(app: App[Any]) -> str:
    """The help text: the packaged introduction, then a table of keys per section."""
    from tui.app import KeylinkApp, ordered_sections

    intro = resources.files("tui.content").joinpath("help.md").read_text(encoding="utf-8")
    parts = [intro.strip(), "## Everywhere"]
    app_bindings: list[BindingType] = list(KeylinkApp.BINDINGS)
    app_bindings.append(Binding(app.COMMAND_PALETTE_BINDING, "command_palette", "Palette",
                                tooltip="Open the command palette (also: change theme)"))
    parts.append(_table(_key_rows(app, app_bindings)))
    for _mode, section in ordered_sections():
        screen_class = section.screen_class()
        own = [*screen_class.__dict__.get("BINDINGS", []),
               *getattr(screen_class, "WIDGET_BINDINGS", [])]
        parts.append(f"## {section.title} (key {section.key})")
        parts.append(section.description + ".")
        parts.append(_table(_key_rows(app, own)))
    parts.append("## In this help\n\n" + _table(_key_rows(app, HelpScreen.BINDINGS)))
    return "\n\n".join(parts) + "\n"


class HelpScreen(ModalScreen[None]):
    """Every key of every section, scrollable; Escape (or ?) closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "close", "Close", tooltip="Close the help",
                id="help.close"),
    ]

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
        #help-scroll {
            width: 100%;
            max-width: 100;
            height: 100%;
            border: round $primary;
            border-title-color: $text-primary;
            border-subtitle-color: $text-muted;
            background: $surface;
            padding: 0 1;
        }
    }
    """

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-scroll") as scroll:
            scroll.border_title = "Keys and help"
            scroll.border_subtitle = "↑↓ scroll · Esc closes"
            yield Markdown(help_markdown(self.app), id="help-text")

    def action_close(self) -> None:
        self.dismiss()
