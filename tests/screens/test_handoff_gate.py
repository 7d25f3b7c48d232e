"""The verdict before a copy in the app (issue 19): a risky key is asked about with "No" as the
default, a stale one gets an offer to check now (against the loopback fake exchange), a locked
one is never a failure; the same on the guide's paste-along checklist."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.accounts_fixtures import (
    PASSPHRASE,
    accounts_app,
    checked_now,
    keylink_home,
    open_store,
    paste,
    screen_name,
    unlock,
    vault_home,
    wait_for,
)
from tui.app import KeylinkApp
from tui.screens.guide import GuideScreen
from tui.services.keys.credentials import Credentials

__all__ = ["keylink_home", "vault_home"]


@pytest.fixture
def clip(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What reached the local clipboard (pyperclip), in order."""
    import pyperclip

    seen: list[str] = []
    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.delenv("TMUX", raising=False)
    monkeypatch.setattr(pyperclip, "copy", seen.append)
    monkeypatch.setattr(pyperclip, "paste", lambda: seen[-1] if seen else "")
    return seen


def add_fake_account(fake, ex: str = "bybit", name: str = "Main"):
    key = fake.key(ex)
    store = open_store()
    account = store.add(name, ex, "custom", Credentials(key.api_key, key.secret, key.passphrase),
                        base_url=fake.url)
    return store, account


def dialog_text(app) -> str:
    return " ".join(str(w.render()) for w in app.screen.query("Static"))


async def test_a_withdraw_key_is_asked_about_and_no_is_the_default(
        vault_home: Path, clip, fake) -> None:
    store, account = add_fake_account(fake)
    checked_now(store, account, summary="works; read+trade+withdraw; no IP binding; 1 problem",
                worst="danger")
    app = accounts_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await unlock(pilot)
        await pilot.press("s")
        await wait_for(pilot, lambda: screen_name(pilot) == "ConfirmScreen")
        assert "Main: the key can withdraw funds" in dialog_text(app)
        await pilot.press("enter")  # the focused button is "Don't copy"
        await wait_for(pilot, lambda: screen_name(pilot) == "AccountsScreen")
        await pilot.pause(0.2)
        assert clip == []
        await pilot.press("s")
        await wait_for(pilot, lambda: screen_name(pilot) == "ConfirmScreen")
        await pilot.press("y")
        await wait_for(pilot, lambda: clip == [fake.key("bybit").secret])
        await pilot.press("k")  # answered for this check: not asked again
        await wait_for(pilot, lambda: clip[-1:] == [fake.key("bybit").api_key])
        assert screen_name(pilot) == "AccountsScreen"


async def test_a_failed_key_names_its_cause(vault_home: Path, clip, fake) -> None:
    store, account = add_fake_account(fake, "okx")
    checked_now(store, account, summary="failed: wrong secret (50113)", worst="error",
                status="failed")
    app = accounts_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await unlock(pilot)
        await pilot.press("n")
        await wait_for(pilot, lambda: screen_name(pilot) == "ConfirmScreen")
        assert "its last check failed: wrong secret (50113)" in dialog_text(app)
        await pilot.press("n")
        await pilot.pause(0.2)
        assert clip == []


async def test_stale_offers_a_check_and_judges_it(vault_home: Path, clip, fake) -> None:
    """Never checked: "check now" checks with the fake exchange; the key turns out to withdraw,
    so the risky question follows and nothing is copied without a yes."""
    _, account = add_fake_account(fake)
    fake.key("bybit").permissions = frozenset({"read", "trade", "withdraw"})
    app = accounts_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await unlock(pilot)
        await pilot.press("k")
        await wait_for(pilot, lambda: screen_name(pilot) == "ConfirmScreen")
        assert "Main was never checked" in dialog_text(app)
        await pilot.press("y")  # check now
        await wait_for(pilot, lambda: "can withdraw funds" in dialog_text(app))
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert clip == []
        # The check was recorded and is shown on the screen.
        assert open_store().get("Main").last_check.worst == "danger"
        assert app.screen.reports[account.id].can_withdraw


async def test_a_locked_key_is_copied_after_its_check(vault_home: Path, clip, fake) -> None:
    add_fake_account(fake)
    fake.key("bybit").ips = ("18.167.89.125",)  # bound to the terminal, not to this machine
    app = accounts_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await unlock(pilot)
        await pilot.press("s")
        await wait_for(pilot, lambda: screen_name(pilot) == "ConfirmScreen")
        await pilot.press("y")
        await wait_for(pilot, lambda: clip == [fake.key("bybit").secret])
        assert open_store().get("Main").last_check.status == "locked"


async def test_stale_copy_without_checking(vault_home: Path, clip, fake) -> None:
    add_fake_account(fake)
    app = accounts_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await unlock(pilot)
        await pilot.press("n")
        await wait_for(pilot, lambda: screen_name(pilot) == "ConfirmScreen")
        await pilot.press("n")  # copy without
        await wait_for(pilot, lambda: clip == ["Main"])
        assert fake.requests == []  # nothing was checked


async def test_the_checklist_asks_too(vault_home: Path, clip, fake) -> None:
    store, account = add_fake_account(fake, "okx", "Okx one")
    checked_now(store, account, summary="works; read+trade+withdraw; no IP binding; 1 problem",
                worst="danger")
    app = KeylinkApp()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, GuideScreen)
        screen.set_exchange("okx")
        screen.reveal("terminal-enter")
        await wait_for(pilot, lambda: screen.checklist_current is not None)
        await pilot.press("c")
        await wait_for(pilot, lambda: screen_name(pilot) == "ConfirmScreen")
        assert "Okx one: the key can withdraw funds" in dialog_text(app)
        await pilot.press("n")
        await pilot.pause(0.2)
        assert clip == []
        await pilot.press("c")
        await wait_for(pilot, lambda: screen_name(pilot) == "ConfirmScreen")
        await pilot.press("y")
        await wait_for(pilot, lambda: clip == ["Okx one"])
        await pilot.press("c")  # the key: the vault first, then no second question
        await wait_for(pilot, lambda: screen_name(pilot) == "UnlockVaultScreen")
        await paste(pilot, "passphrase", PASSPHRASE)
        await pilot.press("enter")
        await wait_for(pilot, lambda: clip[-1:] == [fake.key("okx").api_key])


async def test_the_accounts_screen_shows_an_accounts_recent_uses(
        vault_home: Path, clip, fake) -> None:
    """Issue 19's access log: each copy of a secret is recorded; L shows the account's uses."""
    from textual.widgets import Static

    store, account = add_fake_account(fake)
    checked_now(store, account)
    app = accounts_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await unlock(pilot)
        await pilot.press("s")
        await wait_for(pilot, lambda: clip == [fake.key("bybit").secret])
        await pilot.press("k")
        await wait_for(pilot, lambda: len(clip) == 2)
        await pilot.press("L")
        await wait_for(pilot, lambda: screen_name(pilot) == "AccessUsesScreen")
        lines = app.screen.query_one("#lines", Static)
        await wait_for(pilot, lambda: "copy" in str(lines.render()))
        text = str(lines.render())
        assert text.index("Main  api_key  ok") < text.index("Main  secret  ok")  # newest first
        assert fake.key("bybit").secret not in app.export_screenshot()
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen_name(pilot) == "AccountsScreen")


async def test_a_delete_in_the_app_is_recorded(vault_home: Path, clip, fake) -> None:
    from tui.services.core.access_log import AccessLog

    _, account = add_fake_account(fake)
    app = accounts_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await unlock(pilot)
        await pilot.press("d")
        await wait_for(pilot, lambda: screen_name(pilot) == "ConfirmScreen")
        await pilot.press("y")
        await wait_for(pilot, lambda: not app.screen.accounts)
        entries = AccessLog().entries()[0]
    assert [(e["action"], e["account_id"], e["outcome"]) for e in entries] == [
        ("remove", account.id, "ok")]


async def test_a_check_before_a_copy_asks_for_the_vault_through_the_session(
        vault_home: Path, clip, fake, monkeypatch) -> None:
    """The name needs no secret, but checking the never-checked key does: with the vault
    locked, "check now" asks in the session's one dialog (the session says the vault opened);
    backing out of it checks nothing, copies nothing and shows no error."""
    import tui.screens.vault

    opened: list[object] = []
    made: list[object] = []
    real_init = tui.screens.vault.UnlockVaultScreen.__init__

    def counted(self, *args, **kwargs) -> None:
        made.append(self)
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(tui.screens.vault.UnlockVaultScreen, "__init__", counted)
    add_fake_account(fake)
    app = accounts_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await unlock(pilot)
        app.session.subscribe(opened.append)
        await pilot.press("l")  # lock the vault
        await wait_for(pilot, lambda: app.session.secrets.needs_unlock)
        requests = len(fake.requests)
        await pilot.press("n")
        await wait_for(pilot, lambda: screen_name(pilot) == "ConfirmScreen")
        await pilot.press("y")  # check now
        await wait_for(pilot, lambda: screen_name(pilot) == "UnlockVaultScreen")
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen_name(pilot) == "AccountsScreen")
        await pilot.pause(0.2)
        assert clip == [] and len(fake.requests) == requests
        assert not [n for n in app._notifications if n.severity == "error"]
        # Again, answering it this time: checked, then the name is copied.
        await pilot.press("n")
        await wait_for(pilot, lambda: screen_name(pilot) == "ConfirmScreen")
        await pilot.press("y")
        await wait_for(pilot, lambda: screen_name(pilot) == "UnlockVaultScreen")
        await paste(pilot, "passphrase", PASSPHRASE)
        await pilot.press("enter")
        await wait_for(pilot, lambda: clip == ["Main"], timeout=20)
        assert len(made) == 3  # the first unlock, then one dialog per "check now"
        assert any(type(e).__name__ == "VaultOpened" for e in opened)
        assert open_store().get("Main").last_check is not None
