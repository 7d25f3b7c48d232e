"""The app stays right: ctrl+q asks before throwing away a form's input, and the accounts screen
follows accounts.json when another window or the CLI changes it (and has a refresh key)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable

from tests.support.accounts_fixtures import (
    BYBIT_KEY,
    BYBIT_SECRET,
    accounts_app,
    field_value,
    keylink_home,
    open_store,
    paste,
    screen_name,
    type_text,
    unlock,
    vault_home,
    wait_for,
)
from tui.app import KeylinkApp
from tui.services.keys.credentials import Credentials

__all__ = ["keylink_home", "vault_home"]  # fixtures used by name below


def table_names(app: KeylinkApp) -> list[str]:
    table = app.screen_stack[0].query_one("#accounts", DataTable)
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


@pytest.mark.slow
async def test_ctrl_q_in_a_form_with_a_pasted_key_asks_first(vault_home: Path) -> None:
    app = accounts_app()
    async with app.run_test(size=(100, 34)) as pilot:
        await unlock(pilot)
        await pilot.press("a")
        await wait_for(pilot, lambda: screen_name(pilot) == "AddAccountScreen")
        await type_text(pilot, "Bybit main")
        await paste(pilot, "api_key", BYBIT_KEY)
        await paste(pilot, "secret", BYBIT_SECRET)
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: screen_name(pilot) == "ConfirmScreen")
        assert app.is_running and app.return_code is None
        await pilot.press("ctrl+q")  # a second press while asked does not quit either
        await pilot.pause()
        assert app.is_running and screen_name(pilot) == "ConfirmScreen"
        await pilot.press("n")  # keep editing: nothing lost
        await wait_for(pilot, lambda: screen_name(pilot) == "AddAccountScreen")
        assert field_value(pilot, "api_key") == BYBIT_KEY
        assert field_value(pilot, "secret") == BYBIT_SECRET
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: screen_name(pilot) == "ConfirmScreen")
        await pilot.press("y")
        await wait_for(pilot, lambda: not app.is_running)
    assert open_store().list() == []


async def test_ctrl_q_with_nothing_typed_quits_at_once(vault_home: Path) -> None:
    app = accounts_app()
    async with app.run_test(size=(100, 34)) as pilot:
        await unlock(pilot)
        await pilot.press("a")
        await wait_for(pilot, lambda: screen_name(pilot) == "AddAccountScreen")
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: not app.is_running)


async def test_ctrl_q_asks_even_from_another_section(vault_home: Path) -> None:
    app = accounts_app()
    async with app.run_test(size=(100, 34)) as pilot:
        await unlock(pilot)
        await pilot.press("a")
        await wait_for(pilot, lambda: screen_name(pilot) == "AddAccountScreen")
        await paste(pilot, "api_key", BYBIT_KEY)
        await app.show("whitelist")
        await pilot.pause()
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: screen_name(pilot) == "ConfirmScreen")
        assert app.is_running


@pytest.mark.slow
async def test_accounts_follow_changes_made_by_another_process(vault_home: Path) -> None:
    store = open_store()
    store.add("First", "bybit", "mainnet", Credentials(BYBIT_KEY, BYBIT_SECRET))
    app = accounts_app()
    async with app.run_test(size=(100, 34)) as pilot:
        await unlock(pilot)
        await wait_for(pilot, lambda: table_names(app) == ["First"])
        await pilot.pause(1.5)  # the screen has had its first look at the file
        # The CLI (or another window) adds one, renames one and removes one.
        other = open_store()
        second = other.add("Second", "bybit", "testnet", Credentials(BYBIT_KEY, BYBIT_SECRET))
        await wait_for(pilot, lambda: table_names(app) == ["First", "Second"], timeout=10)
        other.remove(second.id)
        await wait_for(pilot, lambda: table_names(app) == ["First"], timeout=10)
        assert screen_name(pilot) == "AccountsScreen"


async def test_the_reload_key_reads_the_file_again(vault_home: Path, monkeypatch) -> None:
    from tui.app import KeylinkApp

    monkeypatch.setattr(KeylinkApp, "SESSION_TICK", 3600)  # only the key, for this test
    app = accounts_app()
    async with app.run_test(size=(100, 34)) as pilot:
        await unlock(pilot)
        screen = app.screen_stack[0]
        await pilot.pause(0.5)
        assert table_names(app) == []
        open_store().add("Added elsewhere", "bybit", "mainnet",
                         Credentials(BYBIT_KEY, BYBIT_SECRET))
        await pilot.press("ctrl+l")
        await wait_for(pilot, lambda: table_names(app) == ["Added elsewhere"], timeout=10)
        assert "ctrl+l" in screen.active_bindings  # offered (footer and help list it)
