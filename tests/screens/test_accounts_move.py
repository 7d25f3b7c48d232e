"""m on Accounts: move the selected account's secret to another store (issue 21), over the real
vault and a real pass store (GPG key made once per session)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable, OptionList

from tests.support.accounts_fixtures import (
    BYBIT_KEY,
    BYBIT_SECRET,
    PASSPHRASE,
    accounts_app,
    keylink_home,
    open_store,
    screen_name,
    vault_home,
    wait_for,
)
from tui.services.keys.credentials import Credentials

__all__ = ["keylink_home", "vault_home"]  # fixtures used by name below


def row_count(pilot: Any) -> int:
    return pilot.app.screen.query_one("#accounts", DataTable).row_count


@pytest.fixture
def both_stores(vault_home: Path, pass_store: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KEYLINK_VAULT_PASSPHRASE", PASSPHRASE)
    return pass_store


async def test_m_moves_the_secret_to_pass_and_the_vault_copy_goes(both_stores: Path) -> None:
    store = open_store()
    store.add("Main", "bybit", "mainnet", Credentials(BYBIT_KEY, BYBIT_SECRET))
    async with accounts_app().run_test(size=(110, 34)) as pilot:
        await wait_for(pilot, lambda: row_count(pilot) == 1)
        await pilot.press("m")
        await wait_for(pilot, lambda: screen_name(pilot) == "StoreChoiceScreen")
        options = pilot.app.screen.query_one(OptionList)
        labels = {options.get_option_at_index(i).id: options.get_option_at_index(i)
                  for i in range(options.option_count)}
        assert labels["vault"].disabled and not labels["pass"].disabled  # its own: not offered
        assert "keyring" in labels and labels["keyring"].disabled  # listed, with why not
        options.highlighted = list(labels).index("pass")
        await pilot.press("enter")
        await wait_for(pilot, lambda: any("Moved Main to pass" in str(n.message)
                                          for n in pilot.app._notifications))
    account = open_store().get("Main")
    assert account.secret_store == "pass" and account.other_copy is None
    assert [p.name[:-4] for p in (both_stores / "keylink").glob("*.gpg")] == [account.secret_ref]
    assert open_store().secrets.refs() == []  # the vault copy is gone
    assert open_store().credentials(account).secret == BYBIT_SECRET


async def test_m_says_why_without_an_account(vault_home: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("KEYLINK_VAULT_PASSPHRASE", PASSPHRASE)
    async with accounts_app().run_test(size=(110, 34)) as pilot:
        await wait_for(pilot, lambda: pilot.app.screen.store is not None)
        await pilot.press("m")
        await wait_for(pilot, lambda: any("No accounts yet" in str(n.message)
                                          for n in pilot.app._notifications))
