"""Verify from the accounts screen against the fake exchange (real HTTP on 127.0.0.1)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import DataTable, Static

from tests.fakes.exchange import FakeExchange
from tests.screens.accounts_fixtures import (
    accounts_app,
    keylink_home,
    open_store,
    screen_name,
    unlock,
    vault_home,
    wait_for,
)
from tui.services.accounts import Credentials
from tui.widgets.report_panel import ReportPanel

__all__ = ["keylink_home", "vault_home"]  # fixtures used by name below


@pytest.fixture
def fake() -> Iterator[FakeExchange]:
    with FakeExchange() as server:
        yield server


def add_fake_account(fake: FakeExchange, exchange_id: str, name: str, secret: str | None = None):
    key = fake.key(exchange_id)
    return open_store().add(
        name, exchange_id, "custom",
        Credentials(key.api_key, secret or key.secret, key.passphrase),
        base_url=fake.url,
    )


def panel_lines(pilot) -> list[tuple[str, set[str]]]:
    panel = pilot.app.screen_stack[0].query_one("#report", ReportPanel)
    return [(str(s.content), set(s.classes)) for s in panel.query(Static)]


def panel_text(pilot) -> str:
    return "\n".join(text for text, _ in panel_lines(pilot))


async def test_verify_shows_findings_and_saves_the_result(vault_home: Path, fake) -> None:
    fake.key("bybit").ips = ("127.0.0.1", "18.167.89.125")
    fake.key("bybit").permissions = frozenset({"read", "trade", "withdraw"})
    account = add_fake_account(fake, "bybit", "Bybit main")
    async with accounts_app().run_test(size=(100, 40)) as pilot:
        await unlock(pilot)
        await pilot.press("v")
        await wait_for(pilot, lambda: "Findings" in panel_text(pilot), timeout=20)
        lines = panel_lines(pilot)
        text = panel_text(pilot)
        assert "Latency:" in text and "Clock offset:" in text and "Permissions:" in text
        assert "withdraw" in text
        # The withdraw permission is a danger finding, drawn with the danger class ($error).
        dangers = [t for t, classes in lines if "-danger" in classes]
        assert any("withdraw" in t.lower() for t in dangers)
        # The whitelist diff: the terminal's addresses that the key lacks.
        assert "Whitelist" in text and "Missing from the key (19)" in text
        assert any("18.167.8.216" in t for t in dangers)
        await wait_for(pilot, lambda: open_store().get(account.id).last_check is not None)
        check = open_store().get(account.id).last_check
        assert check.ok and check.worst == "danger"
        table = pilot.app.screen_stack[0].query_one("#accounts", DataTable)
        assert "works" in str(table.get_row_at(0)[-1])
    assert fake.requests  # the call really went over loopback HTTP


async def test_wrong_secret_is_reported_as_a_failed_check(vault_home: Path, fake) -> None:
    account = add_fake_account(fake, "okx", "OKX wrong", secret="F" * 32)
    async with accounts_app().run_test(size=(100, 40)) as pilot:
        await unlock(pilot)
        await pilot.press("v")
        await wait_for(pilot, lambda: "The check failed" in panel_text(pilot), timeout=20)
        assert "Error code 50113" in panel_text(pilot)
        assert "F" * 32 not in panel_text(pilot)
        await wait_for(pilot, lambda: open_store().get(account.id).last_check is not None)
        assert open_store().get(account.id).last_check.ok is False


async def test_verify_all_checks_every_account(vault_home: Path, fake) -> None:
    for exchange_id in ("bybit", "bitget", "binance"):
        fake.key(exchange_id).ips = ("127.0.0.1",)
    accounts = [add_fake_account(fake, ex, f"{ex} one") for ex in ("bybit", "bitget", "binance")]
    async with accounts_app().run_test(size=(100, 40)) as pilot:
        await unlock(pilot)
        await pilot.press("V")
        await wait_for(
            pilot,
            lambda: all(open_store().get(a.id).last_check is not None for a in accounts),
            timeout=30,
        )
        assert all(open_store().get(a.id).last_check.ok for a in accounts)
        assert screen_name(pilot) == "AccountsScreen"


async def test_the_ui_keeps_working_during_a_slow_check(vault_home: Path, fake) -> None:
    """A 1.5 s exchange: the screen answers keys meanwhile; deleting the account mid-check is
    handled (the result is not saved for an account that is gone)."""
    fake.config.latency_ms = 1500
    add_fake_account(fake, "bybit", "Slow one")
    async with accounts_app().run_test(size=(100, 40)) as pilot:
        await unlock(pilot)
        await pilot.press("v")
        panel = pilot.app.screen_stack[0].query_one("#report", ReportPanel)
        await wait_for(pilot, lambda: panel.loading)
        await pilot.press("d")
        await wait_for(pilot, lambda: screen_name(pilot) == "ConfirmScreen")
        await pilot.press("y")
        table = pilot.app.screen_stack[0].query_one("#accounts", DataTable)
        await wait_for(pilot, lambda: table.row_count == 0)
        assert panel.loading  # the check is still running: nothing waited for it
        await wait_for(pilot, lambda: not panel.loading, timeout=20)
        assert table.row_count == 0 and open_store().list() == []
