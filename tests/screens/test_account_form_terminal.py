"""The account form's Terminal field: it sets the whitelist the terminal uses on the exchange,
starts on the terminal chosen in the guide, and is saved with the account."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Select

from tests.support.accounts_fixtures import (
    BYBIT_KEY,
    BYBIT_SECRET,
    accounts_app,
    choose,
    focus,
    keylink_home,
    open_store,
    paste,
    screen_name,
    type_text,
    unlock,
    vault_home,
    wait_for,
)

__all__ = ["keylink_home", "vault_home"]  # fixtures used by name below


def _value(pilot, field_id: str) -> object:
    return pilot.app.screen.query_one(f"#{field_id}", Select).value


@pytest.mark.slow
async def test_the_terminal_sets_the_whitelist_and_is_saved(vault_home: Path) -> None:
    async with accounts_app().run_test(size=(100, 40)) as pilot:
        await unlock(pilot)
        await pilot.press("a")
        await wait_for(pilot, lambda: screen_name(pilot) == "AddAccountScreen")
        assert _value(pilot, "terminal") == "unset"
        assert _value(pilot, "whitelist") == "insilico-general"  # the exchange's usual one
        await choose(pilot, "terminal", "Gainium", "gainium")
        assert _value(pilot, "whitelist") == "linked"  # Bybit links Gainium keys itself
        await choose(pilot, "exchange", "Binance", "binance")
        assert _value(pilot, "whitelist") == "gainium"  # Binance: Gainium's published list
        await choose(pilot, "terminal", "Altrady", "altrady")
        assert _value(pilot, "whitelist") == "own"  # Altrady shows each key its own list
        await choose(pilot, "exchange", "Bybit", "bybit")
        await choose(pilot, "terminal", "Veles", "veles")
        assert _value(pilot, "whitelist") == "veles"
        await focus(pilot, "name")
        await type_text(pilot, "Veles main")
        await paste(pilot, "api_key", BYBIT_KEY)
        await paste(pilot, "secret", BYBIT_SECRET)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: screen_name(pilot) == "AccountsScreen")
    (account,) = open_store().list()
    assert (account.terminal, account.whitelist) == ("veles", "veles")


@pytest.mark.slow
async def test_the_form_starts_on_the_guide_s_terminal_and_edit_keeps_the_account_s(
        vault_home: Path) -> None:
    from tui.services.core.settings import Settings, save_settings
    from tui.services.keys.credentials import Credentials

    save_settings(Settings(guide_terminal="3commas"))
    open_store().add("Kept", "okx", "mainnet",
                     Credentials("2a0c8a9e-5b7d-4c3e-9a21-6d4e8b2f7c10",
                                 "B1B2C3D4E5F60718293A4B5C6D7E8F90", "Okx-Pass-1"),
                     terminal="gainium", whitelist="none")
    async with accounts_app().run_test(size=(100, 40)) as pilot:
        await unlock(pilot)
        await pilot.press("a")
        await wait_for(pilot, lambda: screen_name(pilot) == "AddAccountScreen")
        assert _value(pilot, "terminal") == "3commas"
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen_name(pilot) == "AccountsScreen")
        await pilot.press("e")
        await wait_for(pilot, lambda: screen_name(pilot) == "EditAccountScreen")
        await pilot.pause()
        # The account's own choices, not the terminal's usual whitelist.
        assert (_value(pilot, "terminal"), _value(pilot, "whitelist")) == ("gainium", "none")
        await choose(pilot, "terminal", "Not said", "unset")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: screen_name(pilot) == "AccountsScreen")
    (account,) = open_store().list()
    assert account.terminal is None


@pytest.mark.slow
async def test_a_per_user_terminal_keeps_the_addresses_typed(vault_home: Path) -> None:
    from tests.support.accounts_fixtures import field_message

    async with accounts_app().run_test(size=(100, 40)) as pilot:
        await unlock(pilot)
        await pilot.press("a")
        await wait_for(pilot, lambda: screen_name(pilot) == "AddAccountScreen")
        row = pilot.app.screen.query_one("#row-own_ips")
        assert not row.display
        await choose(pilot, "exchange", "Binance", "binance")
        await choose(pilot, "terminal", "Altrady", "altrady")
        assert _value(pilot, "whitelist") == "own" and row.display
        await focus(pilot, "name")
        await type_text(pilot, "Altrady")
        await paste(pilot, "api_key", "A" * 64)
        await paste(pilot, "secret", "B" * 64)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "Paste the addresses" in field_message(pilot, "own_ips"))
        await paste(pilot, "own_ips", "10.0.0.1")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "private" in field_message(pilot, "own_ips"))
        assert open_store().list() == []
        await focus(pilot, "own_ips")
        pilot.app.screen.query_one("#own_ips").value = ""
        await paste(pilot, "own_ips", "5.6.7.8, 5.6.7.9")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: screen_name(pilot) == "AccountsScreen")
    (account,) = open_store().list()
    assert account.whitelist == "own" and account.terminal == "altrady"
    assert account.own_list is not None
    assert account.own_list.addresses == ("5.6.7.8", "5.6.7.9")
    assert account.own_list.source == "typed in the form"
