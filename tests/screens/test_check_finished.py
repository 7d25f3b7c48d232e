"""The accounts screen shows every check of the app's session from its CheckFinished message,
whoever ran it: the table row takes the saved summary, the report panel the report."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable

from tests.screens.test_accounts_verify import add_fake_account, panel_text
from tests.support.accounts_fixtures import (
    PASSPHRASE,
    accounts_app,
    keylink_home,
    status_text,
    vault_home,
    wait_for,
)

__all__ = ["keylink_home", "vault_home"]


async def test_a_check_run_elsewhere_in_the_app_shows_on_the_accounts_screen(
    vault_home: Path, fake, monkeypatch
) -> None:
    monkeypatch.setenv("KEYLINK_VAULT_PASSPHRASE", PASSPHRASE)
    fake.key("bybit").ips = ("127.0.0.1",)
    fake.key("okx").ips = ("10.9.9.9",)  # bound elsewhere: OKX answers 50110
    works = add_fake_account(fake, "bybit", "Works")
    other = add_fake_account(fake, "okx", "Other")
    app = accounts_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await wait_for(pilot, lambda: "unlocked" in status_text(pilot))
        screen = app.screen
        table = screen.query_one("#accounts", DataTable)
        await wait_for(pilot, lambda: table.row_count == 2)
        assert screen.selected_id == works.id
        # Not the screen's runner: the session's check, as any other part of the app runs it.
        finished = await app.session.check_and_record(works)
        assert finished.report.status == "works"
        await wait_for(pilot, lambda: "works" in str(table.get_row_at(0)[1]))
        await wait_for(pilot, lambda: "The key works" in panel_text(pilot))
        assert screen.reports[works.id] is finished.report
        # A check of an account that is not selected updates its row; the panel stays put.
        await app.session.check_and_record(other)
        await wait_for(pilot, lambda: "locked" in str(table.get_row_at(1)[1]))
        assert "The key works" in panel_text(pilot)
