"""The accounts screen at 80x24 explains what its cut columns hide, without a key press."""

from __future__ import annotations

from textual.widgets import DataTable, Static

from tests.screens.accounts_fixtures import accounts_app, keylink_home, unlock, vault_home, wait_for
from tests.screens.test_accounts_snapshots import four_accounts

__all__ = ["four_accounts", "keylink_home", "vault_home"]  # fixtures used by name below

SIZE = (80, 24)


def _hint(pilot) -> str:
    return str(pilot.app.screen.query_one("#copy-hint", Static).render())


async def test_the_line_under_the_table_says_why_a_check_failed(four_accounts: None) -> None:
    # At 80 columns "Last check" is cut off: "✗ failed" was left unexplained.
    async with accounts_app().run_test(size=SIZE) as pilot:
        await unlock(pilot)
        screen = pilot.app.screen
        table = screen.query_one("#accounts", DataTable)
        await wait_for(pilot, lambda: table.row_count == 4)
        check_column = table.columns[list(table.columns)[-1]]
        shown_width = sum(c.get_render_width(table) for c in table.columns.values())
        assert shown_width > table.scrollable_content_region.width  # the column really is cut
        assert check_column.label.plain == "Last check"
        await pilot.press("down")  # OKX demo: failed
        await wait_for(pilot, lambda: "wrong secret (50113)" in _hint(pilot))
        assert "Last check of OKX demo: failed: wrong secret (50113)" in _hint(pilot)
        assert "n name" in _hint(pilot)  # the copy keys stay named
        box = screen.query_one("#copy-hint", Static)
        assert screen.region.contains_region(box.region) and box.region.height >= 2
        await pilot.press("down")  # locked
        await wait_for(pilot, lambda: "bound to other addresses (40018)" in _hint(pilot))
        await pilot.press("down")  # never checked: the copy keys alone
        await wait_for(pilot, lambda: "Last check" not in _hint(pilot))
        assert _hint(pilot).startswith("Copy for the terminal")
        await pilot.press("up", "up", "up")  # works with a warning: what the "!" is about
        await wait_for(pilot, lambda: "1 warning" in _hint(pilot))
