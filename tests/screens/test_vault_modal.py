"""The vault modals: create (passphrase twice), unlock, wrong passphrase, damaged file."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Static

from tests.support.accounts_fixtures import (
    PASSPHRASE,
    accounts_app,
    keylink_home,
    paste,
    screen_name,
    status_text,
    type_text,
    unlock,
    vault_home,
    wait_for,
)
from tui.screens.vault import UnlockVaultScreen

__all__ = ["keylink_home", "vault_home"]  # fixtures used by name below


def message(pilot) -> str:
    return str(pilot.app.screen.query_one("#message", Static).content)


@pytest.mark.slow
async def test_create_vault_asks_twice_with_a_strength_hint(keylink_home: Path) -> None:
    vault_file = keylink_home / "data" / "keylink" / "vault.json"
    async with accounts_app().run_test(size=(100, 34)) as pilot:
        await wait_for(pilot, lambda: "not created yet" in status_text(pilot))
        # No modal until a secret is needed: the first add asks for the new passphrase.
        assert screen_name(pilot) == "AccountsScreen"
        await pilot.press("a")
        await wait_for(pilot, lambda: screen_name(pilot) == "CreateVaultScreen")
        why = str(pilot.app.screen.query_one(".why", Static).content)
        assert "No system keyring" in why and "~/data/keylink/vault.json" in why
        assert "keyring found" not in why  # the store is not named twice

        await type_text(pilot, "short")
        strength = str(pilot.app.screen.query_one("#strength", Static).content)
        assert "too short" in strength
        await pilot.press("tab", "enter")
        await pilot.pause()
        assert "at least 12" in message(pilot)

        first = "correct horse battery staple"
        await paste(pilot, "passphrase", first)
        assert "Strength: hard to guess" in str(
            pilot.app.screen.query_one("#strength", Static).content)
        await paste(pilot, "repeat", "correct horse battery stapel")
        await pilot.press("enter")
        await pilot.pause()
        assert "differ" in message(pilot)
        assert not vault_file.exists()

        field = pilot.app.screen.query_one("#repeat")
        field.value = ""
        await paste(pilot, "repeat", first)
        await pilot.press("enter")
        # The form opens right after the vault is created (the user had pressed a).
        await wait_for(pilot, lambda: screen_name(pilot) == "AddAccountScreen", timeout=30)
        assert vault_file.exists()
        assert vault_file.stat().st_mode & 0o077 == 0
        assert first.encode() not in vault_file.read_bytes()


async def test_a_passphrase_error_goes_when_the_passphrase_changes(keylink_home: Path) -> None:
    # "too easy to guess" stayed under a passphrase that had become strong.
    async with accounts_app().run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: "not created yet" in status_text(pilot))
        await pilot.press("a")
        await wait_for(pilot, lambda: screen_name(pilot) == "CreateVaultScreen")
        await paste(pilot, "passphrase", "aaaaaaaaaaaaaaaa")
        await pilot.press("tab", "enter")
        await pilot.pause()
        assert "too easy to guess" in message(pilot)
        pilot.app.screen.query_one("#passphrase").value = ""
        await paste(pilot, "passphrase", "correct horse battery staple")
        assert "Strength: hard to guess" in str(
            pilot.app.screen.query_one("#strength", Static).content)
        assert message(pilot) == ""
        # The same for "differ": typing the second entry again clears it.
        await paste(pilot, "repeat", "correct horse battery stapel")
        await pilot.press("enter")
        await pilot.pause()
        assert "differ" in message(pilot)
        await pilot.press("backspace")
        await pilot.pause()
        assert message(pilot) == ""


@pytest.mark.slow
async def test_unlock_retries_after_a_wrong_passphrase(vault_home: Path) -> None:
    async with accounts_app().run_test(size=(100, 34)) as pilot:
        await wait_for(pilot, lambda: screen_name(pilot) == "UnlockVaultScreen")
        await type_text(pilot, "not the passphrase")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "does not open" in message(pilot))
        field = pilot.app.screen.query_one("#passphrase")
        # What was typed stays (selected, so typing replaces it) and the modal stays up.
        assert field.value == "not the passphrase" and field.has_focus
        assert isinstance(pilot.app.screen, UnlockVaultScreen)
        await type_text(pilot, PASSPHRASE)
        assert field.value == PASSPHRASE
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen_name(pilot) == "AccountsScreen")
        await wait_for(pilot, lambda: "unlocked" in status_text(pilot))


async def test_escape_leaves_the_vault_locked_and_u_asks_again(vault_home: Path) -> None:
    async with accounts_app().run_test(size=(100, 34)) as pilot:
        await wait_for(pilot, lambda: screen_name(pilot) == "UnlockVaultScreen")
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen_name(pilot) == "AccountsScreen")
        assert "locked (press u" in status_text(pilot)
        # Adding needs the secret store: it asks for the passphrase first.
        await pilot.press("a")
        await wait_for(pilot, lambda: screen_name(pilot) == "UnlockVaultScreen")
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen_name(pilot) == "AccountsScreen")
        await pilot.press("u")
        await wait_for(pilot, lambda: screen_name(pilot) == "UnlockVaultScreen")
        await pilot.press("escape")
        await unlock_via_u(pilot)


async def unlock_via_u(pilot) -> None:
    await wait_for(pilot, lambda: screen_name(pilot) == "AccountsScreen")
    await pilot.press("u")
    await unlock(pilot)
    assert pilot.app.screen_stack[0].check_action("unlock", ()) is False


async def test_damaged_vault_is_reported_and_left_alone(vault_home: Path) -> None:
    vault_file = vault_home / "data" / "keylink" / "vault.json"
    damaged = vault_file.read_bytes()[:-40] + b"garbage"
    vault_file.write_bytes(damaged)
    async with accounts_app().run_test(size=(100, 34)) as pilot:
        await wait_for(pilot, lambda: screen_name(pilot) == "UnlockVaultScreen")
        await paste(pilot, "passphrase", PASSPHRASE)
        await pilot.press("enter")
        await wait_for(pilot, lambda: "damaged" in message(pilot))
        assert "Nothing was changed" in message(pilot)
        assert pilot.app.screen.query_one("#passphrase").disabled
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen_name(pilot) == "AccountsScreen")
    assert vault_file.read_bytes() == damaged


async def test_a_hostile_vault_header_is_refused_in_the_modal_naming_the_vault(
        vault_home: Path) -> None:
    from tests.services.test_vault import set_header_cost

    vault_file = vault_home / "data" / "keylink" / "vault.json"
    content = set_header_cost(vault_file, 2**20, 8, 16)
    async with accounts_app().run_test(size=(100, 34)) as pilot:
        await wait_for(pilot, lambda: screen_name(pilot) == "UnlockVaultScreen")
        await paste(pilot, "passphrase", PASSPHRASE)
        await pilot.press("enter")
        await wait_for(pilot, lambda: "damaged" in message(pilot), timeout=3.0)
        said = " ".join(message(pilot).split())
        assert "more key-derivation work than keylink ever writes" in said
        assert "keyring" not in said.lower()
    assert vault_file.read_bytes() == content


async def test_the_cli_passphrase_variable_unlocks_without_a_modal(
    vault_home: Path, monkeypatch
) -> None:
    monkeypatch.setenv("KEYLINK_VAULT_PASSPHRASE", PASSPHRASE)
    async with accounts_app().run_test(size=(100, 34)) as pilot:
        await wait_for(pilot, lambda: "unlocked" in status_text(pilot))
        assert screen_name(pilot) == "AccountsScreen"


async def test_a_wrong_passphrase_variable_falls_back_to_the_modal(
    vault_home: Path, monkeypatch
) -> None:
    monkeypatch.setenv("KEYLINK_VAULT_PASSPHRASE", "not it at all")
    async with accounts_app().run_test(size=(100, 34)) as pilot:
        await unlock(pilot)


async def test_create_dialog_shows_its_errors_and_buttons_at_80x24(keylink_home: Path) -> None:
    async with accounts_app().run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: "not created yet" in status_text(pilot))
        await pilot.press("a")
        await wait_for(pilot, lambda: screen_name(pilot) == "CreateVaultScreen")
        await type_text(pilot, "short")
        strength = str(pilot.app.screen.query_one("#strength", Static).content)
        assert strength.count("too short") == 1  # one word, not "too weak: too short"
        await pilot.press("tab", "enter")
        await pilot.pause()
        screen = pilot.app.screen
        # Inside the dialog's visible area (not cut off, not scrolled away) and on screen.
        viewport = screen.query_one("#dialog").content_region
        for selector in ("#message", "#cancel", "#submit"):
            region = screen.query_one(selector).region
            assert region.height > 0 and viewport.contains_region(region), selector
            assert screen.region.contains_region(region), selector
        assert "at least 12" in message(pilot)
