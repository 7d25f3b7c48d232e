"""The app's one session: every section uses it, it is opened when first needed (never before
the first paint), its one timer follows accounts.json for every screen, and tests (or an
embedding) give the app their own through ``session_factory``. Over the real vault (cheap KDF)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable, Static

from tests.support.accounts_fixtures import (
    BYBIT_KEY,
    BYBIT_SECRET,
    PASSPHRASE,
    keylink_home,
    open_store,
    status_text,
    vault_home,
    wait_for,
)
from tui.app import KeylinkApp, make_session
from tui.screens.accounts import AccountsScreen
from tui.screens.guide import GuideScreen
from tui.services.store.accounts import Credentials
from tui.services.store.backends import PASSPHRASE_ENV
from tui.services.store.secrets import SecretStore

__all__ = ["keylink_home", "vault_home"]  # fixtures used by name below

SIZE = (100, 34)


def count_opens(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the secret stores opened from now on (each is the real one)."""
    opened: list[int] = []
    real = SecretStore.open.__func__  # type: ignore[attr-defined]

    def counting(cls: type[SecretStore], *args: Any, **kwargs: Any) -> SecretStore:
        opened.append(1)
        return real(cls, *args, **kwargs)

    monkeypatch.setattr(SecretStore, "open", classmethod(counting))
    return opened


def checklist(screen: GuideScreen) -> str:
    return str(screen.query_one("#checklist", Static).render())


def table_names(screen: AccountsScreen) -> list[str]:
    table = screen.query_one("#accounts", DataTable)
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


async def test_the_guide_and_the_accounts_section_share_one_session(
    vault_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_store().add("Main", "bybit", "mainnet", Credentials(BYBIT_KEY, BYBIT_SECRET))
    monkeypatch.setenv(PASSPHRASE_ENV, PASSPHRASE)
    opened = count_opens(monkeypatch)
    app = KeylinkApp()
    async with app.run_test(size=SIZE) as pilot:
        guide = app.screen
        assert isinstance(guide, GuideScreen)
        await pilot.pause(0.2)
        assert not app.session_started and opened == []  # nothing opened for the first paint
        guide.reveal("terminal-enter")  # the checklist needs the accounts: the session opens
        await wait_for(pilot, lambda: "From Main" in checklist(guide))
        assert app.session_started and opened == [1]
        await pilot.press("2")
        accounts = app.screen
        assert isinstance(accounts, AccountsScreen)
        await wait_for(pilot, lambda: table_names(accounts) == ["Main"])
        await wait_for(pilot, lambda: "unlocked" in status_text(pilot))
        assert opened == [1]  # the same session, not a second store
        assert accounts.secrets is app.session.secrets is not None
        await pilot.press("l")  # locked from the accounts section: locked for the guide too
        await wait_for(pilot, lambda: "locked (press u" in status_text(pilot))
        assert app.session.secrets.needs_unlock


async def test_the_guide_checklist_follows_the_accounts_file(
    vault_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(KeylinkApp, "SESSION_TICK", 0.2)
    app = KeylinkApp()
    async with app.run_test(size=SIZE) as pilot:
        guide = app.screen
        assert isinstance(guide, GuideScreen)
        guide.reveal("terminal-enter")
        await wait_for(pilot, lambda: "No Bybit account is stored" in checklist(guide))
        # Another keylink (the CLI) adds one: the session's tick tells the guide, no key pressed.
        open_store().add("Added by the CLI", "bybit", "mainnet",
                         Credentials(BYBIT_KEY, BYBIT_SECRET))
        await wait_for(pilot, lambda: "From Added by the CLI" in checklist(guide), timeout=10)


async def test_the_session_factory_gives_the_app_its_store(
    vault_home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from tui.services.store.accounts import AccountStore

    elsewhere = tmp_path / "elsewhere"
    secrets = SecretStore.open()
    secrets.unlock(PASSPHRASE)
    AccountStore(secrets, elsewhere).add("Elsewhere", "bybit", "mainnet",
                                         Credentials(BYBIT_KEY, BYBIT_SECRET))
    assert open_store().list() == []  # not in the default folder
    monkeypatch.setenv(PASSPHRASE_ENV, PASSPHRASE)
    app = KeylinkApp(start_screen="accounts",
                     session_factory=lambda: make_session(config_dir=elsewhere))
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, AccountsScreen)
        await wait_for(pilot, lambda: table_names(screen) == ["Elsewhere"])
        assert app.session.accounts is not None and app.session.accounts.dir == elsewhere


async def test_the_session_opens_while_no_other_thread_imports(
    vault_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The warm-up imports the sections in a thread; opening the session imports the secret
    store and keyring in another. At once, Python failed one import with a _DeadlockError and
    the accounts screen said "could not be opened (_DeadlockError)" (seen in tmux when 2 was
    pressed during the warm-up): the two now take turns."""
    import time

    import tui.app

    spans: dict[str, tuple[float, float]] = {}
    real_imports = tui.app._import_section_modules

    def slow_imports() -> None:
        start = time.monotonic()
        time.sleep(0.4)
        real_imports()
        spans["warm-up"] = (start, time.monotonic())

    def slow_open() -> SecretStore:
        start = time.monotonic()
        time.sleep(0.6)  # a keyring probe taking its time, over the warm-up's start (0.3 s)
        store = SecretStore.open()
        spans["open"] = (start, time.monotonic())
        return store

    monkeypatch.setattr(tui.app, "_import_section_modules", slow_imports)
    monkeypatch.setenv(PASSPHRASE_ENV, PASSPHRASE)
    app = KeylinkApp(start_screen="accounts",
                     session_factory=lambda: make_session(open_secrets=slow_open))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: len(spans) == 2 and "unlocked" in status_text(pilot))
    (_first_start, first_end), (second_start, _second_end) = sorted(spans.values())
    assert first_end <= second_start, spans  # one after the other, never overlapping


async def test_the_session_tick_leaves_an_idle_app_quiet(
    vault_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ten ticks with nothing to tell: no worker's state messages, no status line drawn again,
    no footer rebuilt. (Before: about ten messages a tick, enough to fail the burst tests'
    quiet check on a loaded machine.)"""
    from tests.support.bursts import counting

    open_store().add("Main", "bybit", "mainnet", Credentials(BYBIT_KEY, BYBIT_SECRET))
    monkeypatch.setenv(PASSPHRASE_ENV, PASSPHRASE)
    monkeypatch.setattr(KeylinkApp, "SESSION_TICK", 0.1)
    with counting() as meter:
        app = KeylinkApp(start_screen="accounts")
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: "unlocked" in status_text(pilot))
            assert await meter.settle(window=0.3, messages=3)
            idle = await meter.measure(1.0)
            assert "unlocked, locks in" in status_text(pilot)  # the line is still right
    assert idle.messages <= 3, f"{idle.messages} messages in 1 s of ticks with nothing to tell"
