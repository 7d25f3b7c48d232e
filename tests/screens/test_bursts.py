"""Keys in a burst (several in one read, as a laggy ssh link delivers them): each key acts once,
the result is the one the same keys give typed one at a time, and the app then goes quiet."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Static

import tui.app
from tests.screens.accounts_fixtures import (
    BYBIT_KEY,
    BYBIT_SECRET,
    keylink_home,
    open_store,
    vault_home,
    wait_for,
)
from tests.screens.bursts import Activity, burst, counting
from tui.app import KeylinkApp
from tui.screens.guide import GuideScreen
from tui.services.accounts import Credentials
from tui.services.settings import Settings, load_settings

__all__ = ["keylink_home", "vault_home"]  # fixtures used by name below

SIZE = (80, 24)
#: After a burst, the app must be idle within this time...
SETTLE = 0.5
#: ...and then stay so: at most a few messages (a timer, a toast's end) and 5 % of a core.
QUIET_WINDOW = 1.0
QUIET_MESSAGES = 10
QUIET_CPU = 0.05


@pytest.fixture
def settings_writes(monkeypatch: pytest.MonkeyPatch) -> list[Settings]:
    """Every settings write the app makes (still written for real)."""
    writes: list[Settings] = []
    real = tui.app.save_settings

    def save(settings: Settings, *args: Any) -> None:
        writes.append(settings)
        real(settings, *args)

    monkeypatch.setattr(tui.app, "save_settings", save)
    return writes


def assert_quiet(after: Activity, what: str) -> None:
    assert after.messages <= QUIET_MESSAGES and after.cpu < QUIET_CPU * after.seconds, (
        f"after {what} the app did not go quiet: {after.messages} messages and "
        f"{after.cpu:.3f} s of CPU in {after.seconds:g} s"
    )


async def test_two_e_in_one_read_switch_the_exchange_twice_then_all_is_quiet(
    settings_writes: list[Settings],
) -> None:
    with counting() as meter:
        app = KeylinkApp()
        async with app.run_test(size=SIZE) as pilot:
            screen = app.screen
            assert isinstance(screen, GuideScreen) and screen.exchange_id == "bybit"
            await pilot.pause()
            burst(app, "ee")
            await asyncio.sleep(SETTLE)
            after = await meter.measure(QUIET_WINDOW)
            assert screen.exchange_id == "bitget"
            assert_quiet(after, "'ee'")
    # One write per real change at most, and the file says where the guide ended.
    assert 1 <= len(settings_writes) <= 2
    assert settings_writes[-1].guide_exchange == "bitget"
    assert load_settings()[0].guide_exchange == "bitget"


def _checklist(screen: GuideScreen) -> str:
    return str(screen.query_one("#checklist", Static).render())


async def test_a_burst_of_e_on_the_checklist_step_reads_the_right_accounts(
    vault_home: Path, settings_writes: list[Settings]
) -> None:
    open_store().add("Main", "bybit", "mainnet", Credentials(BYBIT_KEY, BYBIT_SECRET))
    with counting() as meter:
        app = KeylinkApp()
        async with app.run_test(size=SIZE) as pilot:
            screen = app.screen
            assert isinstance(screen, GuideScreen)
            screen.reveal("terminal-enter")
            await wait_for(pilot, lambda: "From Main" in _checklist(screen))
            burst(app, "ee")
            await wait_for(pilot, lambda: "No Bitget account is stored" in _checklist(screen))
            burst(app, "ee")  # round the four exchanges: back to Bybit and its account
            await wait_for(pilot, lambda: "From Main" in _checklist(screen))
            await asyncio.sleep(SETTLE)
            after = await meter.measure(QUIET_WINDOW)
            assert screen.exchange_id == "bybit" and screen.step.id == "terminal-enter"
            assert "→ 1. Display name" in _checklist(screen)
            assert_quiet(after, "two bursts of 'ee' on the checklist step")
    assert len(settings_writes) <= 4
    assert load_settings()[0].guide_exchange == "bybit"
