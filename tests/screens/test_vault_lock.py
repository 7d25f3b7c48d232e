"""Lock it: the l key (and palette) locks the vault now; an idle vault locks itself after
KEYLINK_VAULT_IDLE seconds; the status line says when; the next use asks for the passphrase."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.support.accounts_fixtures import (
    PASSPHRASE,
    accounts_app,
    keylink_home,
    paste,
    screen_name,
    status_text,
    vault_home,
    wait_for,
)
from tui.services.store.backends import DEFAULT_IDLE, idle_limit_from_env
from tui.services.store.secrets import SecretStore
from tui.services.store.vault import Vault

__all__ = ["keylink_home", "vault_home"]  # fixtures used by name below


async def test_l_locks_the_vault_now_and_the_next_use_asks_again(
    vault_home: Path, monkeypatch
) -> None:
    monkeypatch.setenv("KEYLINK_VAULT_PASSPHRASE", PASSPHRASE)
    async with accounts_app().run_test(size=(100, 34)) as pilot:
        await wait_for(pilot, lambda: "unlocked" in status_text(pilot))
        assert "locks in 15 min if unused" in status_text(pilot)
        screen = pilot.app.screen
        vault = screen.secrets.vault
        assert vault is not None and vault.unlocked
        await pilot.press("l")
        await wait_for(pilot, lambda: "locked (press u" in status_text(pilot))
        assert not vault.unlocked and vault._key is None  # the derived key is gone
        await pilot.press("a")  # adding needs the secrets: the passphrase is asked for first
        await wait_for(pilot, lambda: screen_name(pilot) == "UnlockVaultScreen")
        await paste(pilot, "passphrase", PASSPHRASE)
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen_name(pilot) == "AddAccountScreen")
        assert vault.unlocked


async def test_the_palette_offers_lock_only_while_unlocked(vault_home: Path, monkeypatch) -> None:
    from tui.commands import palette_commands

    monkeypatch.setenv("KEYLINK_VAULT_PASSPHRASE", PASSPHRASE)
    async with accounts_app().run_test(size=(100, 34)) as pilot:
        await wait_for(pilot, lambda: "unlocked" in status_text(pilot))
        titles = [c.title for c in palette_commands(pilot.app, pilot.app.screen)]
        assert any(t.endswith("Lock") for t in titles)
        await pilot.press("l")
        await wait_for(pilot, lambda: "locked (press u" in status_text(pilot))
        await pilot.pause()
        titles = [c.title for c in palette_commands(pilot.app, pilot.app.screen)]
        assert not any(t.endswith("Lock") for t in titles)


async def test_an_idle_vault_locks_itself(vault_home: Path, monkeypatch) -> None:
    monkeypatch.setenv("KEYLINK_VAULT_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("KEYLINK_VAULT_IDLE", "1")
    async with accounts_app().run_test(size=(100, 34)) as pilot:
        await wait_for(pilot, lambda: "unlocked" in status_text(pilot))
        await wait_for(pilot, lambda: "locked (press u" in status_text(pilot), timeout=15)
        assert not pilot.app.screen.secrets.vault.unlocked


def test_idle_limit_from_env(monkeypatch):
    monkeypatch.delenv("KEYLINK_VAULT_IDLE", raising=False)
    assert idle_limit_from_env() == DEFAULT_IDLE == 900
    for raw, expected in (("60", 60.0), ("0", None), ("soon", DEFAULT_IDLE), ("-5", DEFAULT_IDLE),
                          ("nan", DEFAULT_IDLE), ("inf", DEFAULT_IDLE)):
        monkeypatch.setenv("KEYLINK_VAULT_IDLE", raw)
        assert idle_limit_from_env() == expected, raw


def test_use_postpones_the_idle_lock(tmp_path, cheap_kdf, monkeypatch):
    monkeypatch.setenv("KEYLINK_VAULT_IDLE", "0.6")
    store = SecretStore.open(vault=Vault(tmp_path / "vault.json", kdf=cheap_kdf))
    assert store.lock_due() is None  # no vault yet
    store.create_vault(PASSPHRASE)
    assert store.lock_due() == pytest.approx(0.6, abs=0.2)
    time.sleep(0.4)
    store.refs()  # a use
    assert not store.lock_if_idle()
    time.sleep(0.4)
    assert not store.lock_if_idle()  # 0.4 s since the use
    time.sleep(0.3)
    assert store.lock_if_idle() and store.needs_unlock and store.lock_due() is None


@pytest.mark.slow
async def test_a_vault_unlocked_from_the_guide_locks_itself_without_the_accounts_screen(
    vault_home: Path, monkeypatch
) -> None:
    from textual.widgets import Static

    from tests.support.accounts_fixtures import BYBIT_KEY, BYBIT_SECRET, checked_now, open_store
    from tui.app import KeylinkApp
    from tui.screens.guide import GuideScreen
    from tui.services.store.accounts import Credentials

    store = open_store()
    checked_now(store, store.add("Main", "bybit", "mainnet", Credentials(BYBIT_KEY, BYBIT_SECRET)))
    # 2 s: the copy right after the unlock must come first, even on a loaded machine.
    monkeypatch.setenv("KEYLINK_VAULT_IDLE", "2")
    app = KeylinkApp()
    async with app.run_test(size=(80, 24)) as pilot:
        guide = app.screen
        assert isinstance(guide, GuideScreen)
        guide.reveal("terminal-enter")

        def checklist() -> str:
            return str(guide.query_one("#checklist", Static).render())

        await wait_for(pilot, lambda: "From Main" in checklist())
        await pilot.press("c")  # the display name: no secret, no passphrase asked
        await wait_for(pilot, lambda: "✓ 1. Display name" in checklist())
        await pilot.press("c")  # the API key: the app's session asks to unlock its vault
        await wait_for(pilot, lambda: screen_name(pilot) == "UnlockVaultScreen")
        await paste(pilot, "passphrase", PASSPHRASE)
        await pilot.press("enter")
        await wait_for(pilot, lambda: pilot.app.clipboard == BYBIT_KEY)
        secrets = app.session.secrets
        assert secrets is not None and secrets.vault is not None
        vault = secrets.vault
        assert vault.unlocked
        # Idle for longer than KEYLINK_VAULT_IDLE, on the guide: the vault locks itself.
        await wait_for(pilot, lambda: not vault.unlocked, timeout=8)
        assert vault._key is None  # the derived key is gone
        assert "accounts" not in app._screen_stacks  # the accounts section never opened
        await wait_for(pilot, lambda: any(
            n.title == "Vault locked" for n in app._notifications))
        # The next use of a secret asks for the passphrase again.
        await pilot.press("c")
        await wait_for(pilot, lambda: screen_name(pilot) == "UnlockVaultScreen")
        await paste(pilot, "passphrase", PASSPHRASE)
        await pilot.press("enter")
        await wait_for(pilot, lambda: pilot.app.clipboard == BYBIT_SECRET)
