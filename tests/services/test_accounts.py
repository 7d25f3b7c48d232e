"""AccountStore: metadata file + SecretStore, atomicity, locking, damage handling; clean_paste."""

from __future__ import annotations

import json
import os
import stat
import string
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui.services.keys.credentials import Credentials
from tui.services.store import accounts as accounts_module
from tui.services.store import doctor
from tui.services.store.accounts import AccountStore
from tui.services.store.backends import SERVICE
from tui.services.store.errors import KeyringTimeout, SecretStoreError
from tui.services.store.model import (
    Account,
    AccountError,
    AccountNotFound,
    DuplicateName,
    LastCheck,
    clean_paste,
    resolve_base_url,
    validate_name,
)
from tui.services.store.secrets import SecretStore

BYBIT = Credentials("AbCdEfGh1234567890", "S" * 36)
OKX = Credentials(
    "12345678-abcd-abcd-abcd-1234567890ab", "0123456789ABCDEF0123456789ABCDEF", "pass-phrase_1"
)


def _snapshot(store: AccountStore) -> bytes:
    return store.path.read_bytes() if store.path.exists() else b""


# -- clean_paste ----------------------------------------------------------------------------------

PRINTABLE = st.text(alphabet=string.ascii_letters + string.digits + string.punctuation, min_size=1)
EDGES = st.text(alphabet=" \t\r\n\x0b\x0c\u00a0\u2003\u3000", max_size=6)


@pytest.mark.slow
@settings(max_examples=1500)
@given(core=PRINTABLE, left=EDGES, right=EDGES)
def test_clean_paste_trims_whitespace_and_line_breaks_at_the_ends(core: str, left: str, right: str):
    assert clean_paste("API key", left + core + right) == core


@settings(max_examples=1500)
@given(value=st.text(max_size=30))
def test_clean_paste_returns_printable_ascii_or_names_the_field(value: str):
    try:
        cleaned = clean_paste("API secret", value)
    except ValueError as exc:
        assert str(exc).startswith("API secret ")
        assert "\n" not in str(exc)
        return
    assert cleaned
    assert all(33 <= ord(char) <= 126 for char in cleaned)
    assert cleaned == value.strip()
    assert clean_paste("API secret", cleaned) == cleaned  # idempotent


@settings(max_examples=1000)
@given(
    left=PRINTABLE,
    right=PRINTABLE,
    bad=st.sampled_from([" ", "\t", "\n", "\r\n", "\x00", "\x1b", "\x7f", "é", "\u200b", "\u2019"]),
)
def test_clean_paste_refuses_anything_odd_inside(left: str, right: str, bad: str):
    with pytest.raises(ValueError, match=r"^API passphrase has .* inside"):
        clean_paste("API passphrase", left + bad + right)


@pytest.mark.parametrize("value", ["", "   ", "\n\r\n", "\t"])
def test_clean_paste_refuses_empty(value: str):
    with pytest.raises(ValueError, match="API key is empty"):
        clean_paste("API key", value)


# -- validate_name / resolve_base_url -------------------------------------------------------------


def _account(name: str, account_id: str = "a1") -> Account:
    return Account(
        account_id,
        name,
        "bybit",
        "mainnet",
        "https://api.bybit.com",
        "insilico-general",
        "t",
        "t",
        "ref",
    )


def test_validate_name_trims_limits_and_compares_case_insensitively():
    assert validate_name("  Main  ") == "Main"
    assert validate_name("x" * 40) == "x" * 40
    for bad, words in (
        ("", "empty"),
        ("   ", "empty"),
        ("x" * 41, "keep it to 40"),
        ("a\nb", "line break"),
        ("a\x00b", "control"),
    ):
        with pytest.raises(ValueError, match=words):
            validate_name(bad)
    existing = [_account("Main")]
    with pytest.raises(DuplicateName, match="already exists"):
        validate_name(" MAIN ", existing)
    assert validate_name("main", existing, ignore_id="a1") == "main"  # renaming itself


def test_resolve_base_url_known_and_custom():
    assert resolve_base_url("bybit", "testnet") == "https://api-testnet.bybit.com"
    assert (
        resolve_base_url("okx", "custom", "https://Example.COM/api/") == "https://example.com/api"
    )
    assert resolve_base_url("okx", "custom", "http://127.0.0.5:8080") == "http://127.0.0.5:8080"
    assert resolve_base_url("bitget", "custom", "http://localhost:9/") == "http://localhost:9"
    assert resolve_base_url("binance", "custom", "http://[::1]:8443") == "http://[::1]:8443"


@pytest.mark.parametrize(
    ("exchange", "environment", "url", "words"),
    [
        ("bybit", "moon", None, "no environment 'moon'"),
        ("kraken", "mainnet", None, "unknown exchange"),
        ("bybit", "custom", None, "needs a base URL"),
        ("bybit", "mainnet", "https://x.example", "only be given with the custom"),
        ("bybit", "custom", "http://192.168.1.5", "must use https"),
        ("bybit", "custom", "http://example.com", "must use https"),
        ("bybit", "custom", "ftp://example.com", "must start with https"),
        ("bybit", "custom", "https://user:pw@example.com", "user name or password"),
        ("bybit", "custom", "https://example.com/?a=1", "query"),
        ("bybit", "custom", "https://exa mple.com", "spaces"),
        ("bybit", "custom", "https://", "no valid host"),
        ("bybit", "custom", "https://example.com:99999", "invalid port"),
    ],
)
def test_resolve_base_url_refuses_with_a_message(exchange, environment, url, words):
    with pytest.raises(ValueError, match=words):
        resolve_base_url(exchange, environment, url)


def test_credentials_repr_never_shows_secret_or_passphrase():
    creds = Credentials("AKEY1234567", "very-secret-value", "my-passphrase")
    for text in (repr(creds), str(creds), f"{creds}", repr([creds])):
        assert "very-secret-value" not in text
        assert "my-passphrase" not in text
        assert "AKEY1234567" not in text
        assert "AKEY" in text


# -- AccountStore basics --------------------------------------------------------------------------


def test_add_list_get_credentials_round_trip(account_store: AccountStore):
    account = account_store.add(
        "  Main  ", "bybit", "testnet", Credentials(" AbCdEfGh1234567890\n", "S" * 36)
    )
    assert account.name == "Main"
    assert account.base_url == "https://api-testnet.bybit.com"
    assert account.whitelist == "insilico-general"
    assert len(account.id) == 32
    assert account_store.list() == [account]
    assert account_store.get("main") == account
    assert account_store.get(account.id) == account
    assert account_store.credentials(account) == BYBIT  # pasted ends were trimmed
    with pytest.raises(AccountNotFound, match="no account named 'other'"):
        account_store.get("other")
    other = account_store.add(
        "Bitget", "bitget", "demo", Credentials("bg_" + "a" * 32, "b" * 64, "pp")
    )
    assert other.whitelist == "insilico-bitget"
    assert [a.name for a in account_store.list()] == ["Main", "Bitget"]


def test_a_fresh_store_reads_what_another_wrote(account_store: AccountStore, vault_secrets):
    account = account_store.add("Main", "okx", "demo", OKX)
    again = AccountStore(vault_secrets, account_store.dir)
    assert again.list() == [account]
    assert again.load_problem is None
    assert again.credentials(account) == OKX


def test_files_are_private(account_store: AccountStore):
    account_store.add("Main", "bybit", "mainnet", BYBIT)
    assert stat.S_IMODE(account_store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(account_store.dir.stat().st_mode) == 0o700
    text = account_store.path.read_text()
    assert BYBIT.secret not in text and BYBIT.api_key not in text
    for lock in account_store.dir.glob("*.lock"):
        assert stat.S_IMODE(lock.stat().st_mode) == 0o600
    assert not list(account_store.dir.glob(".*.tmp"))  # no temp file left behind


def test_the_service_modules_keep_heavy_imports_off_the_start_up_path():
    probe = (
        "import sys, tui.services.store.accounts, tui.services.store.doctor;"
        "import tui.services.store.model, tui.services.store.secrets;"
        "import tui.services.core.private_files;"
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'keyring', 'cryptography', 'filelock', 'secretstorage', 'jeepney'}))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_add_checks_its_input_before_touching_anything(account_store: AccountStore, vault_secrets):
    account_store.add("Main", "bybit", "mainnet", BYBIT)
    before = _snapshot(account_store)
    cases = [
        (("main", "bybit", "mainnet", BYBIT), DuplicateName, "already exists"),
        (("Other", "kraken", "mainnet", BYBIT), AccountError, "unknown exchange"),
        (("Other", "bybit", "moon", BYBIT), AccountError, "no environment"),
        (
            ("Other", "okx", "mainnet", Credentials("k", "s")),
            AccountError,
            "API passphrase is empty",
        ),
        (("Other", "bybit", "mainnet", Credentials("k", "s", "pp")), AccountError, "no passphrase"),
        (
            ("Other", "bybit", "mainnet", Credentials("a b", "s")),
            AccountError,
            "API key has a space",
        ),
        (("", "bybit", "mainnet", BYBIT), AccountError, "empty"),
    ]
    for args, error, words in cases:
        with pytest.raises(error, match=words):
            account_store.add(*args)
    assert _snapshot(account_store) == before
    assert len(_vault_entries(vault_secrets)) == 1


def _vault_entries(secrets: SecretStore) -> dict[str, str]:
    return dict(secrets.vault._entries().get(SERVICE, {}))


def test_add_with_custom_url_and_whitelist(account_store: AccountStore):
    account = account_store.add(
        "Local", "bybit", "custom", BYBIT, base_url="http://127.0.0.1:8999/", whitelist="my-list"
    )
    assert (account.environment, account.base_url, account.whitelist) == (
        "custom",
        "http://127.0.0.1:8999",
        "my-list",
    )


def test_update_renames_moves_and_clears_a_stale_check(account_store: AccountStore):
    a = account_store.add("Main", "bybit", "mainnet", BYBIT)
    account_store.add("Second", "bybit", "mainnet", BYBIT)
    a = account_store.record_check(a.id, LastCheck(True, "2026-01-01T00:00:00Z", "works", "ok"))
    with pytest.raises(DuplicateName):
        account_store.update(a.id, name="SECOND")
    renamed = account_store.update(a.id, name="Primary")
    assert renamed.name == "Primary" and renamed.last_check is not None  # same server: check stays
    moved = account_store.update(a.id, environment="testnet")
    assert moved.base_url == "https://api-testnet.bybit.com" and moved.last_check is None
    custom = account_store.update(a.id, base_url="https://proxy.example/bybit")
    assert (custom.environment, custom.base_url) == ("custom", "https://proxy.example/bybit")
    assert account_store.update(a.id, whitelist="other").whitelist == "other"
    with pytest.raises(AccountError, match="must use https"):
        account_store.update(a.id, base_url="http://example.com")
    assert account_store.get(a.id).base_url == "https://proxy.example/bybit"
    with pytest.raises(AccountNotFound):
        account_store.update("0" * 32, name="x")


def test_rotate_writes_a_new_ref_and_deletes_the_old(account_store: AccountStore, vault_secrets):
    a = account_store.add("Main", "okx", "mainnet", OKX)
    new = Credentials("99999999-abcd-abcd-abcd-1234567890ab", "F" * 32, "another-pass")
    b = account_store.rotate(a.id, new)
    assert b.secret_ref != a.secret_ref and b.last_check is None
    assert account_store.credentials(b) == new
    assert list(_vault_entries(vault_secrets)) == [b.secret_ref]


def test_rotate_of_an_exchange_this_keylink_does_not_know(account_store, vault_secrets):
    # accounts.json from a newer keylink (a fifth exchange) or edited by hand.
    a = account_store.add("Main", "bybit", "mainnet", BYBIT)
    doc = json.loads(account_store.path.read_text())
    doc["accounts"][0]["exchange"] = "kraken"
    account_store.path.write_text(json.dumps(doc))
    with pytest.raises(AccountError, match="kraken"):
        account_store.rotate(a.id, BYBIT)
    assert list(_vault_entries(vault_secrets)) == [a.secret_ref]  # nothing new was stored


def test_remove_deletes_secret_and_metadata(account_store: AccountStore, vault_secrets):
    a = account_store.add("Main", "bybit", "mainnet", BYBIT)
    b = account_store.add("Other", "bybit", "mainnet", BYBIT)
    account_store.remove(a.id)
    assert account_store.list() == [b]
    assert list(_vault_entries(vault_secrets)) == [b.secret_ref]
    with pytest.raises(AccountNotFound):
        account_store.remove(a.id)


def test_record_check_is_kept(account_store: AccountStore, vault_secrets):
    a = account_store.add("Main", "bybit", "mainnet", BYBIT)
    check = LastCheck(False, "2026-01-01T00:00:00Z", "refused:\nsignature error", "error")
    account_store.record_check(a.id, check)
    stored = AccountStore(vault_secrets, account_store.dir).get(a.id).last_check
    assert stored == LastCheck(False, "2026-01-01T00:00:00Z", "refused: signature error", "error")
    with pytest.raises(AccountError, match="unknown check level"):
        account_store.record_check(a.id, LastCheck(True, "t", "x", "great"))


# -- damaged / foreign files ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b"\xff\xfe",
        b"[]",
        b'{"version": 1}',
        b'{"version": 1, "accounts": [{"id": 3}]}',
        b'{"version": 1, "accounts": [{"id": "x"}]}',
        b"",
        b"[" * 200_000,  # json.loads raises RecursionError, not ValueError, for this
        b'{"version": 1, "accounts": ' + b"[" * 200_000 + b"]" * 200_000 + b"}",
    ],
    ids=lambda content: repr(content[:40]),
)
def test_damaged_metadata_is_moved_aside_and_the_store_opens_empty(
    tmp_path, vault_secrets, content
):
    config = tmp_path / "config"
    config.mkdir()
    (config / "accounts.json").write_bytes(content)
    store = AccountStore(vault_secrets, config)
    assert store.load_problem is not None
    aside = list(config.glob("accounts.json.damaged-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == content
    assert str(aside[0]) in store.load_problem
    assert store.list() == []
    store.add("Main", "bybit", "mainnet", BYBIT)  # and it keeps working
    assert [a.name for a in AccountStore(vault_secrets, config).list()] == ["Main"]


def test_file_from_a_newer_keylink_is_left_alone(tmp_path, vault_secrets):
    config = tmp_path / "config"
    config.mkdir()
    content = b'{"version": 99, "accounts": "who knows"}'
    (config / "accounts.json").write_bytes(content)
    store = AccountStore(vault_secrets, config)
    assert "newer keylink" in (store.load_problem or "")
    with pytest.raises(AccountError, match="newer keylink"):
        store.add("Main", "bybit", "mainnet", BYBIT)
    assert (config / "accounts.json").read_bytes() == content
    assert _vault_entries(vault_secrets) == {}  # the secret written first was taken back


# -- two instances / processes --------------------------------------------------------------------


def test_two_stores_on_one_dir_interleave_without_losing_anything(account_store, vault_secrets):
    other = AccountStore(vault_secrets, account_store.dir)
    a = account_store.add("A", "bybit", "mainnet", BYBIT)
    b = other.add("B", "bybit", "mainnet", BYBIT)
    account_store.update(b.id, name="B2")  # a store that never saw B can still change it
    other.rotate(a.id, Credentials("k2", "s2"))
    with pytest.raises(DuplicateName):
        other.add("a", "bybit", "mainnet", BYBIT)
    assert [x.name for x in account_store.list()] == ["A", "B2"]
    assert account_store.credentials(account_store.get("A")) == Credentials("k2", "s2")


def test_threads_adding_through_separate_stores_lose_nothing(account_store, vault_secrets):
    stores = [AccountStore(vault_secrets, account_store.dir) for _ in range(4)]
    errors: list[BaseException] = []

    def work(index: int, store: AccountStore) -> None:
        try:
            for n in range(5):
                store.add(f"t{index}-{n}", "bybit", "mainnet", BYBIT)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i, s)) for i, s in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(account_store.list()) == 20
    assert len(_vault_entries(vault_secrets)) == 20


_ADDER = """
import sys
from pathlib import Path
from tui.services.keys.credentials import Credentials
from tui.services.store.accounts import AccountStore
from tui.services.store.secrets import SecretStore
from tui.services.store.vault import ScryptParams, Vault
vault = Vault(Path(sys.argv[1]), kdf=ScryptParams(8, 8, 1))
secrets = SecretStore.open(vault=vault)
secrets.unlock(sys.argv[3])
store = AccountStore(secrets, Path(sys.argv[2]))
for n in range(6):
    store.add(f"{sys.argv[4]}-{n}", "bybit", "mainnet", Credentials("key" + sys.argv[4], "sec"))
"""


def test_two_processes_adding_at_once_lose_nothing(account_store, vault_secrets):
    from tests.conftest import TEST_VAULT_PASSPHRASE

    env = {**os.environ, "KEYLINK_SECRET_BACKEND": "vault"}
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                _ADDER,
                str(vault_secrets.vault.path),
                str(account_store.dir),
                TEST_VAULT_PASSPHRASE,
                tag,
            ],
            env=env,
        )
        for tag in ("p", "q")
    ]
    assert [proc.wait(60) for proc in procs] == [0, 0]
    names = sorted(a.name for a in account_store.list())
    assert names == sorted(f"{t}-{n}" for t in "pq" for n in range(6))
    assert len(_vault_entries(vault_secrets)) == 12
    for account in account_store.list():
        assert account_store.credentials(account).api_key == "key" + account.name[0]


# -- faults injected into the secret store --------------------------------------------------------


@pytest.fixture
def faulty(tmp_path, memory_keyring, memory_secrets):
    """(store, backend) with two accounts already saved."""
    store = AccountStore(memory_secrets, tmp_path / "config")
    store.add("Main", "bybit", "mainnet", BYBIT)
    store.add("Okx", "okx", "mainnet", OKX)
    return store, memory_keyring


def _assert_intact(store: AccountStore, backend, before: bytes, entries: dict) -> None:
    assert _snapshot(store) == before
    assert backend.entries == entries
    assert [a.name for a in store.list()] == ["Main", "Okx"]


@pytest.mark.parametrize("mode", ["fail", "hang"])
def test_add_when_the_keyring_fails_or_hangs(faulty, mode):
    store, backend = faulty
    before, entries = _snapshot(store), dict(backend.entries)
    getattr(backend, mode).add("set")
    error = KeyringTimeout if mode == "hang" else SecretStoreError
    with pytest.raises(error) as info:
        store.add("New", "okx", "mainnet", Credentials("k", "TOPSECRET-VALUE", "TOPPASS-VALUE"))
    message = str(info.value)
    assert "TOPSECRET" not in message and "TOPPASS" not in message and "\n" not in message
    if mode == "hang":
        assert "did not answer within 0.5 s" in message and "unlock" in message
    else:
        assert "test keyring failed to save a secret: KeyringError" in message
    _assert_intact(store, backend, before, entries)


@pytest.mark.parametrize("mode", ["fail", "hang"])
def test_rotate_when_the_keyring_fails_or_hangs(faulty, mode):
    store, backend = faulty
    before, entries = _snapshot(store), dict(backend.entries)
    getattr(backend, mode).add("set")
    with pytest.raises(SecretStoreError):
        store.rotate(store.get("Main").id, Credentials("k2", "s2"))
    _assert_intact(store, backend, before, entries)
    assert store.credentials(store.get("Main")) == BYBIT


@pytest.mark.parametrize("mode", ["fail", "hang"])
def test_remove_when_the_keyring_fails_or_hangs(faulty, mode):
    """An error keylink cannot read, or no answer in time, may come after the delete (a hung
    delete here lands once released): the account keeps its removal mark and is not used;
    removing it again once the keyring answers finishes it."""
    store, backend = faulty
    main = store.get("Main")
    getattr(backend, mode).add("delete")
    with pytest.raises(SecretStoreError, match="marked as being removed"):
        store.remove(main.id)
    assert store.get("Main").removing is not None
    assert [a.name for a in store.list()] == ["Main", "Okx"]
    with pytest.raises(SecretStoreError, match="cut short"):
        store.credentials(main)
    getattr(backend, mode).discard("delete")
    backend.release()
    store.remove(main.id)
    assert [a.name for a in store.list()] == ["Okx"]
    assert (SERVICE, main.secret_ref) not in backend.entries


def test_remove_when_the_keyring_is_locked_changes_nothing(faulty):
    """A locked keyring deletes nothing: the mark is taken back and all stays as it was."""
    store, backend = faulty
    before, entries = _snapshot(store), dict(backend.entries)
    real = store.secrets._call

    def locked(what, *args, **kwargs):
        from tui.services.store.errors import KeyringLocked

        if what == "delete a secret":
            raise KeyringLocked("the keyring is locked")
        return real(what, *args, **kwargs)

    store.secrets._call = locked  # type: ignore[method-assign]
    try:
        with pytest.raises(SecretStoreError, match="locked"):
            store.remove(store.get("Main").id)
    finally:
        store.secrets._call = real  # type: ignore[method-assign]
    _assert_intact(store, backend, before, entries)


def test_remove_with_force_drops_metadata_when_the_keyring_is_gone(faulty):
    store, backend = faulty
    backend.fail.add("delete")
    store.remove(store.get("Main").id, force=True)
    assert [a.name for a in store.list()] == ["Okx"]


def test_remove_tolerates_an_already_missing_secret(faulty):
    store, backend = faulty
    account = store.get("Main")
    del backend.entries[(SERVICE, account.secret_ref)]
    store.remove(account.id)
    assert [a.name for a in store.list()] == ["Okx"]


def test_reading_credentials_when_the_keyring_fails(faulty):
    store, backend = faulty
    backend.fail.add("get")
    with pytest.raises(SecretStoreError, match="failed to read a secret"):
        store.credentials(store.get("Main"))
    backend.fail.clear()
    assert store.credentials(store.get("Main")) == BYBIT


def _disk_full(path: Path, data: bytes) -> None:
    raise OSError(28, "No space left on device")


def test_add_takes_the_secret_back_when_metadata_cannot_be_written(faulty, monkeypatch):
    store, backend = faulty
    before, entries = _snapshot(store), dict(backend.entries)
    monkeypatch.setattr(accounts_module, "atomic_write", _disk_full)  # a full disk cannot run here
    with pytest.raises(AccountError, match="No space left on device; nothing was changed"):
        store.add("New", "bybit", "mainnet", BYBIT)
    assert backend.calls[-2:] == ["set", "delete"]
    _assert_intact(store, backend, before, entries)


def test_rotate_keeps_the_old_secret_when_metadata_cannot_be_written(faulty, monkeypatch):
    store, backend = faulty
    before, entries = _snapshot(store), dict(backend.entries)
    monkeypatch.setattr(accounts_module, "atomic_write", _disk_full)
    with pytest.raises(AccountError):
        store.rotate(store.get("Main").id, Credentials("k2", "s2"))
    monkeypatch.undo()
    _assert_intact(store, backend, before, entries)
    assert store.credentials(store.get("Main")) == BYBIT


def test_rotate_survives_a_failing_delete_of_the_old_secret(faulty):
    store, backend = faulty
    old = store.get("Main")
    backend.fail.add("delete")
    new = store.rotate(old.id, Credentials("k2", "s2"))
    backend.fail.clear()
    assert store.credentials(new) == Credentials("k2", "s2")
    assert (SERVICE, old.secret_ref) in backend.entries  # an orphan, never a dangling reference


def test_the_fail_backend_gives_a_clear_message_and_changes_nothing(tmp_path):
    from keyring.backends import fail

    secrets = SecretStore(fail.Keyring(), backend_name="fail Keyring", reason="test", timeout=1)
    store = AccountStore(secrets, tmp_path / "config")
    with pytest.raises(SecretStoreError, match=r"no usable keyring .*KEYLINK_SECRET_BACKEND=vault"):
        store.add("Main", "bybit", "mainnet", BYBIT)
    assert store.list() == [] and not store.path.exists()


def test_a_locked_vault_refuses_and_changes_nothing(account_store, vault_secrets):
    account_store.add("Main", "bybit", "mainnet", BYBIT)
    before = _snapshot(account_store)
    vault_secrets.vault.lock()
    from tui.services.store.errors import VaultLocked

    with pytest.raises(VaultLocked, match="enter its passphrase"):
        account_store.add("Other", "bybit", "mainnet", BYBIT)
    with pytest.raises(VaultLocked):
        account_store.remove(account_store.get("Main").id)
    assert _snapshot(account_store) == before
    assert json.loads(before)["accounts"][0]["name"] == "Main"


@pytest.mark.parametrize("action", ["add", "rotate"])
def test_a_save_that_answers_after_the_timeout_is_taken_back(faulty, action):
    store, backend = faulty
    entries = dict(backend.entries)
    backend.hang.add("set")
    with pytest.raises(KeyringTimeout):
        if action == "add":
            store.add("Late", "bybit", "mainnet", BYBIT)
        else:
            store.rotate(store.get("Main").id, Credentials("k2", "s2"))
    backend.hang.clear()
    backend.release()  # the keyring finally answers: the late write is deleted again
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not (
        backend.calls[-1] == "delete" and backend.entries == entries
    ):
        time.sleep(0.02)
    assert backend.calls[-2:] == ["set", "delete"]
    assert backend.entries == entries
    assert store.credentials(store.get("Main")) == BYBIT


def test_a_held_accounts_lock_gives_a_clear_message(account_store, monkeypatch):
    from filelock import FileLock

    account_store.add("Main", "bybit", "mainnet", BYBIT)
    before = _snapshot(account_store)
    monkeypatch.setattr(accounts_module, "_LOCK_TIMEOUT", 0.2)
    outcome: list[BaseException] = []

    def attempt() -> None:
        try:
            account_store.add("Other", "bybit", "mainnet", BYBIT)
        except BaseException as exc:
            outcome.append(exc)

    with FileLock(str(account_store.path) + ".lock"):  # another keylink in the middle of a save
        worker = threading.Thread(target=attempt)
        worker.start()
        worker.join(10)
    assert len(outcome) == 1 and isinstance(outcome[0], AccountError)
    assert "another keylink has been saving accounts for 0.2 s" in str(outcome[0])
    assert _snapshot(account_store) == before
    assert [a.name for a in account_store.list()] == ["Main"]


@pytest.mark.parametrize("action", ["add", "rotate"])
def test_ctrl_c_just_after_the_secret_is_written_leaves_no_orphan(account_store, vault_secrets,
                                                                    monkeypatch, action):
    # A Ctrl-C that lands the moment the vault write returns, before the commit: it is held until
    # the commit (or its rollback) is done, then delivered. Before, it left a saved secret that no
    # account pointed at (4 of 40 interrupted adds).
    import signal

    existing = account_store.add("Old", "bybit", "mainnet", BYBIT)
    real_set = vault_secrets.set

    def set_then_ctrl_c(ref, creds):
        real_set(ref, creds)
        os.kill(os.getpid(), signal.SIGINT)  # delivered to this (the main) thread

    monkeypatch.setattr(vault_secrets, "set", set_then_ctrl_c)
    new = Credentials("NeWkEy1234567890ab", "N" * 36)
    with pytest.raises(KeyboardInterrupt):
        if action == "add":
            account_store.add("New", "bybit", "mainnet", new)
        else:
            account_store.rotate(existing.id, new)
    monkeypatch.undo()
    accounts = account_store.list()
    refs = set(vault_secrets.refs() or [])
    assert refs == {a.secret_ref for a in accounts}  # no orphan, no account without its secret
    if action == "add":
        assert [a.name for a in accounts] == ["Old", "New"]  # held past the commit, then raised
    assert account_store.credentials(accounts[-1]) == new


def _damage_and_reopen(account_store, vault_secrets, tail: bytes = b"") -> AccountStore:
    """accounts.json loses its closing brace (plus ``tail``); a new store moves it aside."""
    path = account_store.path
    path.write_bytes(path.read_bytes().rstrip()[:-1] + tail)
    store = AccountStore(vault_secrets, account_store.dir)
    assert store.load_problem is not None and "keylink doctor" in store.load_problem
    return store


def test_a_moved_aside_file_keeps_its_secrets_through_audit_and_repair(account_store,
                                                                      vault_secrets):
    main = account_store.add("Main", "bybit", "mainnet", BYBIT)
    spare = account_store.add("Spare", "bybit", "mainnet", BYBIT)
    store = _damage_and_reopen(account_store, vault_secrets)
    vault_secrets.set("account-gone-1", BYBIT)  # a real orphan
    health = doctor.audit(store)
    [aside] = health.moved_aside
    assert not aside.readable and "line" in (aside.problem or "")
    assert health.orphaned_secrets is None
    done = doctor.repair(store)
    assert done.orphaned_secrets == 0 and done.secrets_kept is not None
    assert {main.secret_ref, spare.secret_ref, "account-gone-1"} <= set(vault_secrets.refs())
    # Readable (fixed by hand): what it names is kept, only the real orphan goes.
    aside.path.write_bytes(aside.path.read_bytes() + b"}")
    health = doctor.audit(store)
    assert health.orphaned_secrets == ["account-gone-1"]
    assert sorted(health.moved_aside[0].names or []) == ["Main", "Spare"]
    assert doctor.repair(store).orphaned_secrets == 1
    assert set(vault_secrets.refs()) == {main.secret_ref, spare.secret_ref}
    done = doctor.restore(store, aside.path)
    assert done.restored == ["Main", "Spare"] and done.kept_as.exists()
    assert store.credentials(store.get("Spare")) == BYBIT
    assert doctor.audit(store).moved_aside == []


def test_an_entry_without_a_readable_ref_keeps_every_secret(account_store, vault_secrets):
    account_store.add("Main", "bybit", "mainnet", BYBIT)
    doc = json.loads(account_store.path.read_text())
    doc["accounts"][0]["secret_rf"] = doc["accounts"][0].pop("secret_ref")  # one damaged key
    account_store.path.write_text(json.dumps(doc))
    store = AccountStore(vault_secrets, account_store.dir)
    assert store.list() == [] and doctor.audit(store).orphaned_secrets is None
    assert doctor.repair(store).orphaned_secrets == 0
    assert len(vault_secrets.refs()) == 1


def test_a_read_asked_not_to_move_aside_leaves_the_file(account_store, vault_secrets):
    from tui.services.store.model import AccountsUnreadable

    account_store.add("Main", "bybit", "mainnet", BYBIT)
    path = account_store.path
    half = path.read_bytes()[:40]
    path.write_bytes(half)
    with pytest.raises(AccountsUnreadable, match="cannot be read"):
        account_store.list(move_aside=False)
    assert path.read_bytes() == half
    assert list(account_store.dir.glob("accounts.json.damaged-*")) == []
