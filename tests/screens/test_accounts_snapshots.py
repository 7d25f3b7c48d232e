"""Snapshots of the accounts screen, its form, the unlock modal and the report panel.

Deterministic: fixed check times in UTC, paths under ~, steady (non-blinking) cursors, and a
hand-built report for the panel (a live check's latency would change every run).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from tests.support.accounts_fixtures import (
    BYBIT_KEY,
    BYBIT_SECRET,
    OKX_KEY,
    OKX_SECRET,
    accounts_app,
    keylink_home,
    open_store,
    paste,
    screen_name,
    unlock,
    vault_home,
    wait_for,
)
from tui.services.keys.credentials import Credentials
from tui.services.store.model import LastCheck
from tui.services.verify.report import ExchangeError, Finding, KeyReport
from tui.widgets.report_panel import ReportPanel

__all__ = ["keylink_home", "vault_home"]  # fixtures used by name below

SIZES = [(80, 24), (120, 34)]


def steady_cursors(pilot: Pilot) -> None:
    for widget in pilot.app.screen.query(Input):
        widget.cursor_blink = False


async def settled_scroll(pilot: Pilot, selector: str) -> None:
    """Wait until a scroll view stops moving: the form scrolls to the first bad field after a
    refresh, and a shot taken in between caught the scrollbar one step short."""
    view = pilot.app.screen.query_one(selector)
    await pilot.pause()
    previous = None
    while previous != (view.scroll_y, view.max_scroll_y):
        previous = (view.scroll_y, view.max_scroll_y)
        await pilot.pause(0.05)


@pytest.fixture
def four_accounts(vault_home: Path) -> None:
    store = open_store()
    bybit = store.add("Bybit main", "bybit", "mainnet", Credentials(BYBIT_KEY, BYBIT_SECRET))
    okx = store.add("OKX demo", "okx", "demo", Credentials(OKX_KEY, OKX_SECRET, "Okx-pass-1"))
    linked = store.add("Bitget linked to the terminal", "bitget", "mainnet",
                       Credentials("bg_" + "0" * 32, "1" * 64, "Bitget-pass-1"),
                       whitelist="linked")
    store.add("Binance new", "binance", "mainnet", Credentials("K" * 64, "S" * 64))
    store.record_check(bybit.id, LastCheck(True, "2026-01-02T03:04:05Z",
                                           "works; read+trade; IP-bound (20); 1 warning",
                                           "warning", "works"))
    store.record_check(okx.id, LastCheck(False, "2026-01-03T10:20:30Z",
                                         "failed: wrong secret (50113)", "error", "failed"))
    store.record_check(linked.id, LastCheck(False, "2026-01-04T08:00:00Z",
                                            "locked: bound to other addresses (40018)", "info",
                                            "locked"))


@pytest.mark.parametrize("size", SIZES)
def test_accounts_list(snap_compare, four_accounts: None, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot) -> None:
        await unlock(pilot)
        table = pilot.app.screen.query_one("#accounts", DataTable)
        await wait_for(pilot, lambda: table.row_count == 4)

    assert snap_compare(accounts_app(), terminal_size=size, run_before=run_before)


@pytest.mark.slow
@pytest.mark.parametrize("size", SIZES)
def test_form_with_messages(snap_compare, vault_home: Path, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot) -> None:
        await unlock(pilot)
        await pilot.press("a")
        await wait_for(pilot, lambda: screen_name(pilot) == "AddAccountScreen")
        await pilot.press(*"Bybit main")
        await paste(pilot, "api_key", BYBIT_KEY[:-1])
        await paste(pilot, "secret", "KLbybit UIsecret")
        # Focusing the field scrolls to it with an animation; a save during it left the form
        # scrolled to a different fraction each run.
        await pilot.wait_for_animation()
        await pilot.press("ctrl+s")
        await settled_scroll(pilot, "#fields")
        steady_cursors(pilot)

    assert snap_compare(accounts_app(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_unlock_modal(snap_compare, vault_home: Path, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot) -> None:
        await wait_for(pilot, lambda: screen_name(pilot) == "UnlockVaultScreen")
        steady_cursors(pilot)

    assert snap_compare(accounts_app(), terminal_size=size, run_before=run_before)


def sample_report() -> KeyReport:
    return KeyReport(
        ok=True,
        exchange="bybit",
        host="api.bybit.com",
        environment="mainnet",
        latency_ms=182,
        clock_offset_ms=-41,
        permissions=frozenset({"read", "trade", "withdraw"}),
        ips=("18.167.89.125", "203.0.113.7"),
        ip_restricted=True,
        key_type="personal",
        days_left=None,
        findings=(
            Finding("danger", "withdraw", "The key can withdraw funds: create one without it."),
            Finding("warning", "whitelist", "1 terminal address is not bound to the key."),
            Finding("info", "clock", "This computer's clock is 41 ms ahead of the exchange."),
            Finding("ok", "trade", "The key can trade (orders and positions)."),
        ),
        whitelist_checked=True,
        whitelist_missing=("18.167.8.216",),
        whitelist_extra=("203.0.113.7",),
        checked_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    )


def failed_report() -> KeyReport:
    error = ExchangeError("10003", "The exchange does not know this API key.",
                          "Check that you copied the key of this environment.", "invalid-key",
                          "API key is invalid.")
    return KeyReport(
        ok=False, exchange="bybit", host="api-testnet.bybit.com", environment="testnet",
        latency_ms=95, clock_offset_ms=12, error=error,
        findings=(Finding("error", "invalid-key", f"{error.message} {error.hint}"),),
        checked_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    )


def locked_report() -> KeyReport:
    """OKX 50110 for an account linked to the terminal: the key exists, its rights are hidden."""
    error = ExchangeError("50110", "OKX knows this key but refuses it from this machine: it is "
                          "bound to other IP addresses.", "Nothing to fix.", "bound-to-other-ips",
                          "Your IP 203.0.113.7 is not included in your API key's IP whitelist.")
    return KeyReport(
        ok=False, exchange="okx", host="www.okx.com", environment="mainnet", latency_ms=120,
        clock_offset_ms=3, error=error, status="locked", seen_ip="203.0.113.7", linked=True,
        findings=(
            Finding("info", "bound-to-other-ips", f"{error.message} It saw this machine as "
                    "203.0.113.7. That is what a key linked to the terminal should do."),
            Finding("info", "locked-proves", "This proves the key exists and its IP restriction "
                    "works. It does not prove the secret is right."),
        ),
        checked_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    )


def works_report() -> KeyReport:
    """A clean key: trade only, bound to the terminal, nothing to look at."""
    return KeyReport(
        ok=True, exchange="bybit", host="api.bybit.com", environment="mainnet", latency_ms=90,
        clock_offset_ms=5, permissions=frozenset({"read", "trade"}),
        ips=("18.167.89.125",), ip_restricted=True, key_type="linked", linked=True,
        findings=(Finding("ok", "no-withdraw", "The key cannot withdraw funds."),
                  Finding("ok", "can-trade", "The key can trade (orders and positions).")),
        checked_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    )


class PanelApp(App[None]):
    """The report panel on its own, showing a fixed report."""

    CSS = "ReportPanel { max-height: 100%; }"

    def __init__(self, report: KeyReport) -> None:
        super().__init__()
        self.report = report

    def compose(self) -> ComposeResult:
        yield ReportPanel(id="report")

    def on_mount(self) -> None:
        self.query_one(ReportPanel).show_report("Bybit main", self.report, "checked 2026-01-02")


@pytest.mark.parametrize("size", SIZES)
def test_report_panel(snap_compare, size: tuple[int, int]) -> None:
    assert snap_compare(PanelApp(sample_report()), terminal_size=size)


def test_report_panel_failed(snap_compare) -> None:
    assert snap_compare(PanelApp(failed_report()), terminal_size=(80, 24))


def test_report_panel_locked(snap_compare) -> None:
    assert snap_compare(PanelApp(locked_report()), terminal_size=(80, 24))


def test_report_panel_works(snap_compare) -> None:
    assert snap_compare(PanelApp(works_report()), terminal_size=(80, 24))


def test_a_cut_short_removal(snap_compare, vault_home: Path) -> None:
    """The row of an account whose removal was cut short (kill -9 after its mark): only
    delete is offered, and the row says what it does."""
    import json

    store = open_store()
    store.add("Bybit main", "bybit", "mainnet", Credentials(BYBIT_KEY, BYBIT_SECRET))
    store.add("Old OKX", "okx", "mainnet", Credentials(OKX_KEY, OKX_SECRET, "Okx-pass-1"))
    doc = json.loads(store.path.read_text())
    doc["accounts"][1]["removing"] = "2026-01-05T09:00:00Z"
    store.path.write_text(json.dumps(doc))

    async def run_before(pilot: Pilot) -> None:
        await unlock(pilot)
        table = pilot.app.screen.query_one("#accounts", DataTable)
        await wait_for(pilot, lambda: table.row_count == 2)
        await pilot.press("down")
        await pilot.pause()

    assert snap_compare(accounts_app(), terminal_size=(80, 24), run_before=run_before)
