"""Keys on the guide's checklist step that cannot act say why."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static

from tests.screens.accounts_fixtures import keylink_home, wait_for
from tui.app import KeylinkApp
from tui.screens.guide import GuideScreen

__all__ = ["keylink_home"]

SIZE = (80, 24)


async def test_c_without_a_stored_account_says_what_to_do(keylink_home: Path) -> None:
    # c on the last step did nothing at all when no account was stored.
    app = KeylinkApp()
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, GuideScreen)
        screen.reveal("terminal-enter")
        await wait_for(pilot, lambda: "No Bybit account is stored" in str(
            screen.query_one("#checklist", Static).render()))
        await pilot.press("c")
        await wait_for(pilot, lambda: app._notifications)
        notice = list(app._notifications)[-1]
        assert "no Bybit account is stored in keylink yet" in notice.message
        assert "press a" in notice.message and "Store it in keylink" in notice.message
        assert app.clipboard == ""
        # On any other step c is not this screen's key: nothing is said.
        app.clear_notifications()
        screen.reveal("login")
        await pilot.pause()
        await pilot.press("c")
        await pilot.pause(0.2)
        assert not app._notifications
