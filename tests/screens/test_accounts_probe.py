"""The verify report's one-key fix (issue 17): a check finds the key in another environment, `b`
moves the account there through the session and checks it again. Two loopback fakes stand for
Bybit mainnet and testnet through a ``replace = true`` registry file (no real host reachable)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from textual.widgets import Static

from tests.fakes.exchange import DEFAULT_KEYS, FakeExchange
from tests.support.accounts_fixtures import (
    accounts_app,
    keylink_home,
    open_store,
    unlock,
    vault_home,
    wait_for,
)
from tests.support.registry import loopback_registry
from tui.services.keys.credentials import Credentials
from tui.widgets.report_panel import ReportPanel

__all__ = ["keylink_home", "vault_home"]  # fixtures used by name below


def panel_text(pilot) -> str:
    panel = pilot.app.screen_stack[0].query_one("#report", ReportPanel)
    return "\n".join(str(s.content) for s in panel.query(Static))


async def test_b_moves_the_account_where_its_key_works_and_checks_it_again(
        vault_home: Path, tmp_path: Path, monkeypatch) -> None:
    key = replace(DEFAULT_KEYS["bybit"], environment="testnet")
    with FakeExchange(keys={"bybit": [key]}) as main, \
            FakeExchange(keys={"bybit": [key]}) as testnet:
        testnet.config.bybit_environment = "testnet"
        loopback_registry(tmp_path / "env.toml", monkeypatch, {
            ("bybit", "mainnet"): main.url, ("bybit", "testnet"): testnet.url})
        account = open_store().add("Bot", "bybit", "mainnet",
                                   Credentials(key.api_key, key.secret))
        async with accounts_app().run_test(size=(100, 40)) as pilot:
            await unlock(pilot)
            screen = pilot.app.screen_stack[0]
            assert screen.check_action("switch_environment", ()) is False  # nothing found yet
            await pilot.press("v")
            await wait_for(pilot, lambda: "Press b" in panel_text(pilot), timeout=20)
            text = panel_text(pilot)
            assert "This is a Bybit Testnet key, not a Mainnet one" in text
            assert f"Hosts asked: {testnet.url.removeprefix('http://')}" in text
            assert screen.check_action("switch_environment", ()) is True
            await pilot.press("b")
            await wait_for(pilot, lambda: "The key works" in panel_text(pilot), timeout=20)
            saved = open_store().get(account.id)
            assert saved.environment == "testnet" and saved.base_url == testnet.url
            assert saved.last_check is not None and saved.last_check.status == "works"
            assert screen.check_action("switch_environment", ()) is False
