"""Fixtures and keyboard helpers for the accounts screen tests (imported by those modules).

The app under test is the real KeylinkApp started on its accounts section, over a real encrypted
vault (cheap KDF) in the per-test XDG dirs that tests/conftest.py sets up.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual import events
from textual.pilot import Pilot
from textual.widgets import Input, Select

from tui.app import KeylinkApp

PASSPHRASE = "accounts test passphrase"

# Test credentials shaped like real ones (FACTS section 6); never valid anywhere.
BYBIT_KEY = "KLbybitUIkey000001"
BYBIT_SECRET = "KLbybitUIsecret000000000000000000001"
OKX_KEY = "2a0c8a9e-5b7d-4c3e-9a21-6d4e8b2f7c10"
OKX_SECRET = "B1B2C3D4E5F60718293A4B5C6D7E8F90"


@pytest.fixture
def keylink_home(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Vault backend forced, HOME beside the XDG dirs (paths show as ~/...), clock in UTC."""
    base = Path(os.environ["XDG_DATA_HOME"]).parent
    monkeypatch.setenv("HOME", str(base))
    monkeypatch.setenv("KEYLINK_SECRET_BACKEND", "vault")
    original_tz = os.environ.get("TZ")
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        yield base
    finally:
        # Put the process's zone back now (monkeypatch restores TZ only after this teardown).
        if original_tz is None:
            monkeypatch.delenv("TZ")
        else:
            monkeypatch.setenv("TZ", original_tz)
        time.tzset()


@pytest.fixture
def vault_home(keylink_home: Path, cheap_kdf: Any) -> Path:
    """``keylink_home`` with an existing vault (cheap KDF) under the default path."""
    from tui.services.store.vault import Vault

    Vault(kdf=cheap_kdf).create(PASSPHRASE)
    return keylink_home


def accounts_app() -> KeylinkApp:
    return KeylinkApp(start_screen="accounts")


def open_store() -> Any:
    """An AccountStore over the default vault, unlocked, as a second keylink process would."""
    from tui.services.store.accounts import AccountStore
    from tui.services.store.secrets import SecretStore

    secrets = SecretStore.open()
    if secrets.needs_unlock:
        secrets.unlock(PASSPHRASE)
    return AccountStore(secrets)


async def wait_for(pilot: Pilot[Any], condition: Callable[[], Any], timeout: float = 10.0) -> None:
    """Let the app run until ``condition()`` is true (workers run in threads)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {condition}")
        await pilot.pause(0.02)


async def workers_done(pilot: Pilot[Any]) -> None:
    """Every worker has finished, but those waiting for an answer in the vault dialog (they
    wait for a person: the session asks from the worker that needs the secret)."""
    app = pilot.app
    dialog = getattr(app, "passphrase_dialog", None)
    waiting = dialog.waiting if dialog is not None else set()
    await wait_for(pilot, lambda: all(w.is_finished or w in waiting for w in app.workers))


def screen_name(pilot: Pilot[Any]) -> str:
    """The active screen's class name, once it has mounted (a pushed screen composes later)."""
    screen = pilot.app.screen
    return type(screen).__name__ if screen.is_mounted else "(mounting)"


async def unlock(pilot: Pilot[Any], passphrase: str = PASSPHRASE) -> None:
    """Answer the unlock modal the accounts screen shows when its vault is locked."""
    await wait_for(pilot, lambda: screen_name(pilot) == "UnlockVaultScreen")
    await paste(pilot, "passphrase", passphrase)
    await pilot.press("enter")
    await wait_for(pilot, lambda: screen_name(pilot) == "AccountsScreen")
    await wait_for(pilot, lambda: "unlocked" in status_text(pilot))


async def type_text(pilot: Pilot[Any], text: str) -> None:
    await pilot.press(*text)


async def paste(pilot: Pilot[Any], field_id: str, text: str) -> None:
    """Paste ``text`` into a field the way a terminal's bracketed paste arrives."""
    await wait_for(pilot, lambda: pilot.app.screen.query(f"#{field_id}"))  # mounted yet?
    widget = pilot.app.screen.query_one(f"#{field_id}")
    widget.focus()
    widget.post_message(events.Paste(text))
    await pilot.pause()


def status_text(pilot: Pilot[Any]) -> str:
    from textual.widgets import Static

    screen = pilot.app.screen_stack[0] if pilot.app.screen_stack else pilot.app.screen
    return str(screen.query_one("#store-status", Static).content)


def field_message(pilot: Pilot[Any], field_id: str) -> str:
    """The message under a form field ("" when none)."""
    from tui.widgets.field_row import FieldRow

    return pilot.app.screen.query_one(f"#row-{field_id}", FieldRow).message


def field_value(pilot: Pilot[Any], field_id: str) -> str:
    return pilot.app.screen.query_one(f"#{field_id}", Input).value


async def focus(pilot: Pilot[Any], field_id: str) -> None:
    await wait_for(pilot, lambda: pilot.app.screen.query(f"#{field_id}"))
    pilot.app.screen.query_one(f"#{field_id}").focus()
    await pilot.pause()


async def choose(pilot: Pilot[Any], field_id: str, label_start: str, value: str) -> None:
    """Pick an option of a Select with the keyboard: open it, type the label's start, enter."""
    select = pilot.app.screen.query_one(f"#{field_id}", Select)
    select.focus()
    await pilot.press("enter")
    await type_text(pilot, label_start)
    await pilot.press("enter")
    await pilot.pause()
    assert select.value == value


def checked_now(store: Any, account: Any, summary: str = "works; read+trade; IP-bound (2)",
                worst: str = "ok", status: str = "works") -> Any:
    """Record a check of ``account`` made just now (a copy then goes ahead without asking: the
    hand-off gate of issue 19 judges the last check)."""
    from tui.services.store.model import LastCheck, now_stamp

    return store.record_check(account.id, LastCheck(ok=status == "works", checked_at=now_stamp(),
                                                    summary=summary, worst=worst, status=status))
