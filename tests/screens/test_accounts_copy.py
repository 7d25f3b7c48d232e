"""Copy keys on the accounts screen: OSC 52 and the local clipboard get the exact value, the
screen never shows it, the notice says how and when, and the clear comes after KEYLINK_CLIP_TIME."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from tests.support.accounts_fixtures import (
    BYBIT_KEY,
    BYBIT_SECRET,
    OKX_KEY,
    OKX_SECRET,
    accounts_app,
    checked_now,
    keylink_home,
    open_store,
    screen_name,
    unlock,
    vault_home,
    wait_for,
)
from tui.services.handoff.clipboard import CLEARED_TEXT
from tui.services.keys.credentials import Credentials

__all__ = ["keylink_home", "vault_home"]

OKX_PASSPHRASE = "Okx-Pass-7731"


@pytest.fixture
def clipboards(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """Spies on the terminal (OSC 52 bytes the driver writes) and on pyperclip (a local display)."""
    import pyperclip

    seen: dict[str, list[str]] = {"osc52": [], "pyperclip": []}
    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.delenv("TMUX", raising=False)
    for name in ("SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(pyperclip, "copy", seen["pyperclip"].append)
    monkeypatch.setattr(pyperclip, "paste", lambda: seen["pyperclip"][-1] if seen["pyperclip"]
                        else "")
    return seen


def spy_on_driver(app, seen: dict[str, list[str]]) -> None:
    real_write = app._driver.write

    def write(data: str) -> None:
        if data.startswith("\x1b]52;c;"):
            seen["osc52"].append(data)
        real_write(data)

    app._driver.write = write


def osc52(text: str) -> str:
    return "\x1b]52;c;" + base64.b64encode(text.encode()).decode() + "\a"


def last_notice(app) -> str:
    return list(app._notifications)[-1].message


def add_accounts() -> None:
    store = open_store()
    for account in (
        store.add("Bybit main", "bybit", "mainnet", Credentials(BYBIT_KEY, BYBIT_SECRET)),
        store.add("Okx one", "okx", "mainnet", Credentials(OKX_KEY, OKX_SECRET, OKX_PASSPHRASE)),
    ):
        checked_now(store, account)  # checked: the copy asks nothing (issue 19)


@pytest.mark.slow
async def test_every_copy_key_sends_the_exact_value_and_never_shows_it(
    vault_home: Path, clipboards, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_accounts()
    monkeypatch.setenv("KEYLINK_CLIP_TIME", "30")
    app = accounts_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await unlock(pilot)
        spy_on_driver(app, clipboards)
        await pilot.press("down")  # Okx one
        for key, value, label in (("n", "Okx one", "display name"), ("k", OKX_KEY, "API key"),
                                  ("s", OKX_SECRET, "API secret"),
                                  ("p", OKX_PASSPHRASE, "API passphrase")):
            count = len(clipboards["osc52"])
            await pilot.press(key)
            await wait_for(pilot, lambda count=count: len(clipboards["osc52"]) > count)
            assert clipboards["osc52"][-1] == osc52(value)
            assert clipboards["pyperclip"][-1] == value
            await pilot.pause(0.1)
            assert last_notice(app) == (
                f"The {label} of Okx one: sent to your terminal's clipboard (OSC 52) and copied "
                "to the system clipboard. Cleared in 30 s.")
            screen = app.export_screenshot()  # the notices are drawn in it too
            for secret in (OKX_KEY, OKX_SECRET, OKX_PASSPHRASE):
                assert secret not in screen

        # Bybit has no passphrase: a plain word, nothing copied.
        await pilot.press("up")
        count = len(clipboards["osc52"])
        await pilot.press("p")
        await pilot.pause(0.3)
        assert len(clipboards["osc52"]) == count
        assert "Bybit keys have no passphrase: leave the terminal's passphrase field empty" in \
            last_notice(app)
    # Quitting clears what is still on the clipboard (the passphrase copied above).
    assert clipboards["osc52"][-1] == osc52(CLEARED_TEXT)
    assert clipboards["pyperclip"][-1] == CLEARED_TEXT


async def test_the_clear_comes_after_the_clip_time(
    vault_home: Path, clipboards, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_accounts()
    monkeypatch.setenv("KEYLINK_CLIP_TIME", "1")
    app = accounts_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await unlock(pilot)
        spy_on_driver(app, clipboards)
        await pilot.press("s")
        await wait_for(pilot, lambda: osc52(BYBIT_SECRET) in clipboards["osc52"])
        assert clipboards["osc52"][-1] == osc52(BYBIT_SECRET)
        await pilot.pause(0.5)
        assert clipboards["osc52"][-1] == osc52(BYBIT_SECRET)  # not before its time
        await wait_for(pilot, lambda: clipboards["osc52"][-1] == osc52(CLEARED_TEXT), timeout=5)
        # The clear sends OSC 52 first and then writes the system clipboard, from one thread.
        await wait_for(pilot, lambda: clipboards["pyperclip"][-1] == CLEARED_TEXT, timeout=5)
        await wait_for(pilot, lambda: any("cleared" in n.message
                                          for n in list(app._notifications)))


@pytest.mark.slow
async def test_the_apps_clear_leaves_a_later_copy_alone(
    vault_home: Path, clipboards, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app's timed clear follows the same rule as `keylink copy`'s: a copy made after it
    (here a `keylink copy` in another pane: the same clipboard) is not wiped."""
    import asyncio

    from tui.services.handoff import clipboard

    add_accounts()
    monkeypatch.setenv("KEYLINK_CLIP_TIME", "1")
    app = accounts_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await unlock(pilot)
        spy_on_driver(app, clipboards)
        await pilot.press("s")
        await wait_for(pilot, lambda: osc52(BYBIT_SECRET) in clipboards["osc52"])
        clipboard.copy_text("the CLI's later copy", lambda _text: None,
                            local_copy=lambda text: clipboards["pyperclip"].append(text) or True,
                            local_available=True)
        await asyncio.sleep(2.0)  # past the app's clear time
        await pilot.pause()
        assert osc52(CLEARED_TEXT) not in clipboards["osc52"]
        assert clipboards["pyperclip"][-1] == "the CLI's later copy"
        assert not any("cleared" in n.message for n in list(app._notifications))
        await pilot.press("k")  # the app's own newer copy is cleared as before
        await wait_for(pilot, lambda: clipboards["osc52"][-1] == osc52(CLEARED_TEXT), timeout=5)


async def test_over_ssh_the_notice_says_what_the_clear_cannot_reach(
    vault_home: Path, clipboards, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_accounts()
    monkeypatch.setenv("KEYLINK_CLIP_TIME", "30")
    monkeypatch.setenv("SSH_CONNECTION", "203.0.113.9 50000 10.0.0.2 22")
    app = accounts_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await unlock(pilot)
        await pilot.press("s")
        await wait_for(pilot, lambda: any("Cleared in 30 s" in n.message
                                          for n in list(app._notifications)))
        notice = last_notice(app)
        assert notice.startswith("The API secret of Bybit main: sent to your terminal's "
                                 "clipboard (OSC 52)")
        assert "Over ssh, the clear reaches only this machine's tmux and clipboard." in notice
        assert "tmux choose-buffer" in notice


async def test_a_locked_vault_is_unlocked_first_then_the_copy_goes_on(
    vault_home: Path, clipboards
) -> None:
    add_accounts()
    app = accounts_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: screen_name(pilot) == "UnlockVaultScreen")
        await pilot.press("escape")  # not now
        await wait_for(pilot, lambda: screen_name(pilot) == "AccountsScreen")
        spy_on_driver(app, clipboards)
        await pilot.press("s")
        await unlock(pilot)
        await wait_for(pilot, lambda: osc52(BYBIT_SECRET) in clipboards["osc52"])
