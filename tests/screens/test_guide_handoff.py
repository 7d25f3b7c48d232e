"""The guide leads into keylink: a key opens the add form for its exchange, and the last step is
a paste-along checklist that copies a stored account's fields one key press at a time."""

from __future__ import annotations

from pathlib import Path

from textual.containers import VerticalScroll
from textual.widgets import Select, Static

from tests.support.accounts_fixtures import (
    BYBIT_KEY,
    BYBIT_SECRET,
    OKX_KEY,
    OKX_SECRET,
    PASSPHRASE,
    checked_now,
    keylink_home,
    open_store,
    paste,
    screen_name,
    vault_home,
    wait_for,
)
from tui.app import KeylinkApp
from tui.screens.guide import GuideScreen
from tui.services.keys.credentials import Credentials

__all__ = ["keylink_home", "vault_home"]

OKX_PASSPHRASE = "Okx-Pass-7731"
SIZE = (80, 24)


def checklist(screen: GuideScreen) -> str:
    return str(screen.query_one("#checklist", Static).render())


async def answer_unlock(pilot) -> None:
    await wait_for(pilot, lambda: screen_name(pilot) == "UnlockVaultScreen")
    await paste(pilot, "passphrase", PASSPHRASE)
    await pilot.press("enter")


async def test_store_step_opens_the_add_form_for_the_guides_exchange(vault_home: Path) -> None:
    app = KeylinkApp()
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, GuideScreen)
        assert screen.check_action("store_key", ()) is False  # only on its step
        screen.set_exchange("okx")
        screen.reveal("store")
        await pilot.pause()
        assert "keylink opens its add form for OKX" in str(
            screen.query_one("#step-body", Static).render()).replace("\n", " ")
        await pilot.press("a")
        await answer_unlock(pilot)
        await wait_for(pilot, lambda: screen_name(pilot) == "AddAccountScreen")
        await pilot.pause()
        assert app.screen.query_one("#exchange", Select).value == "okx"


async def test_checklist_copies_each_field_in_order_and_marks_it_done(
    vault_home: Path,
) -> None:
    store = open_store()
    checked_now(store, store.add("Okx one", "okx", "mainnet",
                                 Credentials(OKX_KEY, OKX_SECRET, OKX_PASSPHRASE)))
    app = KeylinkApp()
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, GuideScreen)
        screen.set_exchange("okx")
        screen.reveal("terminal-enter")
        await wait_for(pilot, lambda: "From Okx one" in checklist(screen))
        assert "→ 1. Display name" in checklist(screen)
        detail = screen.query_one("#step-detail", VerticalScroll)
        await pilot.pause()
        assert detail.max_scroll_y == 0  # the whole checklist fits at 80x24

        await pilot.press("c")
        await wait_for(pilot, lambda: app.clipboard == "Okx one")
        await wait_for(pilot, lambda: "✓ 1. Display name" in checklist(screen))
        await pilot.press("c")  # a secret field: the locked vault is unlocked first
        await answer_unlock(pilot)
        await wait_for(pilot, lambda: app.clipboard == OKX_KEY)
        for value in (OKX_SECRET, OKX_PASSPHRASE):
            await pilot.press("c")
            await wait_for(pilot, lambda value=value: app.clipboard == value)
        await wait_for(pilot, lambda: "All copied" in checklist(screen))
        text = checklist(screen)
        for number in range(1, 5):
            assert f"✓ {number}." in text
        shown = app.export_screenshot()
        for secret in (OKX_KEY, OKX_SECRET, OKX_PASSPHRASE):
            assert secret not in shown


async def test_checklist_without_passphrase_and_without_accounts(vault_home: Path) -> None:
    app = KeylinkApp()
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, GuideScreen)
        screen.reveal("terminal-enter")
        await wait_for(pilot, lambda: "No Bybit account is stored" in checklist(screen))
        assert screen.check_action("copy_next", ()) is None
        # Stored meanwhile (as from the accounts section): coming back reads it.
        open_store().add("Main", "bybit", "mainnet", Credentials(BYBIT_KEY, BYBIT_SECRET))
        open_store().add("Second", "bybit", "testnet", Credentials(BYBIT_KEY, BYBIT_SECRET))
        await pilot.press("2")
        await wait_for(pilot, lambda: screen_name(pilot) == "UnlockVaultScreen")
        await pilot.press("escape")  # the accounts section asks to unlock: not now
        await wait_for(pilot, lambda: screen_name(pilot) == "AccountsScreen")
        await pilot.press("1")
        await wait_for(pilot, lambda: "From Main (1 of 2, o: another)" in checklist(screen))
        assert "4. Passphrase: none on Bybit, leave it empty" in checklist(screen)
        await pilot.press("o")
        assert "From Second (2 of 2" in checklist(screen)
