"""AccountStore.audit / repair (what `keylink doctor` shows and fixes), in the vault and in a real
Secret Service."""

from __future__ import annotations

import pytest

from tui.services.accounts import AccountStore, Credentials
from tui.services.secrets import SERVICE, SecretStore

KEY = Credentials("AbCdEfGh1234567890", "S" * 36)


def test_audit_and_repair_in_the_vault(account_store):
    kept = account_store.add("Kept", "bybit", "mainnet", KEY)
    bare = account_store.add("Bare", "bybit", "mainnet", KEY)
    vault = account_store.secrets.vault
    vault.delete(SERVICE, bare.secret_ref)
    vault.set(SERVICE, "account-orphan-1", "{}")
    (account_store.dir / ".accounts.json.zz.tmp").write_text("half")
    health = account_store.audit()
    assert health.accounts_without_secret == ["Bare"]
    assert health.orphaned_secrets == ["account-orphan-1"]
    assert [p.name for p in health.temp_files] == [".accounts.json.zz.tmp"]
    assert account_store.repair() == (1, 1)
    after = account_store.audit()
    assert (after.orphaned_secrets, after.temp_files) == ([], [])
    assert account_store.credentials(kept) == KEY


@pytest.mark.secret_service
def test_orphans_are_found_and_removed_in_a_real_secret_service(secret_service, tmp_path):
    store = AccountStore(SecretStore.open(), tmp_path / "config")
    assert not store.secrets.uses_vault and "Secret Service" in store.secrets.backend_name
    account = store.add("Desk", "bybit", "mainnet", KEY)
    store.secrets.set("account-orphan-ss", KEY)  # saved, then the process died before its commit
    health = store.audit()
    assert "account-orphan-ss" in (health.orphaned_secrets or [])
    assert account.secret_ref not in (health.orphaned_secrets or [])
    deleted, _files = store.repair()
    assert deleted >= 1
    assert "account-orphan-ss" not in (store.audit().orphaned_secrets or [])
    assert store.credentials(account) == KEY
    store.remove(account.id)
