"""The whitelist screen shows each list's provenance as it is: an unofficial copy says so, an
undated page says so, and a list for every exchange says that."""

from __future__ import annotations

from textual.widgets import Static

from tui.app import KeylinkApp
from tui.screens.whitelist import WhitelistScreen


async def test_provenance_lines() -> None:
    app = KeylinkApp(start_screen="whitelist")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, WhitelistScreen)

        def source() -> str:
            return str(screen.query_one("#wl-source", Static).render())

        assert "unofficial copy: www.roedsa.com/19652.html" in source()
        screen.reveal("insilico-bitget")
        await pilot.pause()
        assert "taken 2023-08-14" in source() and "unofficial" not in source()
        screen.reveal("veles")
        await pilot.pause()
        assert "for every exchange · undated, from:" in source()
        screen.reveal("gainium")
        await pilot.pause()
        assert "for Binance, Binance US, Bitget, Coinbase, Kraken Spot, KuCoin" in source()
        assert "taken 2026-08-01" in source()
