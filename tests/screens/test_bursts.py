"""Keys in a burst (several in one read, as a laggy ssh link delivers them): each key acts once,
the result is the one the same keys give typed one at a time, and the app then goes quiet."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import pytest
from textual.widgets import Static

import tui.app
from tests.support.accounts_fixtures import (
    BYBIT_KEY,
    BYBIT_SECRET,
    PASSPHRASE,
    keylink_home,
    open_store,
    vault_home,
    wait_for,
)
from tests.support.bursts import Activity, burst, counting, one_at_a_time, screen_text
from tui.app import KeylinkApp
from tui.screens.guide import GuideScreen
from tui.services.core.settings import Settings, load_settings, settings_path
from tui.services.store.accounts import Credentials

__all__ = ["keylink_home", "vault_home"]  # fixtures used by name below

SIZE = (80, 24)
#: After a burst the app must settle (``ActivityMeter.settle``: at most a few seconds on a loaded
#: machine) and then stay quiet: at most a few messages (a timer, a toast's end) and 5 % of a core.
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
        async with app.run_test(size=SIZE):
            screen = app.screen
            assert isinstance(screen, GuideScreen) and screen.exchange_id == "bybit"
            await meter.settle()  # start-up done (the warm-up thread's help drawing included)
            burst(app, "ee")
            await meter.settle()  # at most a few seconds; an app that never settles fails below
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
            await meter.settle()
            after = await meter.measure(QUIET_WINDOW)
            assert screen.exchange_id == "bybit" and screen.step.id == "terminal-enter"
            assert "→ 1. Display name" in _checklist(screen)
            assert_quiet(after, "two bursts of 'ee' on the checklist step")
    assert len(settings_writes) <= 4
    assert load_settings()[0].guide_exchange == "bybit"


class Case(NamedTuple):
    """A burst for one section: where the app starts and the keys (as the terminal sends them)."""

    start: str
    keys: str
    #: True: a vault with one stored account, unlocked from the environment.
    accounts: bool = False


#: Each section's keys, mixed, and keys that move focus or change section before the next ones.
CASES = {
    "guide": Case("guide", "nnnpneee"),
    "guide-then-whitelist": Case("guide", "n3sf"),
    # The step list's own keys: down, down, up, End, Home, down, then the guide's n.
    "guide-steps": Case("guide", "\x1b[B\x1b[B\x1b[A\x1b[F\x1b[H\x1b[Bn"),
    "accounts": Case("accounts", "jlu", accounts=True),
    "account-form": Case("accounts", "aBot one\tb", accounts=True),
    "whitelist": Case("whitelist", "fsfjjo/t"),
    "faq": Case("faq", "jjaakj"),
    "faq-filter": Case("faq", "/key"),
    "help": Case("guide", "?jjj\x1b"),
    "palette": Case("guide", "\x10faq\r"),
}


def _state(app: KeylinkApp) -> tuple[str, str, str]:
    focused = app.focused
    where = (focused.id or type(focused).__name__) if focused is not None else "-"
    return type(app.screen).__name__, where, screen_text(app)


async def _run(case: Case, as_burst: bool, meter: Any) -> tuple[tuple[str, str, str], Activity]:
    app = KeylinkApp(start_screen=case.start)
    async with app.run_test(size=SIZE) as pilot:
        if case.accounts:
            await wait_for(pilot, lambda: "unlocked" in str(
                app.screen.query_one("#store-status", Static).render()))
        await meter.settle()  # start-up done (the sections' warm-up included)
        if as_burst:
            burst(app, case.keys)
        else:
            await one_at_a_time(pilot, case.keys, pause=0.08)
        await meter.settle()
        after = await meter.measure(QUIET_WINDOW / 2) if as_burst else Activity(0, 0.0, 0.0)
        return _state(app), after


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CASES))
async def test_a_burst_of_a_sections_keys_acts_as_typed_slowly_then_all_is_quiet(
    name: str, vault_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = CASES[name]
    if case.accounts:
        monkeypatch.setenv("KEYLINK_VAULT_PASSPHRASE", PASSPHRASE)
        open_store().add("Main", "bybit", "mainnet", Credentials(BYBIT_KEY, BYBIT_SECRET))
    with counting() as meter:
        slow, _ = await _run(case, as_burst=False, meter=meter)
        # Both runs start from the same settings (the guide remembers its exchange).
        settings_path().unlink(missing_ok=True)
        fast, after = await _run(case, as_burst=True, meter=meter)
    assert fast[:2] == slow[:2], f"{case.keys!r} in one read ended elsewhere"
    assert fast[2] == slow[2], f"{case.keys!r} in one read drew another screen:\n{fast[2]}"
    assert_quiet(after, repr(case.keys))
