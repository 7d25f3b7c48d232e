"""The whitelist viewer: profiles, copying in each format, loading files."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable, Select, Static

from tests.support.accounts_fixtures import paste
from tui.app import KeylinkApp
from tui.screens.whitelist import WhitelistScreen
from tui.services.terminals import whitelist
from tui.widgets.copy_panel import CopyPanel

SIZE = (80, 24)
GENERAL = whitelist.profile("insilico-general").addresses
BITGET = whitelist.profile("insilico-bitget").addresses


@pytest.fixture(autouse=True)
def _no_local_clipboard(monkeypatch: pytest.MonkeyPatch) -> None:
    # Only OSC 52 then: the tests never touch the developer's clipboard, and the wording is fixed.
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)


async def _settle(app: KeylinkApp, pilot) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()


def _screen(app: KeylinkApp) -> WhitelistScreen:
    assert isinstance(app.screen, WhitelistScreen)
    return app.screen


def _table_addresses(screen: WhitelistScreen) -> list[str]:
    table = screen.query_one("#addresses", DataTable)
    return [str(table.get_row_at(i)[1]) for i in range(table.row_count)]


async def test_default_profile_is_shown_with_count_and_source() -> None:
    app = KeylinkApp(start_screen="whitelist")
    async with app.run_test(size=SIZE):
        screen = _screen(app)
        assert _table_addresses(screen) == list(GENERAL) and len(GENERAL) == 20
        assert screen.query_one("#addresses", DataTable).border_title == "20 addresses"
        source = str(screen.query_one("#wl-source", Static).render())
        profile = whitelist.profile("insilico-general")
        assert profile.source_url.removeprefix("https://") in source and profile.date in source
        assert "for Bybit, Binance, OKX" in source  # not only for Bybit
        assert not screen.query_one("#wl-warning", Static).display  # a recent list
        assert screen.query_one(CopyPanel).text == ",".join(GENERAL)  # the preview


async def test_c_copies_exactly_the_comma_list_and_says_how() -> None:
    app = KeylinkApp(start_screen="whitelist")
    async with app.run_test(size=SIZE) as pilot:
        screen = _screen(app)
        await pilot.press("c")
        await _settle(app, pilot)
        expected = ",".join(GENERAL)
        assert app.clipboard == expected and " " not in app.clipboard
        assert screen.last_copy is not None and screen.last_copy.ways == ("OSC 52",)
        panel = screen.query_one(CopyPanel)
        assert panel.text == expected  # still on screen to select by hand
        assert "20 addresses (comma-separated): sent to your terminal's clipboard (OSC 52)." \
            in panel.status
        assert screen.last_copy.describe() in panel.status.replace("\n", " ")
        assert panel.has_class("-copied")


async def test_f_cycles_formats_and_c_copies_in_the_chosen_one() -> None:
    app = KeylinkApp(start_screen="whitelist")
    async with app.run_test(size=SIZE) as pilot:
        screen = _screen(app)
        seen = []
        for _ in whitelist.FORMATS:
            seen.append(screen.fmt)
            await pilot.press("c")
            await _settle(app, pilot)
            assert app.clipboard == whitelist.format_addresses(GENERAL, screen.fmt)
            await pilot.press("f")
        assert seen == list(whitelist.FORMATS)
        assert screen.fmt == whitelist.FORMATS[0]  # wrapped around
        await pilot.press("f", "c")
        await _settle(app, pilot)
        assert app.clipboard == "\n".join(GENERAL)
        assert "one per line" in screen.query_one(CopyPanel).status


async def test_enter_and_y_copy_the_highlighted_address() -> None:
    app = KeylinkApp(start_screen="whitelist")
    async with app.run_test(size=SIZE) as pilot:
        screen = _screen(app)
        await pilot.press("down", "down", "enter")
        await _settle(app, pilot)
        assert app.clipboard == GENERAL[2]
        assert f"{GENERAL[2]} (address 3 of 20)" in screen.query_one(CopyPanel).status
        await pilot.press("down", "y")
        await _settle(app, pilot)
        assert app.clipboard == GENERAL[3]


async def test_profile_selector_and_reveal() -> None:
    app = KeylinkApp(start_screen="whitelist")
    async with app.run_test(size=SIZE) as pilot:
        screen = _screen(app)
        select = screen.query_one("#profile", Select)
        select.value = "insilico-bitget"
        await pilot.pause()
        assert screen.list_id == "insilico-bitget"
        assert _table_addresses(screen) == list(BITGET)
        assert "2023-08-14" in str(screen.query_one("#wl-source", Static).render())
        await pilot.press("c")
        await _settle(app, pilot)
        assert app.clipboard == ",".join(BITGET)
        await pilot.press("s")  # the next list in the catalogue
        assert screen.list_id == "gainium" and select.value == "gainium"
        await pilot.press("s", "s")  # past the last it wraps to the first
        assert screen.list_id == "insilico-general" and select.value == "insilico-general"
        screen.reveal("insilico-bitget")
        assert select.value == "insilico-bitget"
        with pytest.raises(ValueError, match="unknown whitelist profile"):
            screen.reveal("nope")
        assert screen.list_id == "insilico-bitget"


async def _load(pilot, path: Path | str) -> None:
    await pilot.press("o")
    # Pasted, as a terminal's bracketed paste brings it (one key press per character of a long
    # tmp path cost seconds; typing a path is the Tab-completion test's).
    await paste(pilot, "path", str(path))
    await pilot.press("enter")
    await pilot.app.workers.wait_for_complete()  # the file is read off the UI thread
    await pilot.pause()


async def test_loading_a_good_file_with_duplicates(tmp_path: Path) -> None:
    good = tmp_path / "ips.txt"
    good.write_text("# updated list\n10.0.0.1, 10.0.0.2\n10.0.0.1\n10.0.0.3 10.0.0.2\n")
    app = KeylinkApp(start_screen="whitelist")
    async with app.run_test(size=SIZE) as pilot:
        screen = _screen(app)
        await _load(pilot, good)
        assert _table_addresses(screen) == ["10.0.0.1", "10.0.0.2", "10.0.0.3"]
        assert screen.query_one("#addresses", DataTable).border_title == "3 addresses"
        notices = [n.message for n in app._notifications]
        assert any("dropped 2 duplicates: 10.0.0.1, 10.0.0.2" in m for m in notices)
        assert "2 duplicates dropped" in str(screen.query_one("#wl-source", Static).render())
        assert not screen.query_one("#wl-load").has_class("-open")
        assert screen.query_one("#profile", Select).value == f"file:{good}"
        await pilot.press("c")
        await _settle(app, pilot)
        assert app.clipboard == "10.0.0.1,10.0.0.2,10.0.0.3"


@pytest.mark.slow  # one of the longest app flows: in the full suite, not the quick lane
async def test_a_bad_file_names_the_bad_lines_and_keeps_the_list(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("10.0.0.1\nnot-an-ip\n10.0.0.0/24\n")
    app = KeylinkApp(start_screen="whitelist")
    async with app.run_test(size=SIZE) as pilot:
        screen = _screen(app)
        screen.reveal("insilico-bitget")
        await _load(pilot, bad)
        error = screen.query_one("#wl-error", Static)
        assert error.display
        message = str(error.render())
        assert "line 2" in message and "not-an-ip" in message and "line 3" in message
        assert "unchanged" in str(error.border_title)
        # Nothing lost: same profile, same rows; the path box stays open to fix the path.
        assert screen.list_id == "insilico-bitget"
        assert _table_addresses(screen) == list(BITGET)
        assert screen.query_one("#wl-load").has_class("-open")
        await pilot.press("escape")
        assert not screen.query_one("#wl-load").has_class("-open")
        assert app.screen is screen  # Escape closed the box, it did not leave the section
        # Also when focus has left the box.
        await pilot.press("o", "shift+tab")
        assert screen.query_one("#wl-load").has_class("-open")
        await pilot.press("escape")
        assert not screen.query_one("#wl-load").has_class("-open") and app.screen is screen
        await _load(pilot, tmp_path / "missing.txt")
        assert "no such file" in str(error.render())
        assert _table_addresses(screen) == list(BITGET)


async def test_an_empty_path_is_refused_gently() -> None:
    app = KeylinkApp(start_screen="whitelist")
    async with app.run_test(size=SIZE) as pilot:
        screen = _screen(app)
        await pilot.press("o", "enter")
        await pilot.pause()
        assert any("path" in n.message for n in app._notifications)
        assert _table_addresses(screen) == list(GENERAL)


async def test_an_old_profile_warns_and_s_shows_in_the_footer() -> None:
    app = KeylinkApp(start_screen="whitelist")
    async with app.run_test(size=SIZE) as pilot:
        screen = _screen(app)
        footer_keys = [key.key for key in screen.query("FooterKey")]
        assert "s" in footer_keys and "question_mark" in footer_keys
        await pilot.press("s")
        await pilot.pause()
        assert screen.list_id == "insilico-bitget"
        source = str(screen.query_one("#wl-source", Static).render())
        assert "docs.insilicoterminal.com" in source and "for Bitget" in source
        warning = screen.query_one("#wl-warning", Static)
        assert warning.display and "over 3 years" in str(warning.render())


async def test_addresses_no_exchange_accepts_load_with_a_warning(tmp_path: Path) -> None:
    listed = tmp_path / "ips.txt"
    listed.write_text("127.0.0.1\n10.0.0.7\n192.0.2.10\n8.8.8.8\n")
    app = KeylinkApp(start_screen="whitelist")
    async with app.run_test(size=SIZE) as pilot:
        await _load(pilot, listed)
        screen = _screen(app)
        assert screen.addresses == ("127.0.0.1", "10.0.0.7", "192.0.2.10", "8.8.8.8")
        warning = str(screen.query_one("#wl-warning", Static).render())
        assert warning.startswith("3 addresses no exchange would accept")
        assert "127.0.0.1 is loopback" in warning and "192.0.2.10 is reserved" in warning
        assert "8.8.8.8" not in warning
        notes = [n.message for n in app._notifications]
        assert any("no exchange would accept" in m for m in notes)


async def test_tab_completes_paths_and_the_hint_names_the_start_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "lists").mkdir()
    (tmp_path / "lists" / "insilico-2027.txt").write_text("8.8.8.8\n")
    (tmp_path / "lists" / "other.txt").write_text("8.8.4.4\n")
    (tmp_path / "lists" / "insilico-2026.txt").write_text("1.1.1.1\n")
    monkeypatch.chdir(tmp_path)
    app = KeylinkApp(start_screen="whitelist")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("o")
        screen = _screen(app)
        hint = screen.query_one("#wl-load-hint", Static)
        assert f"Relative paths start from {tmp_path}" in str(hint.render())
        path_box = screen.query_one("#path")
        await pilot.press("l", "i", "tab")
        await _settle(app, pilot)
        assert path_box.value == "lists/"
        # A completion that worked does not say that nothing matched.
        assert "No file or folder" not in str(hint.render())
        assert "Tab completes names" in str(hint.render())
        await pilot.press("i", "tab")
        await _settle(app, pilot)
        assert path_box.value == "lists/insilico-202"  # two names agree that far
        assert "2 names match: insilico-2026.txt, insilico-2027.txt" in str(hint.render())
        await pilot.press("7", "tab")
        await _settle(app, pilot)
        assert path_box.value == "lists/insilico-2027.txt"
        assert "No file or folder" not in str(hint.render())
        await pilot.press("x", "tab")
        await _settle(app, pilot)
        assert "No file or folder starts with that name" in str(hint.render())
        await pilot.press("backspace")
        await pilot.press("enter")
        await _settle(app, pilot)
        assert screen.addresses == ("8.8.8.8",)


async def test_copying_says_so_in_the_panel_without_toasts_over_it() -> None:
    app = KeylinkApp(start_screen="whitelist")
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(3):
            await pilot.press("c")
            await _settle(app, pilot)
        assert "20 addresses (comma-separated): sent to your terminal's clipboard" in (
            app.screen.query_one(CopyPanel).status)
        assert not app._notifications  # nothing covers the copy panel
