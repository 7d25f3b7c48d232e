"""Keys on the guide's checklist step that cannot act say why."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Static

from tests.support.accounts_fixtures import (
    BYBIT_KEY,
    BYBIT_SECRET,
    OKX_KEY,
    OKX_SECRET,
    PASSPHRASE,
    checked_now,
    keylink_home,
    open_store,
    vault_home,
    wait_for,
)
from tui.app import KeylinkApp
from tui.screens.guide import GuideScreen
from tui.services.keys.credentials import Credentials

__all__ = ["keylink_home", "vault_home"]

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
        # The palette's "Copy next" gives the same answer.
        app.clear_notifications()
        screen.explain_unavailable("copy_next")
        await wait_for(pilot, lambda: app._notifications)
        assert "press a" in list(app._notifications)[-1].message
        # On any other step c is not this screen's key: nothing is said.
        app.clear_notifications()
        screen.reveal("login")
        await pilot.pause()
        await pilot.press("c")
        await pilot.pause(0.2)
        assert not app._notifications


@pytest.mark.slow
@pytest.mark.parametrize("exchange_id", ["bybit", "okx"])
async def test_copy_notices_leave_the_checklist_in_view(vault_home: Path, exchange_id: str) -> None:
    # At 80x24 copy notices (bottom right, stacking up) covered the checklist's next-item marker.
    from tui.screens.credential_copy import copy_message
    from tui.services.handoff import clipboard

    if exchange_id == "okx":
        creds = Credentials(OKX_KEY, OKX_SECRET, "Okx-Pass-7731")
    else:
        creds = Credentials(BYBIT_KEY, BYBIT_SECRET)
    store = open_store()
    checked_now(store, store.add("Main one", exchange_id, "mainnet", creds))  # asks nothing
    app = KeylinkApp()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = app.screen
        assert isinstance(screen, GuideScreen)
        screen.set_exchange(exchange_id)
        screen.reveal("terminal-enter")
        box = screen.query_one("#checklist", Static)
        await wait_for(pilot, lambda: "From Main one" in str(box.render()))
        app.session.secrets.unlock(PASSPHRASE)
        for number, name in ((1, "Display name"), (2, "API key"), (3, "API secret")):
            await pilot.press("c")
            await wait_for(pilot, lambda number=number, name=name:
                           f"✓ {number}. {name}" in str(box.render()))
            await wait_for(pilot, lambda: screen.query("Toast"))
            await pilot.pause(0.3)
            shown = str(box.render())
            assert "All copied" in shown or any(line.startswith("→ ")
                                                for line in shown.splitlines())
            assert len(screen.query("Toast")) == 1  # the earlier copy's notice is taken down
            assert screen.region.contains_region(box.region)
            for toast in screen.query("Toast"):
                assert not toast.region.overlaps(box.region), (number, toast.region, box.region)
        # The longest copy notice there is (with tmux's advice) leaves it in view too.
        app.clear_notifications()
        app.notify(copy_message("the API secret of Main one", (clipboard.OSC52, clipboard.SYSTEM),
                                45, "external"), title="Copy", timeout=8)
        await wait_for(pilot, lambda: screen.query("Toast"))
        await pilot.pause(0.3)
        for toast in screen.query("Toast"):
            assert not toast.region.overlaps(box.region), (toast.region, box.region)
