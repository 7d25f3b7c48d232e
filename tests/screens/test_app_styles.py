"""A section's first visit does not make Textual parse all CSS again and restyle the whole app
(tui/app.py, _mark_styles_current), and a theme change still reaches every section, seen or not."""

from __future__ import annotations

import pytest
from textual.color import Color
from textual.css.stylesheet import Stylesheet

from tests.support.accounts_fixtures import wait_for
from tui.app import KeylinkApp

SIZE = (80, 24)


def _theme_background(app: KeylinkApp) -> Color:
    return Color.parse(app.get_css_variables()["background"])  # the theme's $background


async def test_first_visits_do_not_reparse_the_css(monkeypatch: pytest.MonkeyPatch) -> None:
    reparsed: list[int] = []
    real = Stylesheet.reparse
    monkeypatch.setattr(Stylesheet, "reparse",
                        lambda self: reparsed.append(1) or real(self))
    app = KeylinkApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for key, name in (("3", "WhitelistScreen"), ("4", "FaqScreen")):
            await pilot.press(key)
            await wait_for(pilot, lambda name=name: type(app.screen).__name__ == name)
        assert reparsed == []  # Textual's refresh for a new mode screen: twice per visit


@pytest.mark.parametrize("seen_before", [False, True])
async def test_a_theme_change_reaches_a_section_seen_or_not(seen_before: bool) -> None:
    app = KeylinkApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        if seen_before:
            await pilot.press("3")
            await wait_for(pilot, lambda: type(app.screen).__name__ == "WhitelistScreen")
            await pilot.press("1")
            await wait_for(pilot, lambda: type(app.screen).__name__ == "GuideScreen")
        before = _theme_background(app)
        app.theme = "textual-light" if app.theme != "textual-light" else "nord"
        await pilot.pause()
        after = _theme_background(app)
        assert after != before
        assert app.screen.styles.background == after  # the section shown
        await pilot.press("3")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "WhitelistScreen")
        await pilot.pause()
        assert app.screen.styles.background == after
