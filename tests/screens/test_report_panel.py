"""The report panel's headline, colours and outside text for each outcome, driven by Pilot."""

from __future__ import annotations

from textual.widgets import Static

from tests.screens.test_accounts_snapshots import (
    PanelApp,
    failed_report,
    locked_report,
    sample_report,
    works_report,
)
from tui.services.store.model import Account, LastCheck
from tui.services.verify.report import ExchangeError, Finding, KeyReport
from tui.widgets.accounts_table import account_cells
from tui.widgets.report_panel import SEVERITY_MARKS


async def _headline(report: KeyReport) -> tuple[str, set[str], str]:
    app = PanelApp(report)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        statics = list(app.query(Static))
        first = statics[0]
        text = "\n".join(str(s.content) for s in statics)
        return str(first.content), set(first.classes), text


async def test_works_is_green_only_when_nothing_needs_attention():
    text, classes, body = await _headline(works_report())
    assert text.startswith("✓ The key works") and "-ok" in classes
    assert "Status:        works" in body


async def test_a_key_that_can_withdraw_is_never_green():
    text, classes, _ = await _headline(sample_report())
    assert text.startswith("‼ The key works, but it can withdraw funds: 1 problem and 1 warning")
    assert "-danger" in classes and "-ok" not in classes


async def test_a_danger_has_its_own_mark_in_the_panel_and_the_table():
    # A key that could withdraw showed the same "!" as a plain warning.
    _text, _classes, body = await _headline(sample_report())
    assert "‼ The key can withdraw funds" in body
    assert "! 1 terminal address is not bound" in body
    assert len({SEVERITY_MARKS[s] for s in ("danger", "error", "warning")}) == 3

    def status(worst: str) -> str:
        account = Account("a1", "Main", "bybit", "mainnet", "", "", "", "", "ref",
                          LastCheck(True, "2026-01-02T03:04:05Z", "works; read", worst, "works"))
        return account_cells(account)[1].plain

    assert status("danger") == "‼ works"
    assert status("warning") == "! works"
    assert status("ok") == "✓ works"


async def test_locked_says_what_it_proves_and_names_the_address_seen():
    text, classes, body = await _headline(locked_report())
    assert text.startswith("● The key exists and is locked to other addresses")
    assert "-info" in classes
    assert "Seen as:       203.0.113.7" in body
    assert "Permissions:   not readable from here" in body
    assert "proves the key exists" in body


async def test_failed_is_red():
    text, classes, _ = await _headline(failed_report())
    assert text.startswith("✗ The check failed") and "-danger" in classes


async def test_exchange_text_is_shown_as_text_never_markup():
    error = ExchangeError("50110", "refused", "", "bound-to-other-ips",
                          "[bold red]hi[/] \x1b]52;c;aGk=\x07 \u202egnp.exe")
    report = KeyReport(ok=False, exchange="okx", host="www.okx.com", environment="mainnet",
                       latency_ms=1, clock_offset_ms=0, error=error,
                       findings=(Finding("info", "bound-to-other-ips", "[link=x]y[/link]"),))
    _text, _classes, body = await _headline(report)
    assert "[bold red]hi[/]" in body and "[link=x]y[/link]" in body
    assert "\x1b" not in body and "\u202e" not in body and "\\u202e" in body
