"""The whitelist viewer stays right: the list shown is the list copied, loading a file never
starts a ping-pong in the profile selector, and odd files are refused off the UI thread."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from textual.widgets import DataTable, Select, Static

from tests.support.accounts_fixtures import paste
from tui.app import KeylinkApp
from tui.screens.whitelist import WhitelistScreen
from tui.services.terminals import whitelist

SIZE = (80, 24)
BITGET = whitelist.profile("insilico-bitget").addresses


@pytest.fixture(autouse=True)
def _no_local_clipboard(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)


def _screen(app: KeylinkApp) -> WhitelistScreen:
    assert isinstance(app.screen, WhitelistScreen)
    return app.screen


def _table(screen: WhitelistScreen) -> list[str]:
    table = screen.query_one("#addresses", DataTable)
    return [str(table.get_row_at(i)[1]) for i in range(table.row_count)]


async def _load(app: KeylinkApp, pilot, path: Path | str) -> None:
    await pilot.press("o")
    # Pasted, as a terminal's bracketed paste brings it (one key press per character of a long
    # tmp path cost seconds; typing a path is the Tab-completion test's).
    await paste(pilot, "path", str(path))
    await pilot.press("enter")
    await app.workers.wait_for_complete()
    await pilot.pause()


async def _count_switches(app: KeylinkApp, pilot, screen: WhitelistScreen, rounds: int = 20) -> int:
    """How many times the list changes while nobody presses anything (a loop never stops)."""
    calls = 0
    original = screen.show_list

    def counting(list_id: str) -> None:
        nonlocal calls
        calls += 1
        original(list_id)

    screen.show_list = counting  # type: ignore[method-assign]
    for _ in range(rounds):
        await pilot.pause()
    screen.show_list = original  # type: ignore[method-assign]
    return calls


def _files(tmp_path: Path) -> tuple[Path, Path]:
    one = tmp_path / "one.txt"
    one.write_text("10.0.0.1\n10.0.0.2\n10.0.0.3\n")
    two = tmp_path / "two.txt"
    two.write_text("10.9.0.1 10.9.0.2\n")
    return one, two


@pytest.mark.slow  # one of the longest app flows: in the full suite, not the quick lane
@pytest.mark.parametrize("before", ["s", "reveal", "file"])
async def test_a_loaded_file_is_shown_and_copied_whatever_was_shown_before(
    tmp_path: Path, before: str
) -> None:
    one, two = _files(tmp_path)
    app = KeylinkApp(start_screen="whitelist")
    async with app.run_test(size=SIZE) as pilot:
        screen = _screen(app)
        if before == "s":
            await pilot.press("s")
        elif before == "reveal":  # what `w` on the guide's Bitget step does
            screen.reveal("insilico-bitget")
        else:
            await _load(app, pilot, two)
        await pilot.pause()
        await _load(app, pilot, one)
        assert await _count_switches(app, pilot, screen) == 0
        assert screen.list_id == f"file:{one}"
        assert screen.query_one("#profile", Select).value == f"file:{one}"
        assert _table(screen) == ["10.0.0.1", "10.0.0.2", "10.0.0.3"]
        await pilot.press("c")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.clipboard == "10.0.0.1,10.0.0.2,10.0.0.3"


@pytest.mark.slow
async def test_w_from_the_guide_then_a_file(tmp_path: Path) -> None:
    one, _ = _files(tmp_path)
    app = KeylinkApp(start_screen="whitelist")
    async with app.run_test(size=SIZE) as pilot:
        await app.show("whitelist", "insilico-bitget")
        await pilot.pause()
        screen = _screen(app)
        assert _table(screen) == list(BITGET)
        await _load(app, pilot, one)
        assert await _count_switches(app, pilot, screen) == 0
        assert _table(screen) == ["10.0.0.1", "10.0.0.2", "10.0.0.3"]
        # And back through the selector: each choice shows its own list once.
        await pilot.press("s")
        await pilot.pause()
        assert await _count_switches(app, pilot, screen) == 0
        assert screen.list_id == whitelist.DEFAULT_PROFILE


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["fifo", "device", "tty"])
async def test_non_regular_files_are_refused_and_the_app_keeps_going(
    tmp_path: Path, kind: str
) -> None:
    if kind == "fifo":
        path = tmp_path / "pipe"
        os.mkfifo(path)
        target = str(path)
    elif kind == "device":
        target = "/dev/zero"
    else:
        target = "/dev/tty"
        if not os.path.exists(target):
            pytest.skip("no /dev/tty here")
    app = KeylinkApp(start_screen="whitelist")
    async with app.run_test(size=SIZE) as pilot:
        screen = _screen(app)
        await pilot.press("o", *target)
        started = time.monotonic()
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert time.monotonic() - started < 5  # refused at once, not read
        error = screen.query_one("#wl-error", Static)
        assert error.display
        assert "not a regular file" in str(error.render())
        assert screen.list_id == whitelist.DEFAULT_PROFILE


def test_load_file_refuses_a_fifo_without_blocking(tmp_path: Path) -> None:
    path = tmp_path / "pipe"
    os.mkfifo(path)
    started = time.monotonic()
    with pytest.raises(whitelist.WhitelistError, match="not a regular file"):
        whitelist.load_file(path)
    assert time.monotonic() - started < 2


async def test_the_file_is_read_off_the_ui_thread(tmp_path: Path, monkeypatch) -> None:
    import threading

    one, _ = _files(tmp_path)
    threads: list[str] = []
    real = whitelist.load_file

    def spy(path: str | Path) -> whitelist.LoadResult:
        threads.append(threading.current_thread().name)
        return real(path)

    monkeypatch.setattr(whitelist, "load_file", spy)
    app = KeylinkApp(start_screen="whitelist")
    async with app.run_test(size=SIZE) as pilot:
        await _load(app, pilot, one)
        assert threads and threads[0] != threading.main_thread().name
        assert _table(_screen(app)) == ["10.0.0.1", "10.0.0.2", "10.0.0.3"]


@pytest.mark.slow  # one of the longest app flows: in the full suite, not the quick lane
async def test_w_on_the_bitget_guide_step_then_file_after_file(tmp_path: Path) -> None:
    from tui.screens.guide import GuideScreen

    one, two = _files(tmp_path)
    app = KeylinkApp()
    async with app.run_test(size=SIZE) as pilot:
        guide = app.screen
        assert isinstance(guide, GuideScreen)
        guide.set_exchange("bitget")
        guide.reveal("whitelist")
        await pilot.pause()
        await pilot.press("w")
        await pilot.pause()
        screen = _screen(app)
        assert screen.list_id == "insilico-bitget"
        for path, expected in ((one, "10.0.0.1,10.0.0.2,10.0.0.3"), (two, "10.9.0.1,10.9.0.2"),
                               (one, "10.0.0.1,10.0.0.2,10.0.0.3")):
            await _load(app, pilot, path)
            assert await _count_switches(app, pilot, screen, rounds=10) == 0
            assert screen.list_id == f"file:{path}"
            await pilot.press("c")
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert app.clipboard == expected
