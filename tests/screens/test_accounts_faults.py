"""Keyring faults on the accounts screen: a clear message with the fix, and the accounts intact.

The faulty keyrings are real ``KeyringBackend`` subclasses (tests/support/keyring_faults.py) behind
the real SecretStore; only SecretStore.open is pointed at them, as a machine with such a keyring
would be.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable, Static

from tests.support.accounts_fixtures import (
    BYBIT_KEY,
    BYBIT_SECRET,
    accounts_app,
    paste,
    screen_name,
    status_text,
    type_text,
    wait_for,
)
from tests.support.keyring_faults import LockedKeyring
from tui.services.keys.credentials import Credentials
from tui.services.store.accounts import AccountStore
from tui.services.store.secrets import SecretStore


def use_secrets(monkeypatch: pytest.MonkeyPatch, store: SecretStore) -> None:
    monkeypatch.setattr(SecretStore, "open", classmethod(lambda cls, *a, **k: store))


def seed(memory_secrets: SecretStore) -> Any:
    """One account saved while the keyring still worked."""
    return AccountStore(memory_secrets).add(
        "Bybit main", "bybit", "mainnet", Credentials(BYBIT_KEY, BYBIT_SECRET)
    )


def fault_text(pilot) -> str:
    banner = pilot.app.screen_stack[0].query_one("#fault", Static)
    return str(banner.content) if banner.has_class("-shown") else ""


def row_count(pilot) -> int:
    return pilot.app.screen_stack[0].query_one("#accounts", DataTable).row_count


async def test_locked_keyring_delete_says_how_to_unlock_and_keeps_the_account(
    monkeypatch: pytest.MonkeyPatch, memory_secrets: SecretStore
) -> None:
    account = seed(memory_secrets)
    locked = SecretStore(LockedKeyring(), backend_name="GNOME login keyring", reason="test",
                         timeout=0.5)
    locked.store_id = memory_secrets.store_id  # the same keyring, now locked
    use_secrets(monkeypatch, locked)
    async with accounts_app().run_test(size=(100, 34)) as pilot:
        await wait_for(pilot, lambda: row_count(pilot) == 1)
        assert "GNOME login keyring" in status_text(pilot)
        await pilot.press("d")
        await wait_for(pilot, lambda: screen_name(pilot) == "ConfirmScreen")
        await pilot.press("y")
        await wait_for(pilot, lambda: fault_text(pilot))
        text = fault_text(pilot)
        assert "locked" in text and "unlock" in text and "not changed" in text
        # It offers to drop the account anyway; the safe answer keeps it.
        await wait_for(pilot, lambda: screen_name(pilot) == "ConfirmScreen")
        assert "anyway" in str(pilot.app.screen.query_one("#title", Static).content)
        await pilot.press("n")
        await wait_for(pilot, lambda: screen_name(pilot) == "AccountsScreen")
        assert row_count(pilot) == 1
        # Verify needs the secret too: same clear message, no crash.
        await pilot.press("v")
        panel = pilot.app.screen_stack[0].query_one("#report")
        await wait_for(pilot, lambda: "could not be read" in " ".join(
            str(s.content) for s in panel.query(Static)))
        assert "locked" in fault_text(pilot)
    assert [a.id for a in AccountStore(memory_secrets).list()] == [account.id]
    assert memory_secrets.get(account.secret_ref).secret == BYBIT_SECRET


async def test_hanging_keyring_times_out_with_a_message(
    monkeypatch: pytest.MonkeyPatch, memory_keyring: Any, memory_secrets: SecretStore
) -> None:
    account = seed(memory_secrets)
    memory_keyring.hang = {"delete"}
    use_secrets(monkeypatch, memory_secrets)
    async with accounts_app().run_test(size=(100, 34)) as pilot:
        await wait_for(pilot, lambda: row_count(pilot) == 1)
        await pilot.press("d")
        await wait_for(pilot, lambda: screen_name(pilot) == "ConfirmScreen")
        await pilot.press("y")
        # While the keyring hangs the UI still answers keys.
        await pilot.press("down")
        await wait_for(pilot, lambda: fault_text(pilot))
        assert "did not answer" in fault_text(pilot)
        # The delete may still happen: the account is now marked, so "not changed" would be false.
        assert "marked as being removed" in fault_text(pilot)
        assert "not changed" not in fault_text(pilot)
        assert row_count(pilot) == 1
        assert [a.id for a in AccountStore(memory_secrets).list()] == [account.id]
        # "Remove anyway" drops the account; the secret is left to the keyring.
        await wait_for(pilot, lambda: screen_name(pilot) == "ConfirmScreen")
        await pilot.press("y")
        await wait_for(pilot, lambda: row_count(pilot) == 0)
    memory_keyring.release()
    assert AccountStore(memory_secrets).list() == []


@pytest.mark.slow
async def test_failed_save_keeps_the_form_and_everything_typed(
    monkeypatch: pytest.MonkeyPatch, memory_keyring: Any, memory_secrets: SecretStore
) -> None:
    seed(memory_secrets)
    memory_keyring.fail = {"set"}
    use_secrets(monkeypatch, memory_secrets)
    async with accounts_app().run_test(size=(100, 34)) as pilot:
        await wait_for(pilot, lambda: row_count(pilot) == 1)
        await pilot.press("a")
        await wait_for(pilot, lambda: screen_name(pilot) == "AddAccountScreen")
        await type_text(pilot, "Second")
        await paste(pilot, "api_key", "KLbybitUIkey000009")
        await paste(pilot, "secret", "KLbybitUIsecret000000000000000000009")
        await pilot.press("ctrl+s")
        banner = pilot.app.screen.query_one("#form-banner", Static)
        await wait_for(pilot, lambda: banner.has_class("-error"))
        text = str(banner.content)
        assert "Not saved" in text and "still here" in text
        assert "KLbybitUIsecret000000000000000000009" not in text
        assert pilot.app.screen.query_one("#secret").value == (
            "KLbybitUIsecret000000000000000000009")
        assert screen_name(pilot) == "AddAccountScreen"
    assert [a.name for a in AccountStore(memory_secrets).list()] == ["Bybit main"]


async def test_accounts_file_in_a_newer_format_is_shown_not_touched(
    monkeypatch: pytest.MonkeyPatch, memory_secrets: SecretStore
) -> None:
    use_secrets(monkeypatch, memory_secrets)
    store = AccountStore(memory_secrets)
    store.dir.mkdir(parents=True, exist_ok=True)
    store.path.write_text('{"version": 99, "accounts": []}')
    async with accounts_app().run_test(size=(100, 34)) as pilot:
        banner = pilot.app.screen_stack[0].query_one("#load-problem", Static)
        await wait_for(pilot, lambda: banner.has_class("-shown"))
        assert "newer keylink" in str(banner.content)
    assert Path(store.path).read_text() == '{"version": 99, "accounts": []}'


@pytest.mark.slow
@pytest.mark.secret_service
async def test_accounts_over_a_real_secret_service(secret_service: Any) -> None:
    """gnome-keyring on a private bus: no vault modal, secrets go to (and leave) the keyring."""
    async with accounts_app().run_test(size=(100, 34)) as pilot:
        await wait_for(pilot, lambda: "Secret Service" in status_text(pilot))
        await pilot.press("a")
        await wait_for(pilot, lambda: screen_name(pilot) == "AddAccountScreen")
        await type_text(pilot, "Keyring main")
        await paste(pilot, "api_key", BYBIT_KEY)
        await paste(pilot, "secret", BYBIT_SECRET)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: row_count(pilot) == 1)
        store = AccountStore(SecretStore.open())
        [account] = store.list()
        assert store.credentials(account).secret == BYBIT_SECRET
        assert not store.secrets.uses_vault
        await pilot.press("d")
        await wait_for(pilot, lambda: screen_name(pilot) == "ConfirmScreen")
        await pilot.press("y")
        await wait_for(pilot, lambda: row_count(pilot) == 0)
    from tui.services.store.errors import SecretNotFound

    with pytest.raises(SecretNotFound):
        store.secrets.get(account.secret_ref)


async def test_a_secret_store_that_cannot_open_is_explained(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tui.services.store.errors import KeyringUnavailable

    def refuse(cls, *args: Any, **kwargs: Any) -> SecretStore:
        raise KeyringUnavailable("no usable keyring; set KEYLINK_SECRET_BACKEND=vault")

    monkeypatch.setattr(SecretStore, "open", classmethod(refuse))
    async with accounts_app().run_test(size=(100, 34)) as pilot:
        await wait_for(pilot, lambda: fault_text(pilot))
        assert "No usable keyring" in fault_text(pilot)
        assert "KEYLINK_SECRET_BACKEND=vault" in fault_text(pilot)
        assert "unavailable" in status_text(pilot)
        await pilot.press("a")  # nothing to add to: a note, no crash
        assert screen_name(pilot) == "AccountsScreen"


async def test_the_store_opens_when_the_section_is_first_shown_not_at_start(
    monkeypatch: pytest.MonkeyPatch, memory_secrets: SecretStore
) -> None:
    from tui.app import KeylinkApp

    opened: list[int] = []

    def counting_open(cls, *args: Any, **kwargs: Any) -> SecretStore:
        opened.append(1)
        return memory_secrets

    monkeypatch.setattr(SecretStore, "open", classmethod(counting_open))
    async with KeylinkApp().run_test(size=(100, 34)) as pilot:  # starts on the guide
        await pilot.pause(0.2)
        assert opened == []
        await pilot.press("2")
        await wait_for(pilot, lambda: "test keyring" in status_text(pilot))
        await pilot.press("1", "2")
        await pilot.pause(0.2)
        assert opened == [1]  # once per session, not on every visit


async def test_a_secret_in_an_unreachable_store_is_named_and_forget_says_what_stays(
    monkeypatch: pytest.MonkeyPatch, memory_secrets: SecretStore, tmp_path: Path
) -> None:
    account = seed(memory_secrets)  # saved in a keyring keylink cannot reach in this session
    other = SecretStore(LockedKeyring(), backend_name="another keyring", reason="over SSH",
                        timeout=0.5, chosen=False)
    other.store_id = "keyring:keyring.backends.SecretService:Keyring"
    use_secrets(monkeypatch, other)
    async with accounts_app().run_test(size=(100, 34)) as pilot:
        await wait_for(pilot, lambda: row_count(pilot) == 1)
        await pilot.press("d")
        await wait_for(pilot, lambda: screen_name(pilot) == "ConfirmScreen")
        await pilot.press("y")
        await wait_for(pilot, lambda: fault_text(pilot))
        assert "cannot use now" in fault_text(pilot)
        await wait_for(pilot, lambda: screen_name(pilot) == "ConfirmScreen")
        body = " ".join(str(s.content) for s in pilot.app.screen.query(Static))
        # It names the account's own store, not the one keylink is using now.
        assert "stay in the keyring backend tests.support.keyring_faults.MemoryKeyring" in body
        assert "another keyring" not in body
        await pilot.press("y")  # remove anyway: only the account goes
        await wait_for(pilot, lambda: row_count(pilot) == 0)
        await wait_for(pilot, lambda: any("may stay in" in str(n.message)
                                          for n in pilot.app._notifications))
    assert AccountStore(memory_secrets).list() == []
    assert memory_secrets.get(account.secret_ref).secret == BYBIT_SECRET  # never touched


async def test_delete_without_a_vault_never_drops_an_account_of_another_store(
    monkeypatch: pytest.MonkeyPatch, memory_secrets: SecretStore, tmp_path: Path, cheap_kdf
) -> None:
    from tui.services.store.vault import Vault

    account = seed(memory_secrets)  # in the desktop keyring; this session has only a vault
    fallback = SecretStore.open(vault=Vault(tmp_path / "vault.json", kdf=cheap_kdf))
    assert fallback.needs_new_vault
    use_secrets(monkeypatch, fallback)
    async with accounts_app().run_test(size=(100, 34)) as pilot:
        await wait_for(pilot, lambda: row_count(pilot) == 1)
        await pilot.press("d")
        await wait_for(pilot, lambda: screen_name(pilot) == "ConfirmScreen")
        await pilot.press("y")
        await wait_for(pilot, lambda: "cannot use now" in fault_text(pilot))
        await wait_for(pilot, lambda: screen_name(pilot) == "ConfirmScreen")  # forget it?
        await pilot.press("n")
        await wait_for(pilot, lambda: screen_name(pilot) == "AccountsScreen")
        assert row_count(pilot) == 1
    assert [a.id for a in AccountStore(memory_secrets).list()] == [account.id]
