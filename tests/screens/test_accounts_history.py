"""Issue 18 in the app: `h` shows an account's kept checks and changes, the table's "Expires"
column and stale mark, and the report panel's "since last check"."""

from __future__ import annotations

import os
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from tests.screens.test_accounts_snapshots import PanelApp, sample_report
from tests.support.accounts_fixtures import (
    BYBIT_KEY,
    BYBIT_SECRET,
    accounts_app,
    keylink_home,
    open_store,
    screen_name,
    unlock,
    vault_home,
    wait_for,
)
from tui.services.keys.credentials import Credentials
from tui.services.store.history import Change, HistoryEntry, HistoryStore
from tui.services.store.model import Account, LastCheck
from tui.widgets.accounts_table import checked_cell, expires_cell, format_checked_at

__all__ = ["keylink_home", "vault_home"]  # fixtures used by name below

SIZE = (80, 24)
NOW = datetime(2026, 12, 5, 4, 0, tzinfo=UTC)


def _three_checks() -> str:
    """One Bybit account with three kept checks: an expiry set, then withdraw gained, and a
    clock that drifts further each time. Returns the account id."""
    store = open_store()
    account = store.add("Bybit main", "bybit", "mainnet", Credentials(BYBIT_KEY, BYBIT_SECRET))
    base = {"status": "works", "worst": "warning", "host": "api.bybit.com",
            "rights": ("read", "trade"), "ips": ("18.167.89.125", "203.0.113.7"),
            "ip_restricted": True, "key_kind": "hmac", "key_type": "personal"}
    expiry = {"expires_at": "2026-12-20T00:00:00Z", "expiry_rule": "bybit-bound-deadline"}
    entries = [
        HistoryEntry(checked_at="2026-11-20T08:00:00Z", clock_offset_ms=120, **base),
        HistoryEntry(checked_at="2026-11-27T08:00:00Z", clock_offset_ms=480, **base, **expiry,
                     changes=(Change("expiry", None, "2026-12-20T00:00:00Z", "warning"),)),
        HistoryEntry(checked_at="2026-12-04T08:00:00Z", clock_offset_ms=1300,
                     **{**base, "rights": ("read", "trade", "withdraw"), "worst": "danger"},
                     **expiry, changes=(Change("right", None, "withdraw", "danger"),
                                        Change("clock_offset", "+0.5 s", "+1.3 s", "warning"))),
    ]
    history = HistoryStore(store.dir)
    for entry in entries:
        history.append(account.id, lambda _e, entry=entry: entry)
    return account.id


async def test_h_shows_the_history_and_its_changes(vault_home: Path) -> None:
    account_id = _three_checks()
    async with accounts_app().run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("h")
        await wait_for(pilot, lambda: screen_name(pilot) == "HistoryScreen")
        table = pilot.app.screen.query_one("#history-table", DataTable)
        await wait_for(pilot, lambda: table.row_count == 3)
        assert [str(c) for c in table.get_row_at(0)][:4] == ["2026-12-04 08:00", "works",
                                                             "danger", "2"]
        changes = str(pilot.app.screen.query_one("#history-changes", Static).content)
        # The report's words for each change ("Since last check"), not a second wording.
        assert "‼ The key gained the withdraw right." in changes
        assert "An expiry was set: 2026-12-20." in changes
        state = pilot.app.screen.query_one("#history-state", Static)
        assert "clock drifts further" in str(state.content) and state.has_class("-warning")
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen_name(pilot) == "AccountsScreen")
        # Deleting the account takes its history with it (nothing could show it any more).
        history = HistoryStore(open_store().dir)
        assert history.entries(account_id)[0]
        await pilot.press("d")
        await wait_for(pilot, lambda: screen_name(pilot) == "ConfirmScreen")
        await pilot.press("y")
        await wait_for(pilot, lambda: history.read() == ({}, None))
        assert open_store().list() == []


async def test_h_without_accounts_says_why(keylink_home: Path) -> None:
    async with accounts_app().run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "Secrets:" in str(
            pilot.app.screen.query_one("#store-status", Static).content))
        await pilot.press("h")
        await pilot.pause()
        assert [n.message for n in pilot.app._notifications] == [
            "No accounts yet: press a to add one."]
        assert screen_name(pilot) == "AccountsScreen"


def test_history_screen(snap_compare, vault_home: Path) -> None:
    account_id = _three_checks()

    async def run_before(pilot: Pilot) -> None:
        from tui.screens.history import HistoryScreen

        await unlock(pilot)
        account = next(a for a in pilot.app.screen.accounts if a.id == account_id)
        await pilot.app.push_screen(HistoryScreen(account, pilot.app.live_session,
                                                  now=lambda: NOW))
        table = pilot.app.screen.query_one("#history-table", DataTable)
        await wait_for(pilot, lambda: table.row_count == 3)

    assert snap_compare(accounts_app(), terminal_size=SIZE, run_before=run_before)


def _account(check: LastCheck | None) -> Account:
    return Account("a1", "Main", "bybit", "mainnet", "", "", "", "", "ref", check)


def test_the_expires_cell_counts_days_and_colours_the_near_ones():
    def cell(expires: str | None):
        return expires_cell(_account(LastCheck(True, "2026-12-04T00:00:00Z", "works", "ok",
                                                "works", expires_at=expires)), NOW)

    assert cell(None).plain == ""
    assert cell("2027-01-04T04:00:00Z").plain == "30 d"
    far, near, close = (cell(t) for t in ("2027-01-04T04:00:00Z", "2026-12-15T04:00:00Z",
                                          "2026-12-07T04:00:00Z"))
    assert near.plain == "10 d" and "$warning" in str(near.spans)
    assert close.plain == "2 d" and "$error" in str(close.spans) and not far.spans
    assert cell("2026-12-01T00:00:00Z").plain == "expired"


def test_a_stale_check_is_marked(monkeypatch):
    def cell(age: timedelta):
        stamp = (NOW - age).strftime("%Y-%m-%dT%H:%M:%SZ")
        return checked_cell(_account(LastCheck(True, stamp, "works", "ok", "works")), NOW)

    assert "stale" not in cell(timedelta(days=6)).plain
    assert cell(timedelta(days=8)).plain.endswith(" stale")
    monkeypatch.setenv("KEYLINK_CHECK_MAX_AGE", "12h")
    assert cell(timedelta(hours=13)).plain.endswith(" stale")
    assert checked_cell(_account(None), NOW).plain == ""


@pytest.fixture
def tokyo_time():
    """The process's local zone set to UTC+9 for one test, then put back."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Tokyo"
    time.tzset()
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


def test_the_check_time_is_local_and_a_time_past_the_calendar_shows_as_written(tokyo_time):
    """The checked column shows local time; a stamp whose local time is past year 9999 (a
    hand-edited accounts.json) shows as written instead of stopping the table with an error."""
    assert format_checked_at("2026-12-05T07:50:24Z") == "2026-12-05 16:50"
    assert format_checked_at("2026-12-05T09:50:24+02:00") == "2026-12-05 16:50"
    assert format_checked_at("9999-12-31T23:59:59Z") == "9999-12-31T23:59:59Z"
    assert format_checked_at("yesterday") == "yesterday"
    stamp = "9999-12-31T23:59:59Z"
    cell = checked_cell(_account(LastCheck(True, stamp, "works", "ok", "works")), NOW)
    assert cell.plain == stamp  # in the future, so not stale


async def test_the_report_panel_says_what_changed_since_the_last_check():
    from tui.services.verify.changes import change_findings

    changes = (Change("right", None, "withdraw", "danger"),)
    since = "2026-12-04T08:00:00Z"
    report = sample_report()
    report = replace(report, changes=changes, previous_checked_at=since,
                     findings=(*report.findings, *change_findings(changes, since)))
    app = PanelApp(report)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        texts = [str(s.content) for s in app.query(Static)]
    title = texts.index("Since last check (2026-12-04 08:00 UTC)")
    assert texts[title + 1] == "‼ The key gained the withdraw right."
    assert texts.count("‼ The key gained the withdraw right.") == 1  # not again in Findings
    quiet = replace(sample_report(), previous_checked_at=since)
    app = PanelApp(quiet)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        assert "✓ Nothing changed." in [str(s.content) for s in app.query(Static)]


async def test_a_second_check_in_the_app_says_what_changed(vault_home: Path, fake) -> None:
    """v twice against the fake exchange, which gains withdraw in between; a damaged history
    before the first is moved aside and said once."""
    from tests.screens.test_accounts_verify import add_fake_account, panel_text

    fake.key("bybit").ips = ("127.0.0.1",)
    account = add_fake_account(fake, "bybit", "Bybit main")
    store = open_store()
    (store.dir / "history.json").write_text("not json")
    async with accounts_app().run_test(size=(100, 40)) as pilot:
        await unlock(pilot)
        await pilot.press("v")
        await wait_for(pilot, lambda: "Findings" in panel_text(pilot), timeout=20)
        assert "Since last check" not in panel_text(pilot)
        notes = [n.message for n in pilot.app._notifications]
        assert sum("check history was damaged" in n for n in notes) == 1
        fake.key("bybit").permissions = frozenset({"read", "trade", "withdraw"})
        pilot.app.clear_notifications()
        await pilot.press("v")
        await wait_for(pilot, lambda: "Since last check" in panel_text(pilot), timeout=20)
        assert "‼ The key gained the withdraw right." in panel_text(pilot)
        assert not any("history" in n.message for n in pilot.app._notifications)
        table = pilot.app.screen_stack[0].query_one("#accounts", DataTable)
        assert "1 change" in str(table.get_row_at(0)[-1])
    assert len(HistoryStore(store.dir).entries(account.id)[0]) == 2
    assert list(store.dir.glob("history.json.damaged-*"))


async def test_a_hand_edited_history_is_shown_as_escaped_text(vault_home: Path) -> None:
    store = open_store()
    account = store.add("Bybit main", "bybit", "mainnet", Credentials(BYBIT_KEY, BYBIT_SECRET))
    evil = "\x1b]52;c;aGk=\x07[bold]x"
    HistoryStore(store.dir).append(account.id, lambda _e: HistoryEntry(
        checked_at="2026-12-04T08:00:00Z", status=evil, worst=evil, host=evil,
        expires_at=evil, changes=(Change("host", evil, "h", "warning"),)))
    async with accounts_app().run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("h")
        await wait_for(pilot, lambda: screen_name(pilot) == "HistoryScreen")
        table = pilot.app.screen.query_one("#history-table", DataTable)
        await wait_for(pilot, lambda: table.row_count == 1)
        cells = [str(c) for c in table.get_row_at(0)]
        changes = str(pilot.app.screen.query_one("#history-changes", Static).content)
        for text in (*cells, changes):
            assert "\x1b" not in text and "\x07" not in text
        assert "[bold]x" in changes  # shown as typed, not as markup
