"""The guide follows the terminal: asked first (t, remembered in settings), its binding on the
exchange (link flow or not), its list, where its form is and its field names in the checklist.
Snapshots at 80x24 for four terminals on three exchanges.

Regenerate the snapshots with ``--snapshot-update`` only after looking at the SVGs.
"""

from __future__ import annotations

from pathlib import Path

from textual.content import Content
from textual.pilot import Pilot
from textual.widgets import OptionList, Static

from tests.support.accounts_fixtures import (
    OKX_KEY,
    OKX_SECRET,
    keylink_home,
    open_store,
    vault_home,
    wait_for,
)
from tui.app import KeylinkApp
from tui.content.guide import guide_steps
from tui.screens.guide import GuideScreen
from tui.screens.terminal_picker import TerminalPickerScreen
from tui.services.core.settings import load_settings
from tui.services.terminals.catalogue import terminals

SIZE = (80, 24)
__all__ = ["keylink_home", "vault_home"]


def _text(screen: GuideScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def _steps(exchange_id: str, terminal_id: str) -> dict[str, str]:
    return {s.id: s.body + "\n" + s.extra for s in guide_steps(exchange_id, terminal_id)}


def test_each_binding_kind_words_its_steps() -> None:
    # Link flow (Gainium on Bybit): pick it from the exchange's list; no list of its own.
    gainium = _steps("bybit", "gainium")
    assert "pick [b]Gainium[/b] from its list" in gainium["linked"]
    assert "no list of Gainium's addresses for Bybit" in gainium["whitelist"]
    assert "not needed for Bybit" in gainium["whitelist"]
    # Published list (Gainium on Binance): the list with its count and date.
    assert "Gainium's list (5 addresses, taken 2026-08-01)" in _steps("binance",
                                                                      "gainium")["whitelist"]
    # An unofficial copy says so.
    assert "an unofficial copy" in _steps("okx", "insilico")["whitelist"]
    # Served (3Commas on Bitget): the refresh command, and that nothing was fetched yet.
    served = _steps("bitget", "3commas")["whitelist"]
    assert "keylink whitelist --refresh 3commas" in served and "not fetched yet" in served
    # Per user (Altrady on Binance) and self-hosted (freqtrade): the account's own list.
    assert "shows you your own list" in _steps("binance", "altrady")["whitelist"]
    self_hosted = _steps("okx", "freqtrade")
    assert "your server's public address" in self_hosted["whitelist"]
    assert "runs on your own server" in self_hosted["linked"]
    # Where the form is: named when the vendor's place is known, generic when it is not.
    assert "[b]Settings → Accounts → Account tab[/b]" in _steps("bybit",
                                                             "insilico")["terminal-open"]
    assert "Open its account settings" in _steps("bybit", "gainium")["terminal-open"]
    assert "Now switch to freqtrade" in self_hosted["terminal-open"]


def test_the_ip_list_key_only_where_there_is_a_list() -> None:
    def has_w(exchange_id: str, terminal_id: str) -> bool:
        return any(s.whitelist for s in guide_steps(exchange_id, terminal_id))

    assert has_w("bybit", "insilico") and has_w("binance", "gainium")
    assert not has_w("bybit", "gainium")  # linked: no list for Bybit
    assert not has_w("binance", "altrady") and not has_w("okx", "freqtrade")
    assert not has_w("bitget", "3commas")  # served, not fetched yet


async def test_t_asks_for_the_terminal_and_the_steps_follow_it_remembered() -> None:
    app = KeylinkApp()
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, GuideScreen)
        detail = screen.query_one("#step-detail")
        assert not screen.terminal_chosen and "t picks yours" in str(detail.border_subtitle)
        await pilot.press("t")
        picker = app.screen
        assert isinstance(picker, TerminalPickerScreen)
        options = picker.query_one(OptionList)
        assert options.option_count == len(terminals())
        ids = list(terminals())
        for _ in range(ids.index("freqtrade")):
            await pilot.press("down")
        await pilot.press("enter")
        assert app.screen is screen and screen.terminal_id == "freqtrade"
        assert str(detail.border_subtitle) == "freqtrade: your own server"
        screen.reveal("terminal-enter")
        await pilot.pause()
        # freqtrade's own names for the items: key, secret, password.
        checklist = _text(screen, "#checklist")
        assert "Reading the stored accounts" in checklist or "No Bybit account" in checklist
        assert [name for _f, name in screen._items()] == ["name", "key", "secret"]
        screen.set_exchange("okx")
        assert [name for _f, name in screen._items()] == ["name", "key", "secret", "password"]
        await app.workers.wait_for_complete()
        assert app.settings.guide_terminal == "freqtrade"
    assert load_settings()[0].guide_terminal == "freqtrade"
    # The next start asks no more: the guide follows the remembered terminal.
    app = KeylinkApp()
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, GuideScreen)
        assert screen.terminal_chosen and screen.terminal_id == "freqtrade"
        screen.reveal("terminal-open")
        await pilot.pause()
        assert "Now switch to freqtrade" in _text(screen, "#step-body")
        await pilot.press("t", "escape")  # escape keeps the terminal
        assert app.screen is screen and screen.terminal_id == "freqtrade"


async def test_w_opens_the_terminal_s_list_for_the_exchange() -> None:
    app = KeylinkApp()
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, GuideScreen)
        screen.set_terminal("gainium")
        screen.set_exchange("binance")
        screen.reveal("whitelist")
        await pilot.press("w")
        await pilot.pause()
        assert app.screen.list_id == "gainium"


async def test_the_checklist_uses_the_terminal_s_field_names_and_accounts(
        vault_home: Path) -> None:
    from tui.services.keys.credentials import Credentials

    store = open_store()
    store.add("Bot", "okx", "mainnet", Credentials(OKX_KEY, OKX_SECRET, "Okx-Pass-7731"),
              terminal="freqtrade")
    store.add("Other", "okx", "mainnet", Credentials(OKX_KEY[::-1], OKX_SECRET, "Okx-Pass-1"),
              terminal="gainium")
    app = KeylinkApp()
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, GuideScreen)
        screen.set_terminal("freqtrade")
        screen.set_exchange("okx")
        screen.reveal("terminal-enter")
        await wait_for(pilot, lambda: "From Bot" in _text(screen, "#checklist"))
        text = _text(screen, "#checklist")
        # Only freqtrade's account (Gainium's is another terminal's), with freqtrade's names.
        assert "of 2" not in text
        assert "1. name" in text and "2. key" in text and "4. password" in text
        screen.set_terminal("gainium")
        await wait_for(pilot, lambda: "From Other" in _text(screen, "#checklist"))
        assert "2. API key" in _text(screen, "#checklist")


def _snapshot(terminal_id: str, exchange_id: str, step: str):
    async def run_before(pilot: Pilot) -> None:
        screen = pilot.app.screen
        assert isinstance(screen, GuideScreen)
        screen.set_terminal(terminal_id)
        screen.set_exchange(exchange_id)
        screen.reveal(step)
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    return run_before


def test_snapshot_gainium_on_bybit_is_linked(snap_compare) -> None:
    assert snap_compare(KeylinkApp(), terminal_size=SIZE,
                        run_before=_snapshot("gainium", "bybit", "whitelist"))


def test_snapshot_gainium_on_binance_pastes_its_list(snap_compare) -> None:
    assert snap_compare(KeylinkApp(), terminal_size=SIZE,
                        run_before=_snapshot("gainium", "binance", "whitelist"))


def test_snapshot_altrady_on_binance_keeps_the_user_s_list(snap_compare) -> None:
    assert snap_compare(KeylinkApp(), terminal_size=SIZE,
                        run_before=_snapshot("altrady", "binance", "whitelist"))


def test_snapshot_freqtrade_on_okx_names_its_config(snap_compare) -> None:
    assert snap_compare(KeylinkApp(), terminal_size=SIZE,
                        run_before=_snapshot("freqtrade", "okx", "terminal-open"))


async def test_a_terminal_name_with_markup_is_drawn_as_written(monkeypatch) -> None:
    """Catalogue text is data: a name holding markup shows as typed in the picker and under
    the step, and its [@click] does nothing."""
    from dataclasses import replace

    from tui.services.terminals import catalogue

    hostile = "Bot [b]x[/] [@click=app.quit]"
    shipped = catalogue._shipped()[0]
    monkeypatch.setitem(shipped, "freqtrade", replace(shipped["freqtrade"], name=hostile))
    app = KeylinkApp()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, GuideScreen)
        await pilot.press("t")
        picker = app.screen
        options = picker.query_one(OptionList)
        index = list(terminals()).index("freqtrade")
        assert hostile in str(options.get_option_at_index(index).prompt)
        for _ in range(index):
            await pilot.press("down")
        await pilot.press("enter")
        await pilot.pause()
        detail = screen.query_one("#step-detail")
        assert app.is_running and screen.terminal_id == "freqtrade"
        # The property gives it back escaped (as markup); drawn, it is the text as written.
        assert Content.from_markup(str(detail.border_subtitle)).plain.startswith(hostile)
        assert "Bot [b]x[/]" in app.export_screenshot().replace("&#160;", " ")
