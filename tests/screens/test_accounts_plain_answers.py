"""Keys on the accounts screen that cannot do their job say so plainly, at the right severity."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.accounts_fixtures import (
    accounts_app,
    field_message,
    keylink_home,
    open_store,
    paste,
    screen_name,
    unlock,
    vault_home,
    wait_for,
)
from tui.services.keys.credentials import Credentials

__all__ = ["keylink_home", "vault_home"]  # fixtures used by name below

SIZE = (80, 24)
BYBIT_KEY = "AbCdEfGhIjKlMnOpQr"
BYBIT_SECRET = "0123456789abcdefghijABCDEFGHIJ012345"


def banner(pilot) -> str:
    from textual.widgets import Static

    return str(pilot.app.screen.query_one("#form-banner", Static).content)


async def test_p_on_a_bybit_account_is_information_not_a_failure(vault_home: Path) -> None:
    # It read as a failure ("Not copied", error colour), after asking for the vault passphrase.
    open_store().add("Bybit main", "bybit", "mainnet", Credentials(BYBIT_KEY, BYBIT_SECRET))
    app = accounts_app()
    async with app.run_test(size=SIZE) as pilot:
        # The vault stays locked: nothing secret is needed to say there is nothing to copy.
        await wait_for(pilot, lambda: screen_name(pilot) == "UnlockVaultScreen")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen.query("#accounts DataTable, #accounts")
                       and app.screen.accounts)
        await pilot.press("p")
        await wait_for(pilot, lambda: app._notifications)
        await pilot.pause(0.2)
        assert screen_name(pilot) == "AccountsScreen"  # no unlock asked for
        notice = list(app._notifications)[-1]
        assert notice.severity == "information"
        assert notice.message.startswith("Bybit keys have no passphrase")
        assert "Nothing to copy" in notice.message
        assert "Not copied" not in (notice.title or "")


@pytest.mark.slow
async def test_leaving_an_untouched_add_form_asks_nothing(vault_home: Path) -> None:
    # The guide's "a" (store the key) opened the form on its exchange by switching the exchange
    # after opening: Escape then asked "Leave without saving?" although nothing was typed.
    app = accounts_app()
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        for target in ("okx", "bybit", None):
            if target is None:
                await pilot.press("a")
            else:
                app.screen.reveal(f"add:{target}")
            await wait_for(pilot, lambda: screen_name(pilot) == "AddAccountScreen")
            await pilot.pause(0.3)
            if target is not None:
                assert app.screen.exchange_id == target
            await pilot.press("escape")
            await pilot.pause(0.3)
            assert screen_name(pilot) == "AccountsScreen", target
        # Something typed still asks first.
        app.screen.reveal("add:okx")
        await wait_for(pilot, lambda: screen_name(pilot) == "AddAccountScreen")
        await pilot.press("x", "escape")
        await wait_for(pilot, lambda: screen_name(pilot) == "ConfirmScreen")


@pytest.mark.slow
async def test_the_form_names_the_account_that_holds_the_same_key(vault_home: Path) -> None:
    # The same API key could be stored under two names without a word.
    open_store().add("Bybit main", "bybit", "mainnet", Credentials(BYBIT_KEY, BYBIT_SECRET))
    app = accounts_app()
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("a")
        await wait_for(pilot, lambda: screen_name(pilot) == "AddAccountScreen")
        await pilot.press(*"Second")
        await paste(pilot, "api_key", BYBIT_KEY)
        await paste(pilot, "secret", BYBIT_SECRET)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "stored already" in banner(pilot))
        assert 'as "Bybit main"' in banner(pilot) and "ctrl+s again" in banner(pilot)
        assert 'stored already, as "Bybit main"' in field_message(pilot, "api_key")
        assert screen_name(pilot) == "AddAccountScreen"
        assert [a.name for a in open_store().list()] == ["Bybit main"]
        await pilot.press("ctrl+s")  # asked and answered: stored under this name too
        await wait_for(pilot, lambda: screen_name(pilot) == "AccountsScreen")
        assert [a.name for a in open_store().list()] == ["Bybit main", "Second"]
