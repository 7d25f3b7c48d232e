"""The app's session keeps its secrets in keylink's vault, the account in pass: nothing done to
that account asks for the vault's passphrase, nor makes a vault (the session's one rule,
``Session.needs_vault_for``). Over a real vault, a real pass store (GPG key made once per
session) and, for a move, the real Secret Service."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import DataTable, OptionList, Static

from tests.support.accounts_fixtures import (
    BYBIT_KEY,
    BYBIT_SECRET,
    PASSPHRASE,
    accounts_app,
    keylink_home,
    open_store,
    paste,
    screen_name,
    vault_home,
    wait_for,
)
from tui.screens.accounts import AccountsScreen
from tui.services.keys.credentials import Credentials

__all__ = ["keylink_home", "vault_home"]  # fixtures used by name below

#: The vault's dialogs: any of them up means keylink asked for the vault.
VAULT_DIALOGS = ("UnlockVaultScreen", "CreateVaultScreen")


def kept_in_pass(name: str = "Kept in pass") -> Any:
    """An account whose secret is in pass, saved as `keylink accounts add --store pass` would;
    (the account, the AccountStore over pass)."""
    from tui.services.store.accounts import AccountStore
    from tui.services.store.secrets import SecretStore

    in_pass = AccountStore(SecretStore.open(choice="pass"))
    account = in_pass.add(name, "bybit", "mainnet", Credentials(BYBIT_KEY, BYBIT_SECRET))
    assert account.secret_store == "pass"
    return account, in_pass


def pass_entries(store: Path) -> list[str]:
    folder = store / "keylink"
    return sorted(p.name[:-len(".gpg")] for p in folder.glob("*.gpg")) if folder.is_dir() else []


def accounts_screen(pilot: Any) -> AccountsScreen:
    screen = pilot.app.screen_stack[0]
    assert isinstance(screen, AccountsScreen)
    return screen


def rows(pilot: Any) -> int:
    return accounts_screen(pilot).query_one("#accounts", DataTable).row_count


def asked_or_settled(pilot: Any) -> bool:
    """A vault dialog is up, or nothing is left that could bring one: every worker finished
    (one waiting for the dialog's answer is not, so a dialog on its way is waited for)."""
    if screen_name(pilot) in VAULT_DIALOGS:
        return True
    return all(w.is_finished for w in pilot.app.workers)


def vault_untouched() -> bool:
    from tui.services.store.vault import Vault

    return not Vault().exists()


async def test_the_app_opening_asks_nothing_when_every_secret_is_in_pass(
    vault_home: Path, pass_store: Path
) -> None:
    """A locked vault is not asked for as the accounts screen opens when no account keeps its
    secret in it (it was asked for whenever the vault was locked)."""
    kept_in_pass()
    async with accounts_app().run_test(size=(100, 34)) as pilot:
        await wait_for(pilot, lambda: rows(pilot) == 1)
        screen = accounts_screen(pilot)
        await wait_for(pilot, lambda: screen._greeted)  # the "open" news was handled
        await wait_for(pilot, lambda: asked_or_settled(pilot))
        assert screen_name(pilot) == "AccountsScreen"
        session = pilot.app.live_session
        assert session.secrets.needs_unlock  # still locked: u unlocks it when wanted
        assert "locked (press u to unlock)" in str(
            screen.query_one("#store-status", Static).content)


async def test_rotate_of_a_key_kept_in_pass_neither_asks_for_nor_makes_a_vault(
    keylink_home: Path, pass_store: Path
) -> None:
    """r on a pass-kept account: the form opens at once (no vault dialog; there is no vault
    yet, and rotating used to make one), and the new secret goes to pass."""
    account, in_pass = kept_in_pass()
    old_entries = pass_entries(pass_store)
    new_key, new_secret = "KLbybitUIkey000002", "KLbybitUIsecret000000000000000000002"
    async with accounts_app().run_test(size=(100, 34)) as pilot:
        await wait_for(pilot, lambda: rows(pilot) == 1)
        await pilot.press("r")
        await wait_for(pilot, lambda: screen_name(pilot) in ("RotateKeyScreen", *VAULT_DIALOGS))
        assert screen_name(pilot) == "RotateKeyScreen"
        await paste(pilot, "api_key", new_key)
        await paste(pilot, "secret", new_secret)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: in_pass.get(account.id).secret_ref != account.secret_ref)
        await wait_for(pilot, lambda: screen_name(pilot) == "AccountsScreen")
    rotated = in_pass.get(account.id)
    assert rotated.secret_store == "pass"
    assert in_pass.credentials(rotated) == Credentials(new_key, new_secret, "")
    assert pass_entries(pass_store) == [rotated.secret_ref] != old_entries  # the old one went
    assert vault_untouched()  # no vault file was made


async def test_rotate_of_a_key_kept_in_the_vault_still_asks_for_it(
    vault_home: Path, pass_store: Path
) -> None:
    """The other side of the rule: with one account in the vault the opening asks for it, and
    after "not now" r asks again before the form opens (its new secret goes to the vault)."""
    kept_in_pass()
    in_vault = open_store().add("In the vault", "bybit", "mainnet",
                                Credentials("KLbybitUIkey000003", BYBIT_SECRET))
    async with accounts_app().run_test(size=(100, 34)) as pilot:
        await wait_for(pilot, lambda: screen_name(pilot) == "UnlockVaultScreen")  # the greeting
        await pilot.press("escape")  # not now
        await wait_for(pilot, lambda: rows(pilot) == 2)
        screen = accounts_screen(pilot)
        await wait_for(pilot, lambda: screen.selected is not None)
        if screen.selected.id != in_vault.id:
            await pilot.press("down")
        await wait_for(pilot, lambda: screen.selected_id == in_vault.id)
        await pilot.press("r")
        await wait_for(pilot, lambda: screen_name(pilot) == "UnlockVaultScreen")
        await paste(pilot, "passphrase", PASSPHRASE)
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen_name(pilot) == "RotateKeyScreen")
        assert not pilot.app.live_session.secrets.needs_unlock


async def test_delete_of_a_key_kept_in_pass_asks_no_vault_and_says_so(
    vault_home: Path, pass_store: Path
) -> None:
    """d on a pass-kept account with the vault locked: the confirmation names pass, nothing
    asks for the vault's passphrase, the pass entry goes and the notice says where from."""
    account, in_pass = kept_in_pass()
    assert pass_entries(pass_store) == [account.secret_ref]
    async with accounts_app().run_test(size=(100, 34)) as pilot:
        await wait_for(pilot, lambda: rows(pilot) == 1)
        await wait_for(pilot, lambda: accounts_screen(pilot)._greeted)
        await wait_for(pilot, lambda: asked_or_settled(pilot))
        assert screen_name(pilot) == "AccountsScreen"
        await pilot.press("d")
        await wait_for(pilot, lambda: screen_name(pilot) == "ConfirmScreen")
        question = " ".join(str(s.content) for s in pilot.app.screen.query(Static))
        assert "deletes its stored key and secret from pass" in question
        await pilot.press("y")
        await wait_for(pilot, lambda: screen_name(pilot) in VAULT_DIALOGS or rows(pilot) == 0)
        assert screen_name(pilot) == "AccountsScreen"
        notes = [str(n.message) for n in pilot.app._notifications]
        assert "Deleted Kept in pass and its secret from pass." in notes, notes
        assert pilot.app.live_session.secrets.needs_unlock  # never unlocked for it
    assert in_pass.list() == []
    assert pass_entries(pass_store) == []  # as the confirmation said


async def test_move_from_pass_to_the_keyring_asks_no_vault(
    keylink_home: Path, pass_store: Path, secret_service: Any
) -> None:
    """m from pass to the system keyring in a vault session: the move reads pass and writes the
    keyring, so the vault is not asked for (the screen asked, and made one, before the move)."""
    from tui.services.store.accounts import AccountStore
    from tui.services.store.secrets import SecretStore

    account, in_pass = kept_in_pass()
    # keyring finds its backend once per process (the store list asks it as found): opening
    # the keyring store finds it again, now that this test's bus is set.
    keyring = AccountStore(SecretStore.open(choice="keyring"))
    async with accounts_app().run_test(size=(110, 34)) as pilot:
        await wait_for(pilot, lambda: rows(pilot) == 1)
        await pilot.press("m")
        await wait_for(pilot, lambda: screen_name(pilot) == "StoreChoiceScreen")
        options = pilot.app.screen.query_one(OptionList)
        ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
        assert not options.get_option_at_index(ids.index("keyring")).disabled
        options.highlighted = ids.index("keyring")
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen_name(pilot) in VAULT_DIALOGS
                       or any("Moved Kept in pass" in str(n.message)
                              for n in pilot.app._notifications), timeout=20)
        assert screen_name(pilot) == "AccountsScreen"
    moved = in_pass.get(account.id)
    assert moved.secret_store not in ("pass", "vault") and moved.other_copy is None
    assert keyring.credentials(moved).secret == BYBIT_SECRET
    assert pass_entries(pass_store) == []  # the pass copy went
    assert vault_untouched()

