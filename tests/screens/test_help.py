"""The help screen lists every key of every section, from the real bindings."""

from __future__ import annotations

from textual.containers import VerticalScroll
from textual.widgets import Markdown

from tui.app import SECTIONS, KeylinkApp
from tui.screens.help import HelpScreen, help_markdown

SIZE = (80, 24)


async def test_help_lists_every_binding_of_every_section() -> None:
    app = KeylinkApp()
    async with app.run_test(size=SIZE):
        text = help_markdown(app)
        assert text.startswith("# keylink")  # tui/content/help.md comes first
        for section in SECTIONS.values():
            assert f"## {section.title} (key {section.key})" in text
            screen_class = section.screen_class()
            bindings = [*screen_class.__dict__.get("BINDINGS", []),
                        *getattr(screen_class, "WIDGET_BINDINGS", [])]
            for binding in bindings:
                for key in binding.key.split(","):
                    shown = app.get_key_display(type(binding)(key.strip(), binding.action))
                    assert f"`{shown}" in text or f" {shown}`" in text or f" {shown} " in text, \
                        (section.title, key)
                assert (binding.tooltip or binding.description) in text
        for binding in KeylinkApp.BINDINGS:
            assert binding.tooltip in text
        assert "Open the command palette" in text and "`^p`" in text


async def test_help_follows_a_remapped_key() -> None:
    app = KeylinkApp()
    async with app.run_test(size=SIZE):
        app.set_keymap({"guide.exchange": "x"})
        text = help_markdown(app)
        line = next(row for row in text.splitlines() if "next exchange" in row)
        assert line.startswith("| `x` |")


async def test_help_screen_scrolls_and_closes() -> None:
    app = KeylinkApp(start_screen="faq")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, HelpScreen)
        scroll = screen.query_one("#help-scroll", VerticalScroll)
        assert scroll.max_scroll_y > 0  # longer than 24 lines: it must scroll
        await pilot.press("end")
        await pilot.pause()
        assert scroll.scroll_y > 0
        assert screen.query_one(Markdown).source == help_markdown(app)
        await pilot.press("escape")
        assert app.current_mode == "faq" and not isinstance(app.screen, HelpScreen)
