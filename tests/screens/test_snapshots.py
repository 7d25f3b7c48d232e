"""Snapshots of every screen at 80x24 (the smallest supported) and 120x34.

Regenerate after an intended change with ``pytest tests/screens/test_snapshots.py
--snapshot-update`` and look at the SVGs in __snapshots__/ before committing them.
"""

from __future__ import annotations

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from tests.support.accounts_fixtures import workers_done
from tui.app import KeylinkApp

SIZES = [(80, 24), (120, 34)]


@pytest.fixture(autouse=True)
def _no_local_clipboard(monkeypatch: pytest.MonkeyPatch) -> None:
    # The copy message names the ways used: OSC 52 only, whatever machine runs the tests.
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)


async def _steady(pilot: Pilot) -> None:
    """No blinking cursors, no running workers: the same picture every time."""
    app = pilot.app
    await workers_done(pilot)
    for widget in app.screen.query(Input):
        widget.cursor_blink = False
    for widget in app.screen.query(TextArea):
        widget.cursor_blink = False
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_guide(snap_compare, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot) -> None:
        await pilot.press("e", "n", "n", "n")  # OKX, the IP-restriction step
        await _steady(pilot)

    assert snap_compare(KeylinkApp(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_guide_security_note(snap_compare, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot) -> None:
        pilot.app.screen.reveal("save")
        await _steady(pilot)

    assert snap_compare(KeylinkApp(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_whitelist_after_copy(snap_compare, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot) -> None:
        await pilot.press("c")
        await _steady(pilot)
        pilot.app.clear_notifications()
        await pilot.pause()

    assert snap_compare(KeylinkApp(start_screen="whitelist"), terminal_size=size,
                        run_before=run_before)


@pytest.mark.slow
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_faq_filtered(snap_compare, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot) -> None:
        await pilot.press("slash", *"ip stolen")
        await _steady(pilot)

    assert snap_compare(KeylinkApp(start_screen="faq"), terminal_size=size,
                        run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_help(snap_compare, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot) -> None:
        await pilot.press("question_mark")
        await _steady(pilot)

    assert snap_compare(KeylinkApp(), terminal_size=size, run_before=run_before)
