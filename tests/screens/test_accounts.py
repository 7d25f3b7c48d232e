"""The accounts screen and its form, from the keyboard, over a real vault and accounts file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual import events
from textual.widgets import DataTable, Static

from tests.support.accounts_fixtures import (
    BYBIT_KEY,
    BYBIT_SECRET,
    OKX_KEY,
    OKX_SECRET,
    accounts_app,
    choose,
    field_message,
    field_value,
    focus,
    keylink_home,
    open_store,
    paste,
    screen_name,
    status_text,
    type_text,
    unlock,
    vault_home,
    wait_for,
)
from tui.app import KeylinkApp
from tui.screens.accounts import AccountsScreen

__all__ = ["keylink_home", "vault_home"]  # fixtures used by name below


def accounts_screen(pilot) -> AccountsScreen:
    screen = pilot.app.screen_stack[0]
    assert isinstance(screen, AccountsScreen)
    return screen


def table_names(pilot) -> list[str]:
    table = accounts_screen(pilot).query_one("#accounts", DataTable)
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


async def add_bybit(pilot, name: str = "Bybit main", key: str = BYBIT_KEY,
                    secret: str = BYBIT_SECRET, typed: bool = False) -> None:
    """Press a, fill in the form (typed key by key, or pasted), save."""
    await pilot.press("a")
    await wait_for(pilot, lambda: screen_name(pilot) == "AddAccountScreen")
    await type_text(pilot, name)
    if typed:
        await focus(pilot, "api_key")
        await type_text(pilot, key)
        await pilot.press("tab")
        await type_text(pilot, secret)
    else:
        await paste(pilot, "api_key", key)
        await paste(pilot, "secret", secret)
    await pilot.press("ctrl+s")
    await wait_for(pilot, lambda: screen_name(pilot) == "AccountsScreen")
    await wait_for(pilot, lambda: name in table_names(pilot))


async def test_empty_state_says_what_to_do_and_which_store(keylink_home: Path) -> None:
    async with accounts_app().run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: "Secrets:" in status_text(pilot))
        screen = accounts_screen(pilot)
        assert screen.has_class("-empty")
        empty = str(screen.query_one("#empty", Static).content)
        assert "Press a to add" in empty
        assert "keylink vault" in status_text(pilot)
        assert "not created yet" in status_text(pilot)
        # Edit/delete/verify are not offered without accounts.
        assert screen.check_action("delete", ()) is None
        assert screen.check_action("add", ()) is True


@pytest.mark.slow  # one of the longest app flows: in the full suite, not the quick lane
async def test_add_edit_rotate_delete_from_the_keyboard(vault_home: Path) -> None:
    async with accounts_app().run_test(size=(100, 34)) as pilot:
        await unlock(pilot)
        await add_bybit(pilot, typed=True)
        stored = open_store()
        [account] = stored.list()
        assert (account.name, account.exchange, account.environment) == (
            "Bybit main", "bybit", "mainnet")
        creds = stored.credentials(account)
        assert (creds.api_key, creds.secret) == (BYBIT_KEY, BYBIT_SECRET)

        # Edit: rename and move to testnet.
        await pilot.press("e")
        await wait_for(pilot, lambda: screen_name(pilot) == "EditAccountScreen")
        assert field_value(pilot, "name") == "Bybit main"
        await pilot.press("end", *["backspace"] * 4, *"alt")
        await choose(pilot, "environment", "Testnet", "testnet")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: table_names(pilot) == ["Bybit alt"])
        edited = open_store().get(account.id)
        assert (edited.environment, edited.base_url) == ("testnet", "https://api-testnet.bybit.com")

        # Rotate: a new key and secret under the same name.
        new_key, new_secret = "KLbybitUIkey000002", "KLbybitUIsecret000000000000000000002"
        await pilot.press("r")
        await wait_for(pilot, lambda: screen_name(pilot) == "RotateKeyScreen")
        await type_text(pilot, new_key)
        await pilot.press("tab")
        await type_text(pilot, new_secret)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: screen_name(pilot) == "AccountsScreen")
        store = open_store()
        rotated = store.get(account.id)
        assert rotated.name == "Bybit alt" and rotated.secret_ref != edited.secret_ref
        assert store.credentials(rotated).secret == new_secret

        # Delete: the confirmation defaults to "keep"; y deletes account and secret.
        await pilot.press("d")
        await wait_for(pilot, lambda: screen_name(pilot) == "ConfirmScreen")
        await pilot.press("enter")  # focus is on "Keep"
        await wait_for(pilot, lambda: screen_name(pilot) == "AccountsScreen")
        assert table_names(pilot) == ["Bybit alt"]
        await pilot.press("d")
        await wait_for(pilot, lambda: screen_name(pilot) == "ConfirmScreen")
        await pilot.press("y")
        await wait_for(pilot, lambda: table_names(pilot) == [])
        assert open_store().list() == []
        assert store.secrets.vault.get("keylink", rotated.secret_ref) is None
        assert accounts_screen(pilot).has_class("-empty")
        # Both uses of the stored secret are in the access log (issue 19).
        from tui.services.core.access_log import AccessLog

        assert [(e["action"], e["account"], e["outcome"]) for e in AccessLog().entries()[0]] \
            == [("rotate", "Bybit alt", "ok"), ("remove", "Bybit alt", "ok")]


@pytest.mark.slow  # one of the longest app flows: in the full suite, not the quick lane
async def test_every_field_gets_its_own_message_and_keeps_its_value(vault_home: Path) -> None:
    async with accounts_app().run_test(size=(100, 40)) as pilot:
        await unlock(pilot)
        await pilot.press("a")
        await wait_for(pilot, lambda: screen_name(pilot) == "AddAccountScreen")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "empty" in field_message(pilot, "name")
        assert "required" in field_message(pilot, "api_key")
        assert "required" in field_message(pilot, "secret")
        assert screen_name(pilot) == "AddAccountScreen"

        # Key pasted twice: caught on the secret field; the name too long: on the name field.
        await focus(pilot, "name")
        await type_text(pilot, "N" * 41)
        await paste(pilot, "api_key", BYBIT_KEY)
        await paste(pilot, "secret", BYBIT_KEY)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "41 characters" in field_message(pilot, "name")
        assert "same as the API key" in field_message(pilot, "secret")
        assert field_message(pilot, "api_key") == ""
        assert field_value(pilot, "name") == "N" * 41
        assert field_value(pilot, "secret") == BYBIT_KEY
        assert open_store().list() == []

        # OKX: the passphrase field appears and is required.
        await choose(pilot, "exchange", "OKX", "okx")
        assert pilot.app.screen.query_one("#row-passphrase").display
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "passphrase" in field_message(pilot, "passphrase")

        # A custom URL: plain http only to this machine.
        await choose(pilot, "environment", "Custom", "custom")
        await focus(pilot, "url")
        await type_text(pilot, "http://example.com")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "https" in field_message(pilot, "url")
        assert field_value(pilot, "url") == "http://example.com"


@pytest.mark.slow
async def test_duplicate_name_is_refused_on_the_name_field(vault_home: Path) -> None:
    async with accounts_app().run_test(size=(100, 34)) as pilot:
        await unlock(pilot)
        await add_bybit(pilot)
        await pilot.press("a")
        await wait_for(pilot, lambda: screen_name(pilot) == "AddAccountScreen")
        await type_text(pilot, "BYBIT MAIN")
        await pilot.press("tab")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "already exists" in field_message(pilot, "name")


@pytest.mark.slow
async def test_shape_warning_can_be_accepted_by_saving_again(vault_home: Path) -> None:
    async with accounts_app().run_test(size=(100, 34)) as pilot:
        await unlock(pilot)
        await pilot.press("a")
        await wait_for(pilot, lambda: screen_name(pilot) == "AddAccountScreen")
        await type_text(pilot, "Short key")
        await paste(pilot, "api_key", BYBIT_KEY[:-1])
        await paste(pilot, "secret", BYBIT_SECRET)
        await pilot.press("ctrl+s")
        await pilot.pause()
        warning = field_message(pilot, "api_key")
        assert "18" in warning and "17" in warning and "cut short" in warning
        assert pilot.app.screen.query_one("#row-api_key").has_class("-warning")
        assert screen_name(pilot) == "AddAccountScreen" and open_store().list() == []
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "Short key" in table_names(pilot))
        stored = open_store()
        assert stored.credentials(stored.get("Short key")).api_key == BYBIT_KEY[:-1]


@pytest.mark.slow
async def test_inner_whitespace_paste_is_refused_and_nothing_is_lost(vault_home: Path) -> None:
    async with accounts_app().run_test(size=(100, 34)) as pilot:
        await unlock(pilot)
        await pilot.press("a")
        await wait_for(pilot, lambda: screen_name(pilot) == "AddAccountScreen")
        await type_text(pilot, "Pasted")
        await focus(pilot, "api_key")
        pasted = "  KLbybitUI\nkey000001  \n"
        pilot.app.screen.query_one("#api_key").post_message(events.Paste(pasted))
        await pilot.pause()
        # Both lines are kept (a stock input keeps only the first), the break shown as a mark.
        assert field_value(pilot, "api_key") == "KLbybitUI\u240akey000001"
        message = field_message(pilot, "api_key")
        assert "line break" in message and "character 10" in message
        await focus(pilot, "secret")
        pilot.app.screen.query_one("#secret").post_message(events.Paste("KLbybit UIsecret"))
        await pilot.pause()
        assert "space" in field_message(pilot, "secret")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert screen_name(pilot) == "AddAccountScreen"
        assert field_value(pilot, "api_key") == "KLbybitUI\u240akey000001"
        assert field_value(pilot, "secret") == "KLbybit UIsecret"
        assert field_value(pilot, "name") == "Pasted"
        # Fixing the field clears its message as the user types.
        await focus(pilot, "api_key")
        await pilot.press("ctrl+a", "ctrl+k")
        await type_text(pilot, BYBIT_KEY)
        assert field_message(pilot, "api_key") == ""


@pytest.mark.slow
async def test_leaving_a_changed_form_asks_first(vault_home: Path) -> None:
    async with accounts_app().run_test(size=(100, 34)) as pilot:
        await unlock(pilot)
        # An untouched form closes at once.
        await pilot.press("a")
        await wait_for(pilot, lambda: screen_name(pilot) == "AddAccountScreen")
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen_name(pilot) == "AccountsScreen")
        await pilot.press("a")
        await wait_for(pilot, lambda: screen_name(pilot) == "AddAccountScreen")
        await type_text(pilot, "Half done")
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen_name(pilot) == "ConfirmScreen")
        await pilot.press("n")
        await wait_for(pilot, lambda: screen_name(pilot) == "AddAccountScreen")
        assert field_value(pilot, "name") == "Half done"
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen_name(pilot) == "ConfirmScreen")
        await pilot.press("y")
        await wait_for(pilot, lambda: screen_name(pilot) == "AccountsScreen")
        assert open_store().list() == []


@pytest.mark.slow
async def test_damaged_accounts_file_is_reported_and_the_screen_still_works(
    vault_home: Path,
) -> None:
    config = vault_home / "config" / "keylink"
    config.mkdir(parents=True, exist_ok=True)
    (config / "accounts.json").write_text("{ not json")
    async with accounts_app().run_test(size=(100, 34)) as pilot:
        await unlock(pilot)
        banner = accounts_screen(pilot).query_one("#load-problem", Static)
        assert banner.has_class("-shown")
        assert "damaged" in str(banner.content) and "moved to" in str(banner.content)
        await add_bybit(pilot)
        assert json.loads((config / "accounts.json").read_text())["accounts"][0]["name"] == (
            "Bybit main")


@pytest.mark.slow
async def test_the_watcher_waits_for_a_file_being_written_and_never_moves_it_aside(
    vault_home: Path, monkeypatch
) -> None:
    import asyncio

    from tui.services.keys.credentials import Credentials

    monkeypatch.setattr(KeylinkApp, "SESSION_TICK", 0.2)
    store = open_store()
    store.add("Main", "bybit", "mainnet", Credentials(BYBIT_KEY, BYBIT_SECRET))
    config = vault_home / "config" / "keylink"
    path = config / "accounts.json"
    async with accounts_app().run_test(size=(100, 34)) as pilot:
        await unlock(pilot)
        await wait_for(pilot, lambda: table_names(pilot) == ["Main"])
        banner = accounts_screen(pilot).query_one("#load-problem", Static)
        # An editor writes the file in place, in two parts 0.15 s apart (another keylink
        # added "Second"): the first half is never taken for a damaged file.
        other = open_store()
        other.add("Second", "bybit", "mainnet", Credentials(BYBIT_KEY, BYBIT_SECRET))
        whole = path.read_bytes()
        store_doc = json.loads(whole)
        store_doc["accounts"] = store_doc["accounts"][:1]
        path.write_bytes(json.dumps(store_doc).encode())  # back to Main only, settled
        await wait_for(pilot, lambda: table_names(pilot) == ["Main"])
        with path.open("r+b") as handle:
            handle.truncate(0)
            handle.write(whole[: len(whole) // 2])
            handle.flush()
            await asyncio.sleep(0.15)
            handle.write(whole[len(whole) // 2:])
        await wait_for(pilot, lambda: table_names(pilot) == ["Main", "Second"])
        assert not banner.has_class("-shown")
        # Left unparseable: tried again, then a notice; the table keeps what it showed.
        path.write_bytes(whole[:-3])
        await wait_for(pilot, lambda: banner.has_class("-shown"), timeout=15)
        said = " ".join(str(banner.content).split())
        assert str(path) in said and "moved nothing" in said
        assert table_names(pilot) == ["Main", "Second"]
        assert list(config.glob("accounts.json.damaged-*")) == []
        assert path.read_bytes() == whole[:-3]
        # Fixed: read at once, the notice goes.
        path.write_bytes(whole)
        await wait_for(pilot, lambda: not banner.has_class("-shown"), timeout=15)
        assert table_names(pilot) == ["Main", "Second"]
    assert list(config.glob("accounts.json.damaged-*")) == []


@pytest.mark.slow
async def test_a_save_over_an_unreadable_file_says_it_moved_it_aside(
    vault_home: Path, monkeypatch
) -> None:
    from tui.services.keys.credentials import Credentials

    monkeypatch.setattr(KeylinkApp, "SESSION_TICK", 0.2)
    open_store().add("Main", "bybit", "mainnet", Credentials(BYBIT_KEY, BYBIT_SECRET))
    config = vault_home / "config" / "keylink"
    path = config / "accounts.json"
    async with accounts_app().run_test(size=(100, 34)) as pilot:
        await unlock(pilot)
        await wait_for(pilot, lambda: table_names(pilot) == ["Main"])
        banner = accounts_screen(pilot).query_one("#load-problem", Static)
        damaged = path.read_bytes()[:-3]
        path.write_bytes(damaged)
        await wait_for(pilot, lambda: "moved nothing" in str(banner.content), timeout=15)
        await add_bybit(pilot, name="Fresh")
        # The save moved the damaged file aside (as at start-up): the notice says so now.
        await wait_for(pilot, lambda: "moved to" in str(banner.content), timeout=15)
        said = " ".join(str(banner.content).split())
        assert "moved nothing" not in said and "doctor --restore" in said
        [aside] = config.glob("accounts.json.damaged-*")
        assert aside.read_bytes() == damaged and str(aside) in said


@pytest.mark.slow
async def test_okx_account_with_passphrase_is_saved(vault_home: Path) -> None:
    async with accounts_app().run_test(size=(100, 40)) as pilot:
        await unlock(pilot)
        await pilot.press("a")
        await wait_for(pilot, lambda: screen_name(pilot) == "AddAccountScreen")
        await type_text(pilot, "OKX demo")
        await choose(pilot, "exchange", "OKX", "okx")
        await choose(pilot, "environment", "Demo", "demo")
        await paste(pilot, "api_key", OKX_KEY)
        await paste(pilot, "secret", OKX_SECRET)
        await paste(pilot, "passphrase", "Okx-pass-1")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "OKX demo" in table_names(pilot))
        store = open_store()
        account = store.get("OKX demo")
        assert account.environment == "demo"
        assert store.credentials(account).passphrase == "Okx-pass-1"


@pytest.mark.slow
async def test_switching_exchange_shows_the_new_exchanges_host(vault_home: Path) -> None:
    """Bybit and OKX both start with a "mainnet" environment; the shown host must still change."""
    from textual.widgets import Select
    from textual.widgets._select import SelectCurrent

    async with accounts_app().run_test(size=(100, 40)) as pilot:
        await unlock(pilot)
        await pilot.press("a")
        await wait_for(pilot, lambda: screen_name(pilot) == "AddAccountScreen")
        environment = pilot.app.screen.query_one("#environment", Select)

        def shown() -> str:
            return str(environment.query_one(SelectCurrent).query_one("#label", Static).content)

        assert "api.bybit.com" in shown()
        await choose(pilot, "exchange", "OKX", "okx")
        await wait_for(pilot, lambda: "okx.com" in shown())
        assert environment.value == "mainnet"
        assert "bybit" not in shown()


@pytest.mark.slow
async def test_palette_offers_every_action_and_a_verify_per_account(vault_home: Path) -> None:
    from tui.commands import palette_commands

    async with accounts_app().run_test(size=(100, 34)) as pilot:
        await unlock(pilot)
        await add_bybit(pilot)
        titles = [c.title for c in palette_commands(pilot.app, accounts_screen(pilot))]
        for action in ("Add", "Edit", "Rotate", "Delete", "Verify", "Verify all"):
            assert f"Accounts: {action}" in titles
        assert "Accounts: Verify Bybit main" in titles
        assert "Accounts: Unlock vault" not in titles  # only offered while locked


def test_the_screen_module_loads_no_keyring_http_or_crypto() -> None:
    """The app imports this screen when the section is first shown: it must stay light."""
    import subprocess
    import sys

    code = (
        "import sys, tui.screens.accounts; "
        "print(sorted(m for m in ('keyring', 'httpx', 'cryptography', 'filelock') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.slow
async def test_paste_clean_up_removes_labels_quotes_and_invisible_characters(
    vault_home: Path,
) -> None:
    async with accounts_app().run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        await pilot.press("a")
        await wait_for(pilot, lambda: screen_name(pilot) == "AddAccountScreen")
        await type_text(pilot, "Pasted sloppily")
        await paste(pilot, "api_key", f'API key: "{BYBIT_KEY}"\u00a0')
        await paste(pilot, "secret", f"\u200b{BYBIT_SECRET[:10]}\u200d{BYBIT_SECRET[10:]}\ufeff")
        form = pilot.app.screen
        assert form.query_one("#api_key").value == BYBIT_KEY
        assert form.query_one("#secret").value == BYBIT_SECRET
        notes = [n.message for n in pilot.app._notifications]
        assert any(m.startswith("Removed from the pasted API key: ")
                   and "the label 'API key:', the quotes around it" in m
                   and "non-breaking spaces" in m for m in notes), notes
        assert any(m.startswith("Removed from the pasted Secret: 3 invisible characters")
                   for m in notes), notes
        assert all(BYBIT_SECRET not in m and BYBIT_KEY not in m for m in notes)
        assert field_message(pilot, "api_key") == "" and field_message(pilot, "secret") == ""
        # One ctrl+s saves the clean values: nothing to accept twice.
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "Pasted sloppily" in table_names(pilot))
        stored = open_store()
        creds = stored.credentials(stored.get("Pasted sloppily"))
        assert (creds.api_key, creds.secret) == (BYBIT_KEY, BYBIT_SECRET)


async def test_a_cut_short_removal_shows_as_such_and_delete_finishes_it(vault_home: Path) -> None:
    from tui.services.keys.credentials import Credentials

    store = open_store()
    kept = store.add("Kept", "bybit", "mainnet", Credentials(BYBIT_KEY, BYBIT_SECRET))
    going = store.add("Going", "bybit", "mainnet", Credentials(BYBIT_KEY, BYBIT_SECRET))
    # What a kill -9 after the removal was written down leaves (see AccountStore.remove).
    path = store.path
    doc = json.loads(path.read_text())
    doc["accounts"][1]["removing"] = "2026-11-28T10:00:00Z"
    path.write_text(json.dumps(doc))
    async with accounts_app().run_test(size=(100, 30)) as pilot:
        await unlock(pilot)
        await wait_for(pilot, lambda: table_names(pilot) == ["Kept", "Going"])
        screen = accounts_screen(pilot)
        table = screen.query_one("#accounts", DataTable)
        row = [str(cell) for cell in table.get_row_at(1)]
        assert "removal cut short" in row[1] and "press d to finish" in row[-1]
        await pilot.press("down")
        await wait_for(pilot, lambda: screen.selected_id == going.id)
        for action in ("verify", "copy", "rotate", "edit"):
            assert screen.check_action(action, ()) is None, action
        assert "press d to finish" in screen.unavailable_reason("verify")
        assert screen.check_action("delete", ()) is True
        assert [c.title for c in screen.palette_commands()] == ["Accounts: Verify Kept"]
        await pilot.press("d")
        await wait_for(pilot, lambda: screen_name(pilot) == "ConfirmScreen")
        await pilot.press("y")
        await wait_for(pilot, lambda: table_names(pilot) == ["Kept"])
    after = open_store()
    assert [a.name for a in after.list()] == ["Kept"]
    assert after.secrets.refs() == [kept.secret_ref]


@pytest.mark.slow
async def test_an_okx_rotation_in_the_app_logs_the_passphrase_too(vault_home: Path) -> None:
    """The access log names the fields a use touched: an OKX key's rotation replaces its
    passphrase as well, from the app as from the CLI (the app's line named key and secret)."""
    from tui.services.core.access_log import AccessLog
    from tui.services.keys.credentials import Credentials

    open_store().add("OKX main", "okx", "mainnet", Credentials(OKX_KEY, OKX_SECRET, "Pass-1"))
    async with accounts_app().run_test(size=(100, 34)) as pilot:
        await unlock(pilot)
        await wait_for(pilot, lambda: table_names(pilot) == ["OKX main"])
        await pilot.press("r")
        await wait_for(pilot, lambda: screen_name(pilot) == "RotateKeyScreen")
        await type_text(pilot, "1f0c8a9e-5b7d-4c3e-9a21-6d4e8b2f7c10")
        await pilot.press("tab")
        await type_text(pilot, "D0F4E1A2B3C4D5E6F708192A3B4C5D6E")
        await pilot.press("tab")
        await type_text(pilot, "Pass-2")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: screen_name(pilot) == "AccountsScreen")
        [account] = open_store().list()
        assert open_store().credentials(account).passphrase == "Pass-2"
    [entry] = AccessLog().entries()[0]
    assert (entry["action"], entry["fields"]) == ("rotate", ["api_key", "secret", "passphrase"])
