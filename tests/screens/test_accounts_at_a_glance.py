"""The accounts screen at 80x24 shows what the last check found without a key press: the
verdict stored in accounts.json by an earlier session, for the highlighted account."""

from __future__ import annotations

from textual.widgets import DataTable, Static

from tests.screens.test_accounts_snapshots import four_accounts
from tests.support.accounts_fixtures import accounts_app, keylink_home, unlock, vault_home, wait_for
from tui.widgets.report_panel import ReportPanel

__all__ = ["four_accounts", "keylink_home", "vault_home"]  # fixtures used by name below

SIZE = (80, 24)


def _panel(pilot) -> str:
    panel = pilot.app.screen.query_one("#report", ReportPanel)
    if not panel.display:
        return ""
    return "\n".join(str(s.content) for s in panel.query(Static))


async def test_the_stored_verdict_shows_on_start_and_explains_a_cut_column(
    four_accounts: None,
) -> None:
    # After a restart the panel stayed empty until v, and at 80 columns the cut "Last check"
    # column left "✗ failed" unexplained. The fixture's checks were stored by an earlier session.
    async with accounts_app().run_test(size=SIZE) as pilot:
        await unlock(pilot)
        screen = pilot.app.screen
        table = screen.query_one("#accounts", DataTable)
        await wait_for(pilot, lambda: table.row_count == 4)
        shown_width = sum(c.get_render_width(table) for c in table.columns.values())
        assert shown_width > table.scrollable_content_region.width  # the column really is cut
        await wait_for(pilot, lambda: "1 warning" in _panel(pilot))
        assert "! Last check: works; read+trade; IP-bound (20); 1 warning" in _panel(pilot)
        assert "press v to check again" in _panel(pilot)
        panel = screen.query_one("#report", ReportPanel)
        assert "2026-01-02" in str(panel.border_subtitle)
        await pilot.press("down")  # OKX demo: failed
        await wait_for(pilot, lambda: "wrong secret (50113)" in _panel(pilot))
        assert "✗ Last check: failed: wrong secret (50113)" in _panel(pilot)
        headline = panel.query(Static).first()
        assert "-danger" in headline.classes
        assert screen.region.contains_region(headline.region) and headline.region.height >= 1
        await pilot.press("down")  # locked
        await wait_for(pilot, lambda: "bound to other addresses (40018)" in _panel(pilot))
        await pilot.press("down")  # never checked: nothing to show
        await wait_for(pilot, lambda: not panel.display)
        assert not screen.reports  # nothing was checked this session: no network involved
