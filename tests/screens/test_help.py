"""The help screen lists every key of every section, from the real bindings, once."""

from __future__ import annotations

from textual.containers import VerticalScroll
from textual.widgets import Static

from tui.app import KeylinkApp
from tui.screens.help import HelpScreen, help_tables
from tui.sections import SECTIONS

SIZE = (80, 24)


def _rows_text(tables) -> str:
    return "\n".join(f"{keys} | {text}" for table in tables for keys, text in table.rows)


async def test_help_lists_every_binding_of_every_section() -> None:
    app = KeylinkApp()
    async with app.run_test(size=SIZE):
        tables = help_tables(app)
        headings = [t.heading for t in tables]
        assert headings[0] == "Everywhere" and headings[-1] == "In this help"
        for section in SECTIONS.values():
            table = next(t for t in tables if t.heading == f"{section.title} (press {section.key})")
            keys = {key for row in table.rows for key in row[0].split(" / ")}
            texts = " ".join(text for _, text in table.rows)
            screen_class = section.screen_class()
            bindings = [*screen_class.__dict__.get("BINDINGS", []),
                        *getattr(screen_class, "WIDGET_BINDINGS", [])]
            for binding in bindings:
                if not binding.description:
                    continue
                for key in binding.key.split(","):
                    shown = app.get_key_display(type(binding)(key.strip(), binding.action))
                    assert shown in keys, (section.title, key)
                assert (binding.tooltip or binding.description) in texts
        everywhere = _rows_text(tables[:1])
        for binding in KeylinkApp.BINDINGS:
            assert binding.tooltip in everywhere
        assert "Open the command palette" in everywhere and "^p" in everywhere


async def test_help_has_no_key_twice_in_one_part() -> None:
    # The FAQ's and the whitelist's Escape each used to get two rows.
    app = KeylinkApp()
    async with app.run_test(size=SIZE):
        for table in help_tables(app):
            keys = [key for row in table.rows for key in row[0].split(" / ")]
            assert len(keys) == len(set(keys)), (table.heading, keys)
        faq = next(t for t in help_tables(app) if t.heading.startswith("FAQ"))
        esc = [text for keys, text in faq.rows if "esc" in keys.split(" / ")]
        assert len(esc) == 1 and "filter" in esc[0]


async def test_help_says_each_thing_once() -> None:
    # The whitelist's Escape read "Close the file box; In the file box: close it without loading".
    app = KeylinkApp()
    async with app.run_test(size=SIZE):
        for table in help_tables(app):
            for keys, text in table.rows:
                assert text.lower().count("file box") <= 1, (table.heading, keys, text)
        whitelist = next(t for t in help_tables(app) if t.heading.startswith("Whitelist"))
        esc = [text for keys, text in whitelist.rows if "esc" in keys.split(" / ")]
        assert esc == ["In the file box: close it without loading"]


async def test_help_follows_a_remapped_key() -> None:
    app = KeylinkApp()
    async with app.run_test(size=SIZE):
        app.set_keymap({"guide.exchange": "x"})
        guide = next(t for t in help_tables(app) if t.heading.startswith("Guide"))
        keys = next(keys for keys, text in guide.rows if "next exchange" in text)
        assert keys == "x"


async def test_help_screen_scrolls_closes_and_is_built_once() -> None:
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
        text = screen.query_one("#help-text", Static)
        await pilot.press("escape")
        assert app.current_mode == "faq" and not isinstance(app.screen, HelpScreen)

        # Opened again (from another section too): the same screen and widget, from the top.
        await pilot.press("1", "question_mark")
        await pilot.pause()
        assert app.screen is screen and screen.query_one("#help-text", Static) is text
        assert scroll.scroll_y == 0
        await pilot.press("question_mark")
        await pilot.pause()
        assert app.current_mode == "guide" and not isinstance(app.screen, HelpScreen)


async def test_the_help_is_drawn_once_per_width(monkeypatch) -> None:
    """Textual draws a widget's renderable to measure it, on each reflow and to paint it; the
    long help (Markdown and a table per section) is drawn once per width and kept."""
    from rich.markdown import Markdown

    draws: list[int] = []
    real = Markdown.__rich_console__

    def counted(self, console, options):
        draws.append(options.max_width)
        return real(self, console, options)

    monkeypatch.setattr(Markdown, "__rich_console__", counted)
    from tests.support.accounts_fixtures import wait_for

    app = KeylinkApp(start_screen="faq")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.help_drawing is not None)  # the warm-up's drawing
        await pilot.press("question_mark")
        await pilot.pause()
        await pilot.press("end")  # scrolled: painted again, not drawn again
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert len(draws) == 1
        await pilot.resize_terminal(100, 30)  # a new width: drawn for it, once
        await pilot.pause()
        assert len(draws) == 2 and draws[0] != draws[1]


async def test_the_help_is_drawn_ahead_after_the_first_paint(monkeypatch) -> None:
    """The warm-up (after the first paint) draws the help for the app's width: the first ?
    only shows it. At 120 columns the frame stops at its max-width."""
    from rich.markdown import Markdown

    from tests.support.accounts_fixtures import wait_for

    draws: list[int] = []
    real = Markdown.__rich_console__

    def counted(self, console, options):
        draws.append(options.max_width)
        return real(self, console, options)

    monkeypatch.setattr(Markdown, "__rich_console__", counted)
    for size in ((80, 24), (120, 34)):
        draws.clear()
        app = KeylinkApp()
        async with app.run_test(size=size) as pilot:
            assert app.help_drawing is None and draws == []  # nothing of it before the paint
            await wait_for(pilot, lambda app=app: app.help_drawing is not None)
            assert len(draws) == 1
            await pilot.press("question_mark")
            await pilot.pause()
            assert isinstance(app.screen, HelpScreen)
            assert len(draws) == 1, f"drawn again at {draws[1:]} (the guess was {draws[0]})"
