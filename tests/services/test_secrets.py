"""SecretStore: backend choice, timeouts, error messages; a real Secret Service (gnome-keyring)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.support.keyring_daemon import KeyringDaemon, start_or_skip
from tests.support.keyring_faults import LockedKeyring, MemoryKeyring
from tui.services.keys.credentials import Credentials
from tui.services.store.accounts import AccountStore
from tui.services.store.backends import SERVICE
from tui.services.store.errors import (
    KeyringLocked,
    KeyringTimeout,
    KeyringUnavailable,
    SecretNotFound,
    SecretStoreError,
    VaultDamaged,
    VaultLocked,
    WrongPassphrase,
)
from tui.services.store.secrets import SecretStore, passphrase_strength
from tui.services.store.vault import Vault

CREDS = Credentials("AbCdEfGh1234567890", "s3cr3t-" + "x" * 29)
PASSPHRASE = "the vault passphrase"


@pytest.fixture
def vault(tmp_path: Path, cheap_kdf) -> Vault:
    return Vault(tmp_path / "vault.json", kdf=cheap_kdf)


# -- backend choice -------------------------------------------------------------------------------


def test_no_keyring_falls_back_to_the_vault(vault):
    store = SecretStore.open(vault=vault)  # no session bus in tests: keyring finds nothing
    assert store.uses_vault and store.vault is vault
    assert store.backend_name == "keylink vault"
    assert "no system keyring" in store.reason
    assert store.needs_new_vault and not store.needs_unlock


def test_keylink_secret_backend_vault_forces_the_vault(vault, monkeypatch, memory_keyring):
    monkeypatch.setenv("KEYLINK_SECRET_BACKEND", "vault")
    MemoryKeyring.recommended = True
    store = SecretStore.open(backend=memory_keyring, vault=vault)
    assert store.uses_vault and "KEYLINK_SECRET_BACKEND=vault" in store.reason


def test_python_keyring_backend_can_select_the_vault(monkeypatch, tmp_path):
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "tui.services.store.vault.VaultKeyring")
    store = SecretStore.open()
    assert store.uses_vault and "PYTHON_KEYRING_BACKEND" in store.reason
    # The default vault lives in the (test-private) data dir.
    from tui.services.core import paths

    assert store.vault is not None and store.vault.path == paths.data_dir() / "vault.json"


def test_a_backend_named_in_python_keyring_backend_is_used_as_named(monkeypatch, vault):
    from tests.support.keyring_faults import LowPriorityKeyring

    LowPriorityKeyring.recommended = True  # viable, priority 0.5: auto-choice would skip it
    try:
        monkeypatch.setenv(
            "PYTHON_KEYRING_BACKEND", "tests.support.keyring_faults.LowPriorityKeyring"
        )
        store = SecretStore.open(vault=vault)
        assert isinstance(store.backend, LowPriorityKeyring) and not store.uses_vault
        assert store.reason == "PYTHON_KEYRING_BACKEND selects it"
        store.set("ref", CREDS)
        assert store.get("ref") == CREDS
        # keyring's own "no keyring" choices still mean the vault.
        monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
        assert SecretStore.open(vault=vault).uses_vault
        monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
        assert SecretStore.open(vault=vault).uses_vault
    finally:
        LowPriorityKeyring.recommended = False


def test_a_broken_python_keyring_backend_falls_back_with_a_reason(monkeypatch, vault):
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "no.such.module.Keyring")
    store = SecretStore.open(vault=vault)
    assert store.uses_vault and "could not be loaded" in store.reason


def test_keylink_secret_backend_keyring_keeps_even_a_useless_keyring(monkeypatch):
    from keyring.backends import fail

    monkeypatch.setenv("KEYLINK_SECRET_BACKEND", "keyring")
    store = SecretStore.open(backend=fail.Keyring())
    assert not store.uses_vault and "KEYLINK_SECRET_BACKEND=keyring" in store.reason
    with pytest.raises(KeyringUnavailable, match="KEYLINK_SECRET_BACKEND=vault"):
        store.set("ref", CREDS)


def test_an_unknown_keylink_secret_backend_value_is_refused_not_ignored(monkeypatch, vault):
    # A store named by the user is that store or nothing: never the vault instead (issue 21).
    monkeypatch.setenv("KEYLINK_SECRET_BACKEND", "sometimes")
    with pytest.raises(SecretStoreError, match=r"'sometimes' names no secret store here"):
        SecretStore.open(vault=vault)


@pytest.mark.parametrize("kind", ["fail", "null", "chainer"])
def test_keyrings_that_are_not_real_mean_the_vault(kind, vault):
    from keyring.backends import chainer, fail, null

    backend = {"fail": fail.Keyring, "null": null.Keyring, "chainer": chainer.ChainerBackend}[
        kind
    ]()
    store = SecretStore.open(backend=backend, vault=vault)
    assert store.uses_vault


def test_a_not_recommended_keyring_means_the_vault(memory_keyring, vault):
    MemoryKeyring.recommended = False  # its priority raises: not viable
    store = SecretStore.open(backend=memory_keyring, vault=vault)
    assert store.uses_vault and "not usable here" in store.reason


def test_a_working_keyring_is_used(memory_keyring, vault):
    MemoryKeyring.recommended = True
    store = SecretStore.open(backend=memory_keyring, vault=vault)
    assert not store.uses_vault and store.vault is None
    assert "answered" in store.reason
    assert memory_keyring.calls == ["get"]  # the probe


def test_a_keyring_that_hangs_at_the_probe_means_the_vault(memory_keyring, vault):
    MemoryKeyring.recommended = True
    memory_keyring.hang.add("get")
    started = time.monotonic()
    store = SecretStore.open(probe_timeout=0.3, backend=memory_keyring, vault=vault)
    assert time.monotonic() - started < 2
    assert store.uses_vault and "did not answer within 0.3 s" in store.reason


def test_a_keyring_that_errors_at_the_probe_means_the_vault(memory_keyring, vault):
    MemoryKeyring.recommended = True
    memory_keyring.fail.add("get")
    store = SecretStore.open(backend=memory_keyring, vault=vault)
    assert store.uses_vault and "failed its first call (KeyringError)" in store.reason


def test_a_locked_keyring_is_kept_and_says_how_to_unlock(vault):
    LockedKeyring.recommended = True
    try:
        store = SecretStore.open(backend=LockedKeyring(), vault=vault)
    finally:
        LockedKeyring.recommended = False
    assert not store.uses_vault and "locked" in store.reason
    with pytest.raises(KeyringLocked, match="unlock your login keyring"):
        store.get("ref")


# -- calls ----------------------------------------------------------------------------------------


def test_round_trip_and_not_found(memory_secrets):
    memory_secrets.set("ref", CREDS)
    assert memory_secrets.get("ref") == CREDS
    memory_secrets.delete("ref")
    with pytest.raises(SecretNotFound, match="holds no secret"):
        memory_secrets.get("ref")
    with pytest.raises(SecretNotFound):
        memory_secrets.delete("ref")


@pytest.mark.parametrize("value", ["not json", "[" * 200_000], ids=["not-json", "too-deep"])
def test_a_foreign_value_is_reported_not_crashed_on(memory_secrets, memory_keyring, value):
    memory_keyring.entries[(SERVICE, "ref")] = value
    with pytest.raises(SecretStoreError, match="not in keylink's format"):
        memory_secrets.get("ref")


@pytest.mark.parametrize("operation", ["set", "get", "delete"])
def test_every_call_has_a_timeout(memory_secrets, memory_keyring, operation):
    memory_keyring.entries[(SERVICE, "ref")] = '{"api_key": "k", "secret": "s"}'
    memory_keyring.hang.add(operation)
    call = {
        "set": lambda: memory_secrets.set("ref", CREDS),
        "get": lambda: memory_secrets.get("ref"),
        "delete": lambda: memory_secrets.delete("ref"),
    }[operation]
    started = time.monotonic()
    with pytest.raises(KeyringTimeout) as info:
        call()
    assert 0.4 < time.monotonic() - started < 2
    assert "did not answer within 0.5 s" in str(info.value)
    assert "unlock" in str(info.value) and "KEYLINK_SECRET_BACKEND=vault" in str(info.value)


def test_secrets_echoed_by_a_backend_are_scrubbed(memory_secrets, memory_keyring):
    memory_keyring.fail.add("set")
    with pytest.raises(SecretStoreError) as info:
        memory_secrets.set("ref", Credentials("KEY-ABC", "SECRET-XYZ", "PASS-QRS"))
    text = str(info.value)
    assert "SECRET-XYZ" not in text and "PASS-QRS" not in text and "KEY-ABC" not in text
    assert "***" in text
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_vault_states_and_errors(vault):
    store = SecretStore.open(vault=vault)
    with pytest.raises(VaultLocked, match="does not exist yet"):
        store.set("ref", CREDS)
    with pytest.raises(ValueError, match="at least 12"):
        store.create_vault("too short")
    store.create_vault(PASSPHRASE)
    assert not store.needs_new_vault and not store.needs_unlock
    store.set("ref", CREDS)

    again = SecretStore.open(vault=Vault(vault.path))
    assert again.needs_unlock
    with pytest.raises(VaultLocked, match="KEYLINK_VAULT_PASSPHRASE"):
        again.get("ref")
    with pytest.raises(WrongPassphrase, match="wrong vault passphrase"):
        again.unlock("not the passphrase")
    again.unlock(PASSPHRASE)
    assert again.get("ref") == CREDS

    raw = bytearray(vault.path.read_bytes())
    raw[-5] ^= 1
    vault.path.write_bytes(bytes(raw))
    damaged = SecretStore.open(vault=Vault(vault.path))
    with pytest.raises(VaultDamaged, match="left as it is"):
        damaged.unlock(PASSPHRASE)
    assert vault.path.read_bytes() == bytes(raw)


def test_passphrase_strength():
    assert passphrase_strength("")[0] == 0
    assert passphrase_strength("short")[0] == 0
    assert "too short" in passphrase_strength("elevenchars")[1]
    # Twelve characters each, and all guessed at once: a length rule let them through.
    assert passphrase_strength("aaaaaaaaaaaa")[0] <= 1
    assert "Repeats" in passphrase_strength("aaaaaaaaaaaa")[1]
    assert passphrase_strength("abcdefghijkl")[0] <= 1  # a sequence
    assert passphrase_strength("password1234")[0] <= 1
    assert passphrase_strength("kq7" * 11)[0] <= 2  # a repeated chunk stays weak at any length
    assert passphrase_strength("correct horse battery staple")[0] == 4
    assert passphrase_strength("Tr0ub4dor&3xY!")[0] >= 3


@pytest.mark.parametrize("weak", ["aaaaaaaaaaaa", "abcdefghijkl", "password1234", "qwertyuiop12"])
def test_create_vault_refuses_guessable_passphrases(tmp_path, cheap_kdf, weak):
    store = SecretStore.open(vault=Vault(tmp_path / "vault.json", kdf=cheap_kdf))
    with pytest.raises(ValueError, match="too easy to guess"):
        store.create_vault(weak)
    assert not (tmp_path / "vault.json").exists()
    store.create_vault("maple quartz lantern 58")
    assert store.vault is not None and store.vault.unlocked


# -- a real Secret Service ------------------------------------------------------------------------


@pytest.mark.secret_service
def test_open_chooses_the_secret_service_and_round_trips(secret_service: KeyringDaemon, vault):
    store = SecretStore.open(vault=vault)
    assert not store.uses_vault
    assert store.backend_name.startswith("Secret Service")
    assert "answered" in store.reason
    store.set("ss-ref", CREDS)
    assert store.get("ss-ref") == CREDS
    store.delete("ss-ref")
    with pytest.raises(SecretNotFound):
        store.get("ss-ref")


@pytest.mark.secret_service
def test_accounts_over_the_secret_service(secret_service: KeyringDaemon, tmp_path, vault):
    store = AccountStore(SecretStore.open(vault=vault), tmp_path / "config")
    a = store.add("Main", "bybit", "mainnet", CREDS)
    new = Credentials("ZyXwVuTs0987654321", "n" * 36)
    b = store.rotate(a.id, new)
    assert store.credentials(b) == new
    with pytest.raises(SecretNotFound):
        store.secrets.get(a.secret_ref)
    store.remove(b.id)
    assert store.list() == []
    with pytest.raises(SecretNotFound):
        store.secrets.get(b.secret_ref)
    assert not vault.exists()


@pytest.mark.secret_service
def test_a_locked_collection_gives_a_clear_message_and_loses_nothing(
    tmp_path_factory, monkeypatch, tmp_path, vault
):
    # A daemon of its own: locking the session-wide one would disturb other tests.
    daemon = KeyringDaemon(tmp_path_factory.mktemp("locked-keyring"))
    start_or_skip(daemon)
    try:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", daemon.address)
        store = AccountStore(SecretStore.open(vault=vault), tmp_path / "config")
        account = store.add("Main", "okx", "mainnet", Credentials("k-1", "s-1", "p-1"))
        before = store.path.read_bytes()

        daemon.lock()
        locked = AccountStore(SecretStore.open(vault=vault), tmp_path / "config")
        assert not locked.secrets.uses_vault and "locked" in locked.secrets.reason
        for action in (
            lambda: locked.credentials(account),
            lambda: locked.add("Other", "okx", "mainnet", Credentials("k-2", "s-2", "p-2")),
            lambda: locked.rotate(account.id, Credentials("k-3", "s-3", "p-3")),
            lambda: locked.remove(account.id),
        ):
            with pytest.raises(KeyringLocked) as info:
                action()
            assert "unlock your login keyring" in str(info.value)
        assert store.path.read_bytes() == before

        daemon.restart_keyring(unlock=True)  # the user unlocks: everything is still there
        again = AccountStore(SecretStore.open(vault=vault), tmp_path / "config")
        assert again.list() == [account]
        assert again.credentials(account) == Credentials("k-1", "s-1", "p-1")
    finally:
        daemon.stop()
