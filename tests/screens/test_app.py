"""The app shell: sections and their keys, Escape, help, quit, palette entries, themes."""

from __future__ import annotations

import pytest
from textual.command import CommandPalette

from tui import app as app_module
from tui import sections as sections_module
from tui.app import KeylinkApp
from tui.commands import KeylinkCommands, palette_commands
from tui.screens.faq import FaqScreen
from tui.screens.guide import GuideScreen
from tui.screens.help import HelpScreen
from tui.screens.whitelist import WhitelistScreen
from tui.sections import SECTIONS, ordered_sections
from tui.widgets.section_bar import SectionBar

SIZE = (80, 24)
# The sections this suite drives by key (the accounts section has its own tests).
MINE = {"guide": GuideScreen, "whitelist": WhitelistScreen, "faq": FaqScreen}


def test_every_section_key_is_bound_and_no_other_number_key() -> None:
    bound = {b.key: b.action for b in KeylinkApp.BINDINGS if b.key.isdigit()}
    assert bound == {s.key: f"show('{mode}')" for mode, s in SECTIONS.items()}
    assert set(KeylinkApp.MODES) == set(SECTIONS)


def test_bindings_follow_the_section_dict(monkeypatch: pytest.MonkeyPatch) -> None:
    # Without a section registered for key 2 there is no dead "2" binding.
    fewer = {mode: s for mode, s in SECTIONS.items() if s.key != "2"}
    monkeypatch.setattr(sections_module, "SECTIONS", fewer)
    keys = [b.key for b in app_module._section_bindings()]
    assert "2" not in keys
    assert keys == sorted(s.key for s in fewer.values())


def test_bindings_have_ids_and_descriptions() -> None:
    for binding in KeylinkApp.BINDINGS:
        assert binding.id and binding.description
    for screen_class in MINE.values():
        for binding in screen_class.BINDINGS:
            if binding.action.startswith("explain"):
                # A key's stand-in that says why its action cannot run: left out of the footer,
                # help and palette on purpose (as on the accounts screen).
                assert not binding.description and not binding.show
                continue
            assert binding.id and binding.description and binding.tooltip


def test_unknown_start_screen_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown start screen 'nope'"):
        KeylinkApp(start_screen="nope")


@pytest.mark.parametrize("start", sorted(MINE))
async def test_start_screen(start: str) -> None:
    app = KeylinkApp(start_screen=start)
    async with app.run_test(size=SIZE):
        assert app.current_mode == start
        assert isinstance(app.screen, MINE[start])
        assert app.title == "keylink"


async def test_number_keys_switch_sections_and_escape_goes_back() -> None:
    app = KeylinkApp()
    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app.screen, GuideScreen)
        # Nothing to go back to yet: Escape is not offered.
        assert not app.check_action("back", ())
        await pilot.press(SECTIONS["whitelist"].key)
        assert isinstance(app.screen, WhitelistScreen)
        await pilot.press(SECTIONS["faq"].key)
        assert isinstance(app.screen, FaqScreen)
        await pilot.press(SECTIONS["guide"].key)
        assert isinstance(app.screen, GuideScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, FaqScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, WhitelistScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, GuideScreen)
        await pilot.press("escape")  # history empty: stays
        assert isinstance(app.screen, GuideScreen)
        assert app.section_history == []


@pytest.mark.slow
async def test_escape_history_is_bounded() -> None:
    app = KeylinkApp()
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(15):
            await pilot.press(SECTIONS["faq"].key, SECTIONS["guide"].key)
        assert len(app.section_history) == app_module._HISTORY_LIMIT
        assert app.section_history[-1] == "faq"


async def test_section_screens_are_built_once_and_keep_their_state() -> None:
    app = KeylinkApp()
    async with app.run_test(size=SIZE) as pilot:
        guide = app.screen
        await pilot.press("n", "n")
        await pilot.press(SECTIONS["faq"].key, SECTIONS["guide"].key)
        assert app.screen is guide
        assert isinstance(guide, GuideScreen) and guide.step_index == 2


async def test_help_opens_over_any_section_and_escape_closes_it() -> None:
    app = KeylinkApp(start_screen="whitelist")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        assert app.check_action("back", ())
        # Section keys do nothing under the help (it is modal).
        await pilot.press(SECTIONS["faq"].key)
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, WhitelistScreen)
        await pilot.press("question_mark", "question_mark")
        assert isinstance(app.screen, WhitelistScreen)


async def test_ctrl_q_quits_from_a_section_and_from_the_help() -> None:
    for keys in (("ctrl+q",), ("question_mark", "ctrl+q")):
        app = KeylinkApp()
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press(*keys)
            await pilot.pause()
        assert app.return_code == 0
        assert not app.is_running


async def test_palette_lists_every_section_and_the_screens_actions() -> None:
    app = KeylinkApp()
    async with app.run_test(size=SIZE) as pilot:
        titles = [c.title for c in palette_commands(app, app.screen)]
        for _mode, section in ordered_sections():
            assert f"Go to {section.title}" in titles
        assert "Help: all keys" in titles
        for binding in GuideScreen.BINDINGS:
            if app.screen.check_action(binding.action, ()) is True:
                assert f"Guide: {binding.description}" in titles
        assert "Guide: Prev" not in titles  # disabled on the first step
        assert "Guide: Focus Next" not in titles  # Textual's generic keys stay out
        assert "Guide: word it for Bitget" in titles

        # The provider yields the same entries, and Textual's system commands stay.
        provider = KeylinkCommands(app.screen)
        discovered = [hit.text async for hit in provider.discover()]
        assert discovered == titles
        found = [hit.text async for hit in provider.search("faq")]
        assert "Go to FAQ" in found

        # Running an entry does what it says.
        go_faq = next(c for c in palette_commands(app, app.screen) if c.title == "Go to FAQ")
        await go_faq.callback()
        await pilot.pause()
        assert isinstance(app.screen, FaqScreen)
        faq_titles = [c.title for c in palette_commands(app, app.screen)]
        assert "FAQ: Filter" in faq_titles and "Go back" in faq_titles
        assert any(t.startswith("FAQ: Why restrict a key") for t in faq_titles)


@pytest.mark.slow
async def test_palette_opens_with_ctrl_p_and_keeps_system_commands() -> None:
    app = KeylinkApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert CommandPalette.is_open(app)
        providers = {type(p).__name__ for p in app.screen._providers}
        assert {"KeylinkCommands", "SystemCommandsProvider"} <= providers
        await pilot.press(*"go to whitelist")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, WhitelistScreen)


async def test_section_bar_shows_the_current_section_and_switches_on_click() -> None:
    app = KeylinkApp()
    async with app.run_test(size=SIZE) as pilot:
        bar = app.screen.query_one(SectionBar)
        text = bar.labels().plain
        for _mode, section in ordered_sections():
            assert f" {section.key} {section.title} " in text
        assert bar.current == "guide"
        faq_label = f" {SECTIONS['faq'].key} FAQ "
        await pilot.click(SectionBar, offset=(text.index(faq_label) + 2, 0))
        assert isinstance(app.screen, FaqScreen)
        assert app.screen.query_one(SectionBar).current == "faq"


async def test_themes_switch_and_restyle() -> None:
    app = KeylinkApp()
    async with app.run_test(size=SIZE) as pilot:
        # Textual's theme picker stays in the palette.
        assert "Theme" in [c.title for c in app.get_system_commands(app.screen)]
        colours = set()
        for theme in ("textual-dark", "textual-light", "nord", "gruvbox"):
            app.theme = theme
            await pilot.pause()
            colours.add(app.screen.styles.background.hex)
            # The security note is tinted from the theme's $warning.
            assert app.theme_variables["warning"]
        assert len(colours) == 4


def test_start_up_imports_nothing_heavy() -> None:
    # The app module and the screens of this suite must not pull in the network, keyring or
    # crypto stacks: those are imported lazily where they are used.
    import subprocess
    import sys

    code = (
        "import sys, tui.app, tui.commands, tui.screens.guide, tui.screens.whitelist, "
        "tui.screens.faq, tui.screens.help\n"
        "heavy = sorted(m for m in ('httpx', 'keyring', 'cryptography', 'pyperclip') "
        "if m in sys.modules)\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


async def test_palette_from_the_guide_offers_every_sections_actions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    app = KeylinkApp()
    async with app.run_test(size=SIZE) as pilot:
        provider = KeylinkCommands(app.screen)
        for query, expected in (("copy", "Whitelist: Copy all"), ("verify", "Accounts: Verify"),
                                ("unlock", "Accounts: Unlock vault"), ("filter", "FAQ: Filter")):
            found = [hit.text async for hit in provider.search(query)]
            assert expected in found, (query, found)
        # Running one shows its section and does it there.
        copy_all = next(c for c in palette_commands(app, app.screen)
                        if c.title == "Whitelist: Copy all")
        await copy_all.callback()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.current_mode == "whitelist"
        assert app.clipboard.startswith("18.167.89.125,")


def test_arrows_point_down_only() -> None:
    # The section registry lives in tui/sections.py; screens, widgets, the palette and the
    # registry itself never import the app module (it imports them).
    import ast
    from pathlib import Path

    import tui

    root = Path(tui.__file__).parent
    below = [*root.glob("screens/*.py"), *root.glob("widgets/*.py"),
             root / "commands.py", root / "sections.py"]
    for path in below:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            assert not any(n == "tui.app" or n.startswith("tui.app.") for n in names), path
