"""The unlock dialog is the app session's passphrase source: whichever screen needs a secret
(the accounts section's copy and verify, the guide's checklist) asks the session in a worker,
and a locked vault is asked for once, in one dialog. Backing out of it loses nothing. Over the
real vault (cheap KDF) and the fake exchange on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Static

import tui.screens.vault
from tests.screens.test_accounts_verify import add_fake_account
from tests.support.accounts_fixtures import (
    PASSPHRASE,
    accounts_app,
    checked_now,
    keylink_home,
    open_store,
    paste,
    screen_name,
    status_text,
    vault_home,
    wait_for,
)
from tests.support.bursts import burst
from tui.app import KeylinkApp
from tui.screens.guide import GuideScreen

__all__ = ["keylink_home", "vault_home"]


@pytest.fixture
def dialogs(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every unlock dialog made, in order."""
    made: list[Any] = []
    real_init = tui.screens.vault.UnlockVaultScreen.__init__

    def counted(self: Any, *args: Any, **kwargs: Any) -> None:
        made.append(self)
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(tui.screens.vault.UnlockVaultScreen, "__init__", counted)
    return made


async def answer(pilot: Any) -> None:
    await wait_for(pilot, lambda: screen_name(pilot) == "UnlockVaultScreen")
    await paste(pilot, "passphrase", PASSPHRASE)
    await pilot.press("enter")


async def back_out(pilot: Any) -> None:
    await wait_for(pilot, lambda: screen_name(pilot) == "UnlockVaultScreen")
    await pilot.press("escape")
    await wait_for(pilot, lambda: screen_name(pilot) != "UnlockVaultScreen")


async def settled(pilot: Any) -> None:
    """Every worker is done (what backing out started has ended)."""
    await wait_for(pilot, lambda: not any(w.is_running for w in pilot.app.workers
                                          if w.group != "session-tick"))
    await pilot.pause()


def errors(app: Any) -> list[str]:
    return [n.message for n in app._notifications if n.severity == "error"]


@pytest.mark.slow
async def test_each_screen_asks_through_the_one_dialog_and_backing_out_loses_nothing(
    vault_home: Path, fake, dialogs: list[Any]
) -> None:
    fake.key("bybit").ips = ("127.0.0.1",)
    account = add_fake_account(fake, "bybit", "Main")
    checked_now(open_store(), account)  # the hand-off gate lets a fresh good check through
    key, secret = fake.key("bybit").api_key, fake.key("bybit").secret
    app = KeylinkApp()
    async with app.run_test(size=(100, 34)) as pilot:
        guide = app.screen
        assert isinstance(guide, GuideScreen)
        guide.reveal("terminal-enter")

        def checklist() -> str:
            return str(guide.query_one("#checklist", Static).render())

        await wait_for(pilot, lambda: "From Main" in checklist())
        await pilot.press("c")  # the display name: no secret, nothing asked
        await wait_for(pilot, lambda: app.clipboard == "Main")
        assert dialogs == []
        # The guide's checklist: the API key needs the vault.
        await pilot.press("c")
        await back_out(pilot)
        await settled(pilot)
        assert app.clipboard == "Main" and "✓ 2." not in checklist()
        assert app.session.secrets.needs_unlock and errors(app) == []
        await pilot.press("c")
        await answer(pilot)
        await wait_for(pilot, lambda: app.clipboard == key)
        await wait_for(pilot, lambda: "✓ 2." in checklist())
        assert len(dialogs) == 2  # asked again only because the first was backed out of
        # The accounts section shares the unlocked vault: copy and verify ask nothing.
        await pilot.press("2")
        await wait_for(pilot, lambda: "unlocked" in status_text(pilot))
        await pilot.press("s")
        await wait_for(pilot, lambda: app.clipboard == secret)
        await pilot.press("v")
        await wait_for(pilot, lambda: open_store().get(account.id).last_check is not None,
                       timeout=20)
        assert len(dialogs) == 2
        checked = open_store().get(account.id).last_check
        # Locked again: verify asks; backing out checks nothing and changes nothing.
        await pilot.press("l")
        await wait_for(pilot, lambda: "locked (press u" in status_text(pilot))
        requests = len(fake.requests)
        await pilot.press("v")
        await back_out(pilot)
        await settled(pilot)
        assert len(fake.requests) == requests
        assert open_store().get(account.id).last_check == checked
        assert not app.screen.query_one("#fault", Static).has_class("-shown")
        assert not app.screen.query_one("#verify-progress").has_class("-shown")
        assert errors(app) == [] and len(dialogs) == 3
        await pilot.press("v")
        await answer(pilot)
        await wait_for(pilot, lambda: open_store().get(account.id).last_check != checked,
                       timeout=20)
        assert len(dialogs) == 4 and screen_name(pilot) == "AccountsScreen"


async def test_two_uses_at_once_wait_on_one_dialog(
    vault_home: Path, fake, dialogs: list[Any]
) -> None:
    fake.key("bybit").ips = ("127.0.0.1",)
    account = add_fake_account(fake, "bybit", "Main")
    checked_now(open_store(), account)  # the hand-off gate lets a fresh good check through
    app = accounts_app()
    async with app.run_test(size=(100, 34)) as pilot:
        await back_out(pilot)  # the section's own "unlock?" on opening: not now
        screen = app.screen
        await wait_for(pilot, lambda: screen.selected is not None)
        # A copy and a check both want the secret before either has it (the palette's verify
        # and the k key, say): one dialog, and both go on once it is answered.
        screen.action_copy("api_key")
        screen.verify_accounts([account])
        await answer(pilot)
        await wait_for(pilot, lambda: app.clipboard == fake.key("bybit").api_key)
        await wait_for(pilot, lambda: open_store().get(account.id).last_check is not None,
                       timeout=20)
        await settled(pilot)
        assert len(dialogs) == 2  # the opening's, backed out of, and the one both waited on
        assert screen_name(pilot) == "AccountsScreen"


async def test_keys_after_the_passphrase_s_enter_wait_for_the_answer(
    vault_home: Path, fake
) -> None:
    """The passphrase, Enter and h in one read: the vault opens with the passphrase as it was at
    Enter, and h then opens the history (h used to land in the field, so the passphrase tried
    was wrong and the vault stayed locked). After a wrong one, the keys typed next go to the
    field again, replacing what was there."""
    checked_now(open_store(), add_fake_account(fake, "bybit", "Main"))
    app = accounts_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: screen_name(pilot) == "UnlockVaultScreen")
        await pilot.pause()
        burst(app, "not it\rab")
        field = app.screen.query_one("#passphrase")
        await wait_for(pilot, lambda: field.value == "ab" and not field.disabled)
        assert "does not open the vault" in str(app.screen.query_one("#message").render())
        burst(app, "\x7f\x7f" + PASSPHRASE + "\rh")
        await wait_for(pilot, lambda: screen_name(pilot) == "HistoryScreen")
        assert not app.session.secrets.needs_unlock


async def test_enter_on_the_dialog_s_cancel_button_cancels(vault_home: Path, fake) -> None:
    checked_now(open_store(), add_fake_account(fake, "bybit", "Main"))
    app = accounts_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: screen_name(pilot) == "UnlockVaultScreen")
        await pilot.pause()
        app.screen.query_one("#cancel").focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen_name(pilot) == "AccountsScreen")
        assert app.session.secrets.needs_unlock


async def test_a_passphrase_typed_ahead_lands_in_the_dialog(
    vault_home: Path, fake, dialogs: list[Any]
) -> None:
    """k and the passphrase in one read (a laggy ssh link): the dialog the session opens from
    the copy's worker takes the passphrase; the accounts screen sees none of it as commands
    (its letters include a, d, e: add, delete, edit)."""
    checked_now(open_store(), add_fake_account(fake, "bybit", "Main"))
    app = accounts_app()
    async with app.run_test(size=(100, 34)) as pilot:
        await back_out(pilot)
        await wait_for(pilot, lambda: app.screen.selected is not None)
        burst(app, "k" + PASSPHRASE + "\r")
        await wait_for(pilot, lambda: app.clipboard == fake.key("bybit").api_key)
        await settled(pilot)
        assert screen_name(pilot) == "AccountsScreen" and len(app.screen_stack) == 1
        assert len(dialogs) == 2
