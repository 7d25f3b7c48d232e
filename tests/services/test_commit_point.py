"""One commit point: Ctrl-C around the rename of accounts.json never splits an account from its
secret, and each account names the store that holds its secret."""

from __future__ import annotations

import json
import os
import signal
import threading
from pathlib import Path

import pytest

from tui.services.core import private_files
from tui.services.core.private_files import interrupts_deferred
from tui.services.keys.credentials import Credentials
from tui.services.store.accounts import AccountStore
from tui.services.store.backends import VAULT_STORE, store_label
from tui.services.store.errors import StoreUnreachable
from tui.services.store.secrets import SecretStore

KEY = Credentials("AbCdEfGh1234567890", "S" * 36)
NEW_KEY = Credentials("ZyXwVuTs0987654321", "T" * 36)
SECRET_SERVICE = "keyring:keyring.backends.SecretService:Keyring"


def _sigint_in_dir_fsync(monkeypatch: pytest.MonkeyPatch, directory: Path) -> list[int]:
    """A real SIGINT delivered while ``directory`` is being fsynced (after a rename in it)."""
    real_fsync = os.fsync
    hits: list[int] = []

    def fsync(fd: int) -> None:
        if Path(os.readlink(f"/proc/self/fd/{fd}")) == directory.resolve():
            hits.append(fd)
            signal.raise_signal(signal.SIGINT)
        real_fsync(fd)

    monkeypatch.setattr(private_files.os, "fsync", fsync)
    return hits


def test_ctrl_c_after_the_rename_keeps_the_account_and_its_secret(account_store, monkeypatch):
    hits = _sigint_in_dir_fsync(monkeypatch, account_store.dir)
    with pytest.raises(KeyboardInterrupt):
        account_store.add("Main", "bybit", "mainnet", KEY)
    assert hits, "the interrupt was not delivered during the directory fsync"
    monkeypatch.undo()
    account = account_store.get("Main")  # committed: listed...
    assert account_store.credentials(account) == KEY  # ...and its secret was not rolled back


def test_ctrl_c_after_the_rename_of_a_rotate_keeps_the_new_secret(account_store, monkeypatch):
    old = account_store.add("Main", "bybit", "mainnet", KEY)
    _sigint_in_dir_fsync(monkeypatch, account_store.dir)
    with pytest.raises(KeyboardInterrupt):
        account_store.rotate(old.id, NEW_KEY)
    monkeypatch.undo()
    account = account_store.get("Main")
    assert account.secret_ref != old.secret_ref
    assert account_store.credentials(account) == NEW_KEY


def test_ctrl_c_before_the_rename_leaves_the_old_state(account_store, monkeypatch):
    real_replace = os.replace
    calls: list[str] = []

    def replace(src, dst):
        if not str(dst).endswith("accounts.json"):
            return real_replace(src, dst)  # the vault's own write
        calls.append(str(dst))
        signal.raise_signal(signal.SIGINT)  # held until the block ends...
        raise OSError(28, "No space left on device")  # ...which fails before the rename

    monkeypatch.setattr(private_files.os, "replace", replace)
    with pytest.raises(KeyboardInterrupt):
        account_store.add("Main", "bybit", "mainnet", KEY)
    assert any(c.endswith("accounts.json") for c in calls)
    monkeypatch.setattr(private_files.os, "replace", real_replace)
    assert account_store.list() == []
    entries = account_store.secrets.vault._entries()
    assert entries == {}, "the secret of the add that never committed was left behind"


def test_interrupts_deferred_delivers_after_the_block():
    order: list[str] = []
    with pytest.raises(KeyboardInterrupt), interrupts_deferred():
        signal.raise_signal(signal.SIGINT)
        order.append("block finished")
    assert order == ["block finished"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_interrupts_deferred_is_a_no_op_off_the_main_thread():
    seen: list[object] = []

    def run() -> None:
        with interrupts_deferred():
            seen.append(signal.getsignal(signal.SIGINT))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert seen == [signal.default_int_handler]


# -- each account knows its store ----------------------------------------------------------------


def test_new_accounts_record_their_store(account_store):
    account = account_store.add("Main", "bybit", "mainnet", KEY)
    assert account.secret_store == VAULT_STORE
    saved = json.loads(account_store.path.read_text())["accounts"][0]
    assert saved["secret_store"] == "vault"


def _write_accounts(path: Path, **extra: object) -> None:
    entry = {
        "id": "a" * 32,
        "name": "Old",
        "exchange": "bybit",
        "environment": "mainnet",
        "base_url": "https://api.bybit.com",
        "whitelist": "insilico",
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
        "secret_ref": "account-old",
        **extra,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"version": 1, "accounts": [entry]}))


def test_an_old_file_without_stores_loads_and_says_how_it_is_read(account_store):
    _write_accounts(account_store.path)
    account_store.secrets.set("account-old", KEY)
    [old] = account_store.list()
    assert old.secret_store is None
    assert account_store.legacy_note is not None
    assert "1 account saved by an older keylink does not record" in account_store.legacy_note
    assert account_store.credentials(old) == KEY  # the old rule: the store in use


def test_a_secret_in_another_store_is_never_looked_for_here(account_store):
    _write_accounts(account_store.path, secret_store=SECRET_SERVICE)
    [account] = account_store.list()
    with pytest.raises(StoreUnreachable, match="is in Secret Service, which keylink cannot use"):
        account_store.credentials(account)
    with pytest.raises(StoreUnreachable, match="Secret Service"):
        account_store.rotate(account.id, NEW_KEY)
    # remove refuses: the metadata stays until that store confirms the secret is gone
    with pytest.raises(StoreUnreachable, match="Secret Service"):
        account_store.remove(account.id)
    assert [a.name for a in account_store.list()] == ["Old"]
    # forget drops only the metadata and says what stays behind
    left = account_store.remove(account.id, force=True)
    assert left is not None and "Secret Service" in left and "account-old" in left
    assert account_store.list() == []


def test_new_accounts_follow_the_existing_ones_unless_chosen(tmp_path, account_store):
    _write_accounts(account_store.path, secret_store=SECRET_SERVICE)
    auto = SecretStore(
        account_store.secrets.backend,
        backend_name="keylink vault",
        reason="Secret Service did not answer within 3 s",
        vault=account_store.secrets.vault,
        chosen=False,
    )
    store = AccountStore(auto, account_store.dir)
    with pytest.raises(StoreUnreachable, match="keep their secrets in Secret Service"):
        store.add("New", "bybit", "mainnet", KEY)
    assert account_store.secrets.vault._entries() == {}  # nothing saved in the other store
    # The user chose the vault (KEYLINK_SECRET_BACKEND=vault): then it is saved there.
    chosen = SecretStore(
        auto.backend, backend_name="keylink vault", reason="chosen", vault=auto.vault
    )
    added = AccountStore(chosen, account_store.dir).add("New", "bybit", "mainnet", KEY)
    assert added.secret_store == VAULT_STORE


def test_store_labels():
    assert store_label(VAULT_STORE) == "keylink vault"
    assert store_label(SECRET_SERVICE) == "Secret Service"
    assert "some.module.Thing" in store_label("keyring:some.module:Thing")
