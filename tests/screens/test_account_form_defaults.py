"""The account form starts from what the user already has: the rotate form offers the same
key kind as the key it replaces."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Select, Static

from tests.screens.test_account_form_keypairs import generated_account
from tests.support.accounts_fixtures import (
    accounts_app,
    keylink_home,
    open_store,
    screen_name,
    unlock,
    vault_home,
    wait_for,
)
from tui.screens.account_form import KIND_ED25519, KIND_HMAC, KIND_RSA
from tui.services.keys import keypairs
from tui.services.keys.credentials import Credentials

__all__ = ["keylink_home", "vault_home"]  # fixtures used by name below


def _kind(pilot) -> object:
    return pilot.app.screen.query_one("#key_kind", Select).value


async def _open_rotation(pilot) -> None:
    await unlock(pilot)
    await pilot.press("r")
    await wait_for(pilot, lambda: screen_name(pilot) == "RotateKeyScreen")


@pytest.mark.parametrize(("exchange_id", "kind", "choice", "label"), [
    ("binance", keypairs.ED25519, KIND_ED25519, "Ed25519"),
    ("bybit", keypairs.RSA, KIND_RSA, "RSA")])
async def test_rotating_a_generated_key_starts_on_its_kind(
    vault_home: Path, fake, exchange_id: str, kind: str, choice: str, label: str,
) -> None:
    # The rotate form offered HMAC for an Ed25519 account.
    generated_account(fake, exchange_id, kind, "Made here")
    async with accounts_app().run_test(size=(80, 24)) as pilot:
        await _open_rotation(pilot)
        await wait_for(pilot, lambda: _kind(pilot) == choice, timeout=20)
        info = pilot.app.screen.query_one("#key-info", Static)
        await wait_for(pilot, lambda: f"New {label}" in str(info.content), timeout=20)
        assert not pilot.app.screen.dirty  # nothing done yet: Escape leaves without asking
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen_name(pilot) == "AccountsScreen")


async def test_rotating_an_hmac_key_stays_hmac(vault_home: Path) -> None:
    open_store().add("Bybit main", "bybit", "mainnet",
                     Credentials("AbCdEfGhIjKlMnOpQr", "0123456789abcdefghijABCDEFGHIJ0123456789"))
    async with accounts_app().run_test(size=(80, 24)) as pilot:
        await _open_rotation(pilot)
        await pilot.pause(0.5)
        assert _kind(pilot) == KIND_HMAC
