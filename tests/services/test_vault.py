"""The encrypted vault: round trip, wrong passphrase vs damage, concurrency, mode, no plaintext."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import stat
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import TEST_VAULT_PASSPHRASE
from tui.services.store.vault import (
    ScryptParams,
    Vault,
    VaultDamagedError,
    VaultError,
    VaultKeyring,
    VaultLockedError,
    VaultMissingError,
    VaultPassphraseError,
)

PASSPHRASE = "a long vault passphrase"
SECRET = "Zq8-unique-secret-value-Xw3"


@pytest.fixture
def vault(tmp_path: Path, cheap_kdf: ScryptParams) -> Vault:
    v = Vault(tmp_path / "data" / "vault.json", kdf=cheap_kdf)
    v.create(PASSPHRASE)
    v.set("keylink", "a", SECRET)
    v.set("keylink", "b", "second")
    return v


def _reopen(v: Vault) -> Vault:
    return Vault(v.path)


def test_round_trip_across_instances(vault: Vault):
    other = _reopen(vault)
    assert not other.unlocked
    with pytest.raises(VaultLockedError, match="locked"):
        other.get("keylink", "a")
    other.unlock(PASSPHRASE)
    assert other.get("keylink", "a") == SECRET
    assert other.get("keylink", "b") == "second"
    assert other.get("keylink", "missing") is None
    assert other.get("other-service", "a") is None
    other.delete("keylink", "a")
    with pytest.raises(KeyError):
        other.delete("keylink", "a")
    vault_again = _reopen(vault)
    vault_again.unlock(PASSPHRASE)
    assert vault_again.get("keylink", "a") is None
    assert vault_again.get("keylink", "b") == "second"


def test_file_is_private_and_holds_no_plaintext(vault: Vault):
    assert stat.S_IMODE(vault.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(vault.path.parent.stat().st_mode) == 0o700
    raw = vault.path.read_bytes()
    for needle in (SECRET, "second", PASSPHRASE, "entries"):
        assert needle.encode() not in raw
        assert base64.b64encode(needle.encode()) not in raw
    assert not [p for p in vault.path.parent.iterdir() if p.name.endswith(".tmp")]


def test_every_write_uses_a_fresh_nonce(vault: Vault):
    nonces = set()
    for n in range(20):
        vault.set("keylink", "n", str(n))
        nonces.add(json.loads(vault.path.read_text())["nonce"])
    assert len(nonces) == 20


def test_wrong_passphrase_is_told_apart_and_changes_nothing(vault: Vault):
    before = vault.path.read_bytes()
    other = _reopen(vault)
    with pytest.raises(VaultPassphraseError, match="wrong vault passphrase"):
        other.unlock(PASSPHRASE + "x")
    assert not other.unlocked
    assert vault.path.read_bytes() == before


# A byte that is not UTF-8 in KEYLINK_VAULT_PASSPHRASE reaches Python as a lone surrogate.
UNENCODABLE = "a long vault \udcffpassphrase"


def test_a_passphrase_that_is_not_text_is_wrong_never_damage(vault):
    before = vault.path.read_bytes()
    with pytest.raises(VaultPassphraseError):
        _reopen(vault).unlock(UNENCODABLE)
    assert vault.path.read_bytes() == before


def test_create_refuses_a_passphrase_that_is_not_text_without_quoting_it(tmp_path, cheap_kdf):
    v = Vault(tmp_path / "new" / "vault.json", kdf=cheap_kdf)
    with pytest.raises(ValueError) as info:
        v.create(UNENCODABLE)
    assert "\udcff" not in str(info.value) and "position" not in str(info.value)
    assert "UTF-8" in str(info.value)
    assert not v.exists()


def test_create_refuses_short_passphrase_and_an_existing_vault(tmp_path, cheap_kdf, vault):
    with pytest.raises(ValueError, match="at least 12"):
        Vault(tmp_path / "new.json", kdf=cheap_kdf).create("short")
    before = vault.path.read_bytes()
    with pytest.raises(VaultError, match="just now with another passphrase"):
        Vault(vault.path, kdf=cheap_kdf).create("another long passphrase")
    assert vault.path.read_bytes() == before
    # The same passphrase shares the vault that is there (two first runs at once).
    second = Vault(vault.path, kdf=cheap_kdf)
    second.create(PASSPHRASE)
    assert second.unlocked and vault.path.read_bytes() == before


def test_a_vault_dir_that_cannot_be_made_is_a_vault_error(tmp_path, cheap_kdf):
    # E.g. XDG_DATA_HOME names a file: mkdir raises NotADirectoryError, an OSError.
    (tmp_path / "file").write_text("")
    v = Vault(tmp_path / "file" / "keylink" / "vault.json", kdf=cheap_kdf)
    with pytest.raises(VaultError, match="Not a directory"):
        v.create(PASSPHRASE)
    assert not v.unlocked


def test_missing_vault(tmp_path):
    v = Vault(tmp_path / "none.json")
    assert not v.exists()
    with pytest.raises(VaultMissingError):
        v.unlock(PASSPHRASE)


def _flip(raw: bytes, index: int, mask: int = 0x01) -> bytes:
    data = bytearray(raw)
    data[index] ^= mask
    return bytes(data)


def _unlock_outcome(path: Path) -> str:
    try:
        Vault(path).unlock(PASSPHRASE)
    except VaultDamagedError:
        return "damaged"
    except VaultPassphraseError:
        return "wrong passphrase"
    return "opened"


@pytest.mark.parametrize("mask", [0x01, 0x20, 0x80])
def test_any_flipped_byte_anywhere_is_damage_never_a_wrong_passphrase(vault: Vault, mask: int):
    original = vault.path.read_bytes()
    outcomes = {}
    for index in range(len(original)):
        vault.path.write_bytes(_flip(original, index, mask))
        outcomes[index] = _unlock_outcome(vault.path)
        assert vault.path.read_bytes() == _flip(original, index, mask)  # never rewritten
    assert set(outcomes.values()) == {"damaged"}, {
        i: o for i, o in outcomes.items() if o != "damaged"
    }


def _rewrite_field(path: Path, field: str, change) -> None:
    doc = json.loads(path.read_text())
    raw = base64.b64decode(doc[field])
    doc[field] = base64.b64encode(change(raw)).decode()
    path.write_text(json.dumps(doc, separators=(",", ":")))


@pytest.mark.parametrize(
    ("field", "position"),
    [("ciphertext", 0), ("ciphertext", -17), ("ciphertext", -1), ("nonce", 0), ("nonce", -1)],
    ids=["ciphertext-start", "ciphertext-end", "tag", "nonce-start", "nonce-end"],
)
def test_a_flipped_bit_in_decoded_ciphertext_nonce_or_tag_is_damage(vault, field, position):
    _rewrite_field(vault.path, field, lambda raw: _flip(raw, position % len(raw)))
    with pytest.raises(VaultDamagedError, match="passphrase is right but the contents fail"):
        _reopen(vault).unlock(PASSPHRASE)


def test_a_changed_header_value_is_damage(vault):
    doc = json.loads(vault.path.read_text())
    doc["header"]["salt"] = base64.b64encode(b"\0" * 16).decode()
    vault.path.write_text(json.dumps(doc))
    with pytest.raises(VaultDamagedError, match="checksum"):
        _reopen(vault).unlock(PASSPHRASE)


@pytest.mark.parametrize("keep", [0, 1, 10, 100, -40, -1])
def test_truncated_file_is_damage(vault, keep):
    raw = vault.path.read_bytes()
    vault.path.write_bytes(raw[:keep])
    with pytest.raises(VaultDamagedError):
        _reopen(vault).unlock(PASSPHRASE)


@pytest.mark.parametrize("content", [b"[" * 200_000, b'{"keylink_vault": ' + b"[" * 200_000],
                         ids=["array", "in-object"])
def test_a_file_nested_too_deeply_for_the_parser_is_damage(vault, content):
    vault.path.write_bytes(content)
    with pytest.raises(VaultDamagedError):
        _reopen(vault).unlock(PASSPHRASE)
    assert vault.path.read_bytes() == content


def set_header_cost(path: Path, n: int, r: int, p: int) -> bytes:
    """Rewrite a vault's scrypt cost (with a matching header checksum); the new bytes."""
    import hashlib

    doc = json.loads(path.read_text())
    doc["header"].update(n=n, r=r, p=p)
    canonical = json.dumps(doc["header"], sort_keys=True, separators=(",", ":")).encode()
    doc["header_sha256"] = hashlib.sha256(canonical).hexdigest()
    path.write_text(json.dumps(doc))
    return path.read_bytes()


@pytest.mark.parametrize(("n", "r", "p"), [
    (2**30, 8, 1),    # past any cap
    (2**20, 8, 16),   # 1 GiB, 16 passes: once accepted, 30 s and then a keyring "timeout"
    (2**18, 16, 1),   # 512 MiB: once accepted
    (2**17, 8, 8),    # 8 times the default's work: once accepted
    (2**17, 1024, 1),  # r huge
])
def test_hostile_kdf_cost_in_header_is_refused_before_deriving(vault, n, r, p):
    import time

    content = set_header_cost(vault.path, n, r, p)
    start = time.monotonic()
    with pytest.raises(VaultDamagedError) as caught:
        _reopen(vault).unlock(PASSPHRASE)
    assert time.monotonic() - start < 1.0  # refused from the header, scrypt never ran
    message = str(caught.value)
    assert "impossible" in message or "more key-derivation work than keylink ever writes" in message
    assert "keyring" not in message.lower()
    assert vault.path.read_bytes() == content


def test_the_kdf_cap_allows_what_keylink_writes_with_headroom():
    ScryptParams()  # what keylink writes
    ScryptParams(log2_n=18, r=8, p=1)  # a default twice as hard
    ScryptParams(log2_n=17, r=8, p=4)
    with pytest.raises(ValueError, match="too much work"):
        ScryptParams(log2_n=18, r=8, p=4)
    with pytest.raises(ValueError, match="too much memory"):
        ScryptParams(log2_n=19, r=8, p=1)


def test_a_hostile_header_through_the_secret_store_names_the_vault_not_the_keyring(
        vault_secrets):
    import time

    from tui.services.store.errors import VaultDamaged
    from tui.services.store.secrets import SecretStore
    from tui.services.store.vault import Vault

    path = vault_secrets.vault.path
    content = set_header_cost(path, 2**20, 8, 16)
    store = SecretStore.open(vault=Vault(path))
    start = time.monotonic()
    with pytest.raises(VaultDamaged) as caught:
        store.unlock(TEST_VAULT_PASSPHRASE)
    assert time.monotonic() - start < 1.0
    message = str(caught.value)
    assert str(path) in message and "more key-derivation work" in message
    assert "may have been tampered with" in message
    assert "keyring" not in message.lower()
    assert path.read_bytes() == content


def test_a_vault_replaced_by_another_passphrase_asks_to_unlock_again(vault, cheap_kdf):
    vault.path.unlink()
    Vault(vault.path, kdf=cheap_kdf).create("a different passphrase")
    with pytest.raises(VaultLockedError, match="replaced"):
        vault.get("keylink", "a")
    assert not vault.unlocked


def test_two_writers_in_threads_both_survive(vault):
    writers = [_reopen(vault) for _ in range(2)]
    for writer in writers:
        writer.unlock(PASSPHRASE)
    errors: list[BaseException] = []

    def write(index: int, writer: Vault) -> None:
        try:
            for n in range(15):
                writer.set("keylink", f"w{index}-{n}", f"value-{index}-{n}")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i, w)) for i, w in enumerate(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    check = _reopen(vault)
    check.unlock(PASSPHRASE)
    for index in range(2):
        for n in range(15):
            assert check.get("keylink", f"w{index}-{n}") == f"value-{index}-{n}"


_WRITER = """
import sys
from pathlib import Path
from tui.services.store.vault import Vault
v = Vault(Path(sys.argv[1]))
v.unlock(sys.argv[2])
for n in range(15):
    v.set("keylink", f"{sys.argv[3]}-{n}", "x")
"""


def test_two_writer_processes_both_survive(vault):
    procs = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(vault.path), PASSPHRASE, tag])
        for tag in ("p", "q")
    ]
    assert [proc.wait(60) for proc in procs] == [0, 0]
    check = _reopen(vault)
    check.unlock(PASSPHRASE)
    assert all(check.get("keylink", f"{t}-{n}") == "x" for t in "pq" for n in range(15))


def test_default_kdf_cost_is_strong_and_recorded_in_the_header(tmp_path):
    v = Vault(tmp_path / "vault.json")  # production parameters, once
    v.create(PASSPHRASE)
    header = json.loads(v.path.read_text())["header"]
    assert (header["kdf"], header["n"], header["r"], header["p"]) == ("scrypt", 2**17, 8, 1)
    assert len(base64.b64decode(header["salt"])) == 16
    other = Vault(v.path)
    other.unlock(PASSPHRASE)
    assert other.get("keylink", "x") is None


def test_salt_differs_between_vaults(tmp_path, cheap_kdf):
    salts = set()
    for n in range(3):
        v = Vault(tmp_path / f"v{n}.json", kdf=cheap_kdf)
        v.create(PASSPHRASE)
        salts.add(json.loads(v.path.read_text())["header"]["salt"])
    assert len(salts) == 3


def test_scrypt_params_are_bounded():
    with pytest.raises(ValueError):
        ScryptParams(log2_n=30)
    with pytest.raises(ValueError):
        ScryptParams(log2_n=0)
    with pytest.raises(ValueError, match="too much memory"):
        ScryptParams(log2_n=20, r=16)
    assert 128 * ScryptParams().r * 2 ** ScryptParams().log2_n == 128 * 2**20


def test_vault_keyring_is_a_keyring_backend_over_the_vault(vault):
    from keyring.errors import PasswordDeleteError

    backend = VaultKeyring(vault)
    backend.set_password("svc", "user", "pw")
    assert backend.get_password("svc", "user") == "pw"
    backend.delete_password("svc", "user")
    assert backend.get_password("svc", "user") is None
    with pytest.raises(PasswordDeleteError):
        backend.delete_password("svc", "user")
    assert "unlocked" in repr(vault) and SECRET not in repr(vault)


def test_keyring_never_picks_the_vault_on_its_own():
    from keyring.backend import get_all_keyring
    from keyring.backends import chainer

    assert VaultKeyring.priority < 0  # below keyring's fail backend
    with contextlib.suppress(KeyError):
        get_all_keyring.reset()  # keyring caches the list from before this module was imported
    assert not any(isinstance(b, VaultKeyring) for b in chainer.ChainerBackend.backends)
    assert any(isinstance(b, VaultKeyring) for b in get_all_keyring())  # but it is loadable


@settings(max_examples=150, deadline=None)
@given(
    entries=st.dictionaries(
        st.tuples(st.text(min_size=1, max_size=20), st.text(min_size=1, max_size=40)),
        st.text(max_size=200),
        max_size=5,
    )
)
def test_any_entries_round_trip(entries):
    with tempfile.TemporaryDirectory() as tmp:
        writer = Vault(Path(tmp) / "vault.json", kdf=ScryptParams(4, 8, 1))
        writer.create(PASSPHRASE)
        for (service, username), password in entries.items():
            writer.set(service, username, password)
        reader = Vault(writer.path)
        reader.unlock(PASSPHRASE)
        for (service, username), password in entries.items():
            assert reader.get(service, username) == password


# -- rollback, size cap, parallel first runs -------------------------------------------------------


def test_an_older_vault_copied_back_is_refused_not_used(tmp_path, cheap_kdf):
    from tui.services.keys.credentials import Credentials
    from tui.services.store.accounts import AccountStore
    from tui.services.store.errors import VaultDamaged
    from tui.services.store.secrets import SecretStore

    path = tmp_path / "data" / "vault.json"
    secrets = SecretStore.open(vault=Vault(path, kdf=cheap_kdf))
    secrets.create_vault(PASSPHRASE)
    store = AccountStore(secrets, tmp_path / "config")
    store.add("Main", "bybit", "mainnet", Credentials("AbCdEfGh1234567890", "S" * 36))
    old_copy = path.read_bytes()  # a backup taken with Main's first key
    store.rotate(store.get("Main").id, Credentials("ZyXwVuTs0987654321", "T" * 36))
    store.add("Second", "bybit", "mainnet", Credentials("QwErTyUi1234567890", "U" * 36))
    path.write_bytes(old_copy)  # the old vault put back: it opens, and AEAD accepts it

    fresh = SecretStore.open(vault=Vault(path))
    fresh.unlock(PASSPHRASE)
    reopened = AccountStore(fresh, tmp_path / "config")
    with pytest.raises(VaultDamaged, match="older copy was put back"):
        reopened.credentials(reopened.get("Main"))
    with pytest.raises(VaultDamaged, match="older copy"):
        reopened.add("Third", "bybit", "mainnet", Credentials("AsDfGhJk1234567890", "V" * 36))
    assert path.read_bytes() == old_copy  # refused, never rewritten
    assert [a.name for a in reopened.list()] == ["Main", "Second"]
    # Moving the old vault aside and starting a new one (what the message offers) is not a
    # rollback: the new vault has its own id and count.
    path.rename(path.with_name("vault.json.old"))
    new = SecretStore.open(vault=Vault(path, kdf=cheap_kdf))
    new.create_vault(PASSPHRASE)
    restarted = AccountStore(new, tmp_path / "config")
    restarted.remove(restarted.get("Main").id, force=True)
    added = restarted.add("Third", "bybit", "mainnet", Credentials("AsDfGhJk1234567890", "V" * 36))
    assert restarted.credentials(added).secret == "V" * 36


def test_the_generation_counts_writes_inside_the_ciphertext(vault):
    start = vault.generation
    vault.set("keylink", "c", "third")
    assert vault.generation == start + 1
    other = _reopen(vault)
    other.unlock(PASSPHRASE)
    assert other.generation == start + 1
    assert b"generation" not in vault.path.read_bytes()  # encrypted, so it cannot be edited


def test_a_huge_vault_file_is_refused_before_reading(tmp_path):
    path = tmp_path / "vault.json"
    with path.open("wb") as handle:
        handle.truncate(4 * 2**30)  # 4 GiB, sparse
    with pytest.raises(VaultDamagedError, match="more than keylink's limit"):
        Vault(path).unlock(PASSPHRASE)


def test_a_vault_that_is_a_fifo_or_a_link_is_refused(tmp_path, vault):
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    with pytest.raises(VaultDamagedError, match="not a regular file"):
        Vault(fifo).unlock(PASSPHRASE)
    link = tmp_path / "link.json"
    link.symlink_to(vault.path)
    with pytest.raises(VaultDamagedError, match="symbolic link"):
        Vault(link).unlock(PASSPHRASE)


def _create_at(path: str, passphrase: str, start: float) -> str:
    import time as _time

    from tui.services.store.vault import ScryptParams

    while _time.time() < start:
        _time.sleep(0.001)
    vault = Vault(Path(path), kdf=ScryptParams(8, 8, 1))
    try:
        vault.create(passphrase)
    except VaultError as exc:
        return f"error: {exc}"
    return "ok" if vault.unlocked else "locked"


def test_parallel_first_runs_share_the_vault_that_won(tmp_path):
    import concurrent.futures
    import multiprocessing
    import time as _time

    path = str(tmp_path / "data" / "vault.json")
    start = _time.time() + 1.0
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(4, mp_context=context) as pool:
        results = list(pool.map(_create_at, [path] * 4, [PASSPHRASE] * 4, [start] * 4))
    assert results == ["ok"] * 4
    vault = Vault(Path(path))
    vault.unlock(PASSPHRASE)
    assert vault.get("keylink", "x") is None
