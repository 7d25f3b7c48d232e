"""The import service: all accounts or none, even when the store fails half-way."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.services.handoff import importer, scrub
from tui.services.store.accounts import AccountStore
from tui.services.store.errors import SecretStoreError

ENV_TWO = ("BYBIT_API_KEY=AbCdEfGh1234567890\nBYBIT_API_SECRET=" + "S" * 36 + "\n"
           "OKX_API_KEY=12345678-abcd-abcd-abcd-1234567890ab\n"
           "OKX_API_SECRET=0123456789ABCDEF0123456789ABCDEF\nOKX_API_PASSPHRASE=pass-1\n")


def test_a_store_failure_half_way_adds_nothing(tmp_path: Path, memory_keyring, memory_secrets):
    path = tmp_path / "two.env"
    path.write_text(ENV_TWO)
    source = importer.read_source(path)
    assert [found.exchange for found in source.found] == ["bybit", "okx"]
    store = AccountStore(memory_secrets, tmp_path / "config")
    real_set = memory_keyring.set_password
    calls: list[str] = []

    def second_fails(service: str, username: str, password: str) -> None:
        calls.append(username)
        if len(calls) == 2:
            memory_keyring.fail.add("set")
        real_set(service, username, password)

    memory_keyring.set_password = second_fails
    with pytest.raises(SecretStoreError):
        importer.import_accounts(store, source)
    assert store.list() == []
    assert memory_keyring.entries == {}  # the first secret was taken back out


def test_import_reads_back_and_is_repeatable(tmp_path: Path, memory_secrets):
    path = tmp_path / "two.env"
    path.write_text(ENV_TWO)
    store = AccountStore(memory_secrets, tmp_path / "config")
    first = importer.import_accounts(store, importer.read_source(path))
    assert [(i.account.name, i.already_stored) for i in first] == [
        ("Bybit from two.env", False), ("OKX from two.env", False)]
    again = importer.import_accounts(store, importer.read_source(path))
    assert [i.already_stored for i in again] == [True, True]
    assert len(store.list()) == 2
    assert store.credentials(first[1].account).passphrase == "pass-1"


def test_scrub_refuses_a_file_changed_since_reading(tmp_path: Path):
    path = tmp_path / ".env"
    path.write_text(ENV_TWO)
    source = importer.read_source(path)
    path.write_text(ENV_TWO + "EXTRA=1\n")
    with pytest.raises(importer.ImportProblem, match="changed while keylink was reading"):
        scrub.scrub(source, scrub.found_values(source))
    assert path.read_text().endswith("EXTRA=1\n")


def test_scrub_deletes_the_temp_files_of_a_killed_scrub_only(tmp_path: Path):
    import os
    import tempfile

    path = tmp_path / ".env"
    path.write_text(ENV_TWO)
    # What kill -9 leaves: the backup's temp (0600, plaintext) and the file's (its mode).
    fd, _backup = tempfile.mkstemp(dir=tmp_path, prefix="..env.keylink-backup.",
                                   suffix=".tmp")
    os.close(fd)
    fd, file_temp = tempfile.mkstemp(dir=tmp_path, prefix="..env.", suffix=".tmp")
    os.close(fd)
    os.chmod(file_temp, 0o640)
    editor = tmp_path / "..env.swap.tmp"  # not ours by name (no mkstemp part): kept
    editor.write_text("x")
    source = importer.read_source(path)
    result = scrub.scrub(source, scrub.found_values(source))
    assert result.stale_temps == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["..env.swap.tmp", ".env"]
    assert path.read_text() == ""


def test_an_update_is_undone_when_a_later_key_fails(tmp_path: Path, memory_keyring,
                                                     memory_secrets):
    # All or none covers updates too: the OKX passphrase is stored over the old one, then the
    # Binance add fails; the OKX account must hold its old passphrase again.
    store = AccountStore(memory_secrets, tmp_path / "config")
    first = tmp_path / "first.env"
    first.write_text(ENV_TWO)
    importer.import_accounts(store, importer.read_source(first))
    path = tmp_path / "two.env"
    path.write_text(ENV_TWO.replace("pass-1", "pass-2").replace("BYBIT_", "OLD_BYBIT_")
                    + f"BINANCE_API_KEY={'K' * 64}\nBINANCE_API_SECRET={'Z' * 64}\n")
    source = importer.read_source(path)
    assert [found.exchange for found in source.found] == ["okx", "binance"]
    okx = store.get("OKX from first.env")
    real_set = memory_keyring.set_password
    calls: list[str] = []

    def second_fails(service: str, username: str, password: str) -> None:
        calls.append(username)
        memory_keyring.fail.discard("set")
        if len(calls) == 2:
            memory_keyring.fail.add("set")
        real_set(service, username, password)

    memory_keyring.set_password = second_fails
    with pytest.raises(SecretStoreError):
        importer.import_accounts(store, source, update=True)
    assert len(calls) == 3  # the update, the failed add, the update undone
    assert store.credentials(store.get(okx.id)).passphrase == "pass-1"
    assert [a.name for a in store.list()] == ["Bybit from first.env", "OKX from first.env"]
