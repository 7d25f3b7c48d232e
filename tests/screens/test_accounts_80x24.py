"""The accounts screen as an SSH user at 80x24 meets it: every key answers, the status line fits,
the cursor stays put after a delete, and a long verify-all can be stopped."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable

from tests.support.accounts_fixtures import (
    accounts_app,
    keylink_home,
    open_store,
    screen_name,
    status_text,
    unlock,
    vault_home,
    wait_for,
)
from tui.services.keys.credentials import Credentials

__all__ = ["keylink_home", "vault_home"]  # fixtures used by name below

SIZE = (80, 24)


def _messages(pilot) -> list[str]:
    return [n.message for n in pilot.app._notifications]


async def test_keys_with_no_accounts_say_why(keylink_home: Path) -> None:
    async with accounts_app().run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "Secrets:" in status_text(pilot))
        screen = pilot.app.screen
        assert screen.sub_title == "Your linked API keys"
        status = status_text(pilot)
        assert status == "Secrets: keylink vault, not created yet (made when you add an account)"
        assert len(status) + 2 <= 80 and status.count("vault") == 1
        for key in ("e", "r", "d", "v", "V"):
            pilot.app.clear_notifications()
            await pilot.press(key)
            await pilot.pause()
            assert _messages(pilot) == ["No accounts yet: press a to add one."], key
        pilot.app.clear_notifications()
        await pilot.press("u")
        await pilot.pause()
        assert _messages(pilot) == ["There is no vault to unlock yet: add an account to create it."]
        pilot.app.clear_notifications()
        pilot.app.screen.explain_unavailable("stop_verify")  # the palette's "Accounts: Stop"
        await pilot.pause()
        assert _messages(pilot) == ["No check is running."]
        assert screen_name(pilot) == "AccountsScreen"


async def test_V_while_the_store_opens_says_why(keylink_home: Path) -> None:
    import threading

    from tui.services.store.secrets import SecretStore

    release = threading.Event()

    def slow_open() -> SecretStore:
        release.wait(10)
        return SecretStore.open()

    from tui.app import KeylinkApp, make_session

    # The app's session, whose store takes its time to open.
    app = KeylinkApp(start_screen="accounts",
                     session_factory=lambda: make_session(open_secrets=slow_open))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("V")
        await pilot.pause()
        assert "The secret store is still opening: try again in a moment." in _messages(pilot)
        release.set()


async def test_the_cursor_stays_in_place_after_a_delete(vault_home: Path) -> None:
    store = open_store()
    for name in ("alpha", "bravo", "charlie"):
        store.add(name, "bybit", "mainnet",
                  Credentials(f"KLbybit{name}key0001"[:18], "S" * 36, ""))
    async with accounts_app().run_test(size=SIZE) as pilot:
        await unlock(pilot)
        table = pilot.app.screen.query_one("#accounts", DataTable)
        await wait_for(pilot, lambda: table.row_count == 3)
        await pilot.press("down")  # on "bravo"
        await pilot.press("d")
        await wait_for(pilot, lambda: screen_name(pilot) == "ConfirmScreen")
        await pilot.press("y")
        await wait_for(pilot, lambda: table.row_count == 2)
        await pilot.pause()
        assert pilot.app.screen.selected.name == "charlie"  # the next row, not the first
        await pilot.press("d")
        await wait_for(pilot, lambda: screen_name(pilot) == "ConfirmScreen")
        await pilot.press("y")
        await wait_for(pilot, lambda: table.row_count == 1)
        await pilot.pause()
        assert pilot.app.screen.selected.name == "alpha"  # the last one gone: the one before


async def test_verify_all_can_be_stopped_with_escape(vault_home: Path, fake) -> None:
    fake.config.latency_ms = 3000  # each account holds the check for a while
    store = open_store()
    for index in range(3):
        key = fake.key("bybit")
        store.add(f"slow {index}", "bybit", "custom",
                  Credentials(key.api_key, key.secret, ""), base_url=fake.url)
    async with accounts_app().run_test(size=SIZE) as pilot:
        await unlock(pilot)
        screen = pilot.app.screen
        await pilot.press("V")
        await wait_for(pilot, lambda: screen._verifying)
        await wait_for(pilot, lambda: "escape" in [k.key for k in screen.query("FooterKey")])
        await pilot.press("escape")
        await wait_for(pilot, lambda: not screen._verifying, timeout=5)
        assert "Stopped checking." in _messages(pilot)
        assert pilot.app.current_mode == "accounts"  # Escape stopped the check, not the section
        assert all(a.last_check is None for a in open_store().list())
