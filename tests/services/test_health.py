"""store.doctor audit / repair (what `keylink doctor` shows and fixes), in the vault and in a real
Secret Service."""

from __future__ import annotations

import pytest

from tui.services.keys.credentials import Credentials
from tui.services.store import doctor
from tui.services.store.accounts import AccountStore
from tui.services.store.backends import SERVICE
from tui.services.store.doctor import Repaired
from tui.services.store.errors import RemovalUnfinished, SecretNotFound
from tui.services.store.model import AccountError
from tui.services.store.secrets import SecretStore

KEY = Credentials("AbCdEfGh1234567890", "S" * 36)


def test_audit_and_repair_in_the_vault(account_store):
    kept = account_store.add("Kept", "bybit", "mainnet", KEY)
    bare = account_store.add("Bare", "bybit", "mainnet", KEY)
    vault = account_store.secrets.vault
    vault.delete(SERVICE, bare.secret_ref)
    vault.set(SERVICE, "account-orphan-1", "{}")
    (account_store.dir / ".accounts.json.zz.tmp").write_text("half")
    health = doctor.audit(account_store)
    assert health.accounts_without_secret == ["Bare"]
    assert health.orphaned_secrets == ["account-orphan-1"]
    assert [p.name for p in health.temp_files] == [".accounts.json.zz.tmp"]
    assert doctor.repair(account_store) == Repaired(1, 1, [])
    after = doctor.audit(account_store)
    assert (after.orphaned_secrets, after.temp_files) == ([], [])
    assert account_store.credentials(kept) == KEY


@pytest.mark.secret_service
def test_orphans_are_found_and_removed_in_a_real_secret_service(secret_service, tmp_path):
    store = AccountStore(SecretStore.open(), tmp_path / "config")
    assert not store.secrets.uses_vault and "Secret Service" in store.secrets.backend_name
    account = store.add("Desk", "bybit", "mainnet", KEY)
    store.secrets.set("account-orphan-ss", KEY)  # saved, then the process died before its commit
    health = doctor.audit(store)
    assert "account-orphan-ss" in (health.orphaned_secrets or [])
    assert account.secret_ref not in (health.orphaned_secrets or [])
    assert doctor.repair(store).orphaned_secrets >= 1
    assert "account-orphan-ss" not in (doctor.audit(store).orphaned_secrets or [])
    assert store.credentials(account) == KEY
    store.remove(account.id)


class _Cut(BaseException):
    """Stands for a kill -9: nothing after it runs, no handler sees it as an error."""


def _cut_after_mark(store: AccountStore, monkeypatch, *, delete_first: bool) -> None:
    """Make the next removal die right after its mark (before or after the secret's delete)."""
    real_delete = store.secrets.delete

    def dying_delete(ref: str) -> None:
        if delete_first:
            real_delete(ref)
        raise _Cut

    monkeypatch.setattr(store.secrets, "delete", dying_delete)


@pytest.mark.parametrize("delete_first", [True, False], ids=["secret-gone", "secret-kept"])
def test_a_cut_short_removal_is_written_down_refused_and_finished(account_store, monkeypatch,
                                                                   delete_first):
    kept = account_store.add("Kept", "bybit", "mainnet", KEY)
    going = account_store.add("Going", "bybit", "mainnet", KEY)
    _cut_after_mark(account_store, monkeypatch, delete_first=delete_first)
    with pytest.raises(_Cut):
        account_store.remove(going.id)
    monkeypatch.undo()
    # What the next keylink sees: the account says its removal was cut short ...
    fresh = AccountStore(account_store.secrets, account_store.dir)
    marked = fresh.get("Going")
    assert marked.removing is not None
    # ... is never used (whether or not its secret is still there) ...
    with pytest.raises(RemovalUnfinished, match=r"cut short.*keylink accounts remove Going"):
        fresh.credentials(marked)
    with pytest.raises(AccountError, match="cut short"):
        fresh.rotate(marked.id, KEY)
    with pytest.raises(AccountError, match="cut short"):
        fresh.update(marked.id, name="Renamed")
    # ... is not an account that lost its secret, nor is its secret an orphan ...
    health = doctor.audit(fresh)
    assert (health.accounts_without_secret, health.unfinished_removals) == ([], ["Going"])
    assert health.orphaned_secrets == []
    # ... and removing it again finishes it.
    assert fresh.remove(marked.id) is None
    assert [a.name for a in fresh.list()] == ["Kept"]
    with pytest.raises(SecretNotFound):
        fresh.secrets.get(going.secret_ref)
    assert fresh.credentials(kept) == KEY


def test_repair_finishes_a_cut_short_removal(account_store, monkeypatch):
    account_store.add("Kept", "bybit", "mainnet", KEY)
    going = account_store.add("Going", "bybit", "mainnet", KEY)
    _cut_after_mark(account_store, monkeypatch, delete_first=False)
    with pytest.raises(_Cut):
        account_store.remove(going.id)
    monkeypatch.undo()
    assert doctor.repair(account_store) == Repaired(0, 0, ["Going"])
    assert [a.name for a in account_store.list()] == ["Kept"]
    assert account_store.secrets.refs() == [account_store.get("Kept").secret_ref]
    assert doctor.audit(account_store).unfinished_removals == []


def test_a_refused_delete_takes_the_mark_back(account_store, monkeypatch):
    from tui.services.store.errors import KeyringLocked

    account = account_store.add("Held", "bybit", "mainnet", KEY)

    def refusing(ref: str) -> None:
        raise KeyringLocked("the keyring is locked")

    monkeypatch.setattr(account_store.secrets, "delete", refusing)
    with pytest.raises(KeyringLocked):
        account_store.remove(account.id)
    monkeypatch.undo()
    again = AccountStore(account_store.secrets, account_store.dir).get("Held")
    assert again.removing is None
    assert account_store.credentials(again) == KEY
    # Files without a cut-short removal are written as before the mark existed.
    assert "removing" not in (account_store.dir / "accounts.json").read_text()


def test_a_delete_that_timed_out_keeps_the_mark(account_store, monkeypatch):
    """A keyring that did not answer in time may still delete the secret later: the account
    stays marked (never used, finished by removing again), not silently without its secret."""
    from tui.services.store.errors import KeyringTimeout

    account = account_store.add("Slow", "bybit", "mainnet", KEY)

    def hung(ref: str) -> None:
        raise KeyringTimeout("the secret store did not answer within 5 s")

    monkeypatch.setattr(account_store.secrets, "delete", hung)
    with pytest.raises(KeyringTimeout, match="marked as being removed"):
        account_store.remove(account.id)
    monkeypatch.undo()
    # A copy of the account read before the mark is not a way around it.
    with pytest.raises(RemovalUnfinished):
        account_store.credentials(account)
    assert account_store.get("Slow").removing is not None
    assert account_store.remove(account.id) is None
    assert account_store.list() == []


@pytest.mark.secret_service
def test_an_unknown_keyring_error_keeps_the_mark(secret_service, tmp_path, monkeypatch):
    """A keyring error keylink cannot read (a D-Bus fault wrapped by secrets._call) may come
    after the delete: the mark stays rather than leave an unmarked account without a secret."""
    from tui.services.store.errors import SecretStoreError

    store = AccountStore(SecretStore.open(), tmp_path / "config")
    assert not store.secrets.uses_vault
    account = store.add("Desk", "bybit", "mainnet", KEY)

    def odd(ref: str) -> None:
        raise SecretStoreError("failed to delete a secret: org.freedesktop.DBus.Error.NoReply")

    real_delete = store.secrets.delete
    monkeypatch.setattr(store.secrets, "delete", odd)
    with pytest.raises(SecretStoreError, match="marked as being removed"):
        store.remove(account.id)
    monkeypatch.setattr(store.secrets, "delete", real_delete)  # (undo() would drop the bus too)
    assert store.get("Desk").removing is not None
    store.remove(account.id)
    assert store.list() == []
