"""Snapshots at 80x24 (a plain SSH session) of the screens and dialogs the other snapshot files
do not show: the empty accounts list, the create-vault dialog with its error, the delete
confirmation, the accounts list with a report, the whitelist's old profile and its file box, the
guide at step 10, the FAQ, and the palette opened from the guide.

Regenerate with ``--snapshot-update`` only after looking at the SVGs in __snapshots__/.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, TextArea

from tests.screens.test_accounts_snapshots import four_accounts, sample_report
from tests.support.accounts_fixtures import (
    accounts_app,
    keylink_home,
    screen_name,
    status_text,
    type_text,
    unlock,
    vault_home,
    wait_for,
    workers_done,
)
from tui.app import KeylinkApp
from tui.widgets.report_panel import ReportPanel

__all__ = ["four_accounts", "keylink_home", "vault_home"]  # fixtures used by name below

SIZE = (80, 24)


@pytest.fixture(autouse=True)
def _fixed_place(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # OSC 52 only (the copy message names the ways used), and a fixed working folder for the
    # file box's "relative paths start from" line.
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    folder = Path("/tmp/keylink-snapshot")
    folder.mkdir(exist_ok=True)
    monkeypatch.chdir(folder)


async def _steady(pilot: Pilot) -> None:
    app = pilot.app
    await workers_done(pilot)
    for widget in app.screen.query(Input):
        widget.cursor_blink = False
    for widget in app.screen.query(TextArea):
        widget.cursor_blink = False
    await pilot.pause()


def test_accounts_empty(snap_compare, keylink_home: Path) -> None:
    async def run_before(pilot: Pilot) -> None:
        await wait_for(pilot, lambda: "not created yet" in status_text(pilot))
        await _steady(pilot)

    assert snap_compare(accounts_app(), terminal_size=SIZE, run_before=run_before)


def test_create_vault_with_error(snap_compare, keylink_home: Path) -> None:
    async def run_before(pilot: Pilot) -> None:
        await wait_for(pilot, lambda: "not created yet" in status_text(pilot))
        await pilot.press("a")
        await wait_for(pilot, lambda: screen_name(pilot) == "CreateVaultScreen")
        await type_text(pilot, "short")
        await pilot.press("tab", "enter")
        await _steady(pilot)

    assert snap_compare(accounts_app(), terminal_size=SIZE, run_before=run_before)


def test_accounts_with_report(snap_compare, four_accounts: None) -> None:
    async def run_before(pilot: Pilot) -> None:
        await unlock(pilot)
        screen = pilot.app.screen
        table = screen.query_one("#accounts", DataTable)
        await wait_for(pilot, lambda: table.row_count == 4)
        account = screen.accounts[0]
        screen.reports[account.id] = sample_report()
        panel = screen.query_one("#report", ReportPanel)
        panel.display = True
        panel.show_report(account.name, sample_report(), "checked 2026-01-02 03:04")
        await _steady(pilot)

    assert snap_compare(accounts_app(), terminal_size=SIZE, run_before=run_before)


def test_delete_confirm(snap_compare, four_accounts: None) -> None:
    async def run_before(pilot: Pilot) -> None:
        await unlock(pilot)
        table = pilot.app.screen.query_one("#accounts", DataTable)
        await wait_for(pilot, lambda: table.row_count == 4)
        await pilot.press("d")
        await wait_for(pilot, lambda: screen_name(pilot) == "ConfirmScreen")
        await _steady(pilot)

    assert snap_compare(accounts_app(), terminal_size=SIZE, run_before=run_before)


def test_whitelist_old_profile(snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        await pilot.press("s")
        await _steady(pilot)

    assert snap_compare(KeylinkApp(start_screen="whitelist"), terminal_size=SIZE,
                        run_before=run_before)


def test_whitelist_file_box(snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        await pilot.press("o")
        await _steady(pilot)

    assert snap_compare(KeylinkApp(start_screen="whitelist"), terminal_size=SIZE,
                        run_before=run_before)


def test_guide_okx_step_10(snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        screen = pilot.app.screen
        screen.set_exchange("okx")
        screen.go_to_step(9)
        await _steady(pilot)

    assert snap_compare(KeylinkApp(), terminal_size=SIZE, run_before=run_before)


def test_faq(snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        await _steady(pilot)

    assert snap_compare(KeylinkApp(start_screen="faq"), terminal_size=SIZE,
                        run_before=run_before)


def test_palette_from_the_guide(snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"verify")
        await pilot.pause(0.3)
        await _steady(pilot)

    assert snap_compare(KeylinkApp(), terminal_size=SIZE, run_before=run_before)
