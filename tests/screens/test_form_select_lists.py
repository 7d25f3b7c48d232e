"""A select list opened in the account form at 80x24 leaves the footer (its keys) in view."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Footer, Select
from textual.widgets._select import SelectOverlay

from tests.support.accounts_fixtures import (
    accounts_app,
    keylink_home,
    screen_name,
    unlock,
    vault_home,
    wait_for,
)

__all__ = ["keylink_home", "vault_home"]  # fixtures used by name below


def _text(app) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


@pytest.mark.slow
@pytest.mark.parametrize("scrolled", [False, True], ids=["plain", "after-a-failed-save"])
@pytest.mark.parametrize("field", ["exchange", "environment", "whitelist", "key_kind"])
async def test_an_open_select_list_keeps_off_the_footer(vault_home: Path, field: str,
                                                        scrolled: bool) -> None:
    app = accounts_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        await pilot.press("a")
        await wait_for(pilot, lambda: screen_name(pilot) == "AddAccountScreen")
        select = app.screen.query_one(f"#{field}", Select)
        select.focus()
        await pilot.pause()
        if scrolled:
            # A failed save puts a banner above the fields: every list starts lower.
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: "Not saved" in str(
                app.screen.query_one("#form-banner").render()))
            select.focus()
            await pilot.pause()
        await pilot.press("enter")
        overlay = select.query_one(SelectOverlay)
        await wait_for(pilot, lambda: select.expanded and overlay.region.height > 0)
        await pilot.pause(0.2)
        footer = app.screen.query_one(Footer)
        print(_text(app))
        assert footer.region.height == 1
        assert not overlay.region.overlaps(footer.region), (overlay.region, footer.region)
