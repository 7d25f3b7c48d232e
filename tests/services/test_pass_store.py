"""The pass adapter itself (tui/services/store/pass_store.py) over real pass and gpg: values of
any number of lines come back whole, a gpg that waits on a pinentry nobody answers is stopped
by the timeout, entries are listed without decrypting anything."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.support.gpg import init_store, make_person
from tui.services.keys import keypairs
from tui.services.store.errors import SecretStoreError
from tui.services.store.pass_store import PassKeyring, PassLocked


def test_a_value_of_many_lines_comes_back_whole(pass_store: Path):
    # keyring-pass 0.9.3 stores only the first line: a PEM key would be cut to its header.
    backend = PassKeyring(pass_store)
    pem = keypairs.generate(keypairs.RSA).private_pem
    value = f"first line\n{pem}\n\nlast line without a break"
    backend.set_password("keylink", "multi-1", value)
    assert backend.get_password("keylink", "multi-1") == value
    assert backend.refs("keylink") == ["multi-1"]
    backend.delete_password("keylink", "multi-1")
    assert backend.get_password("keylink", "multi-1") is None
    assert backend.refs("keylink") == []


def test_entry_names_keylink_does_not_make_are_refused(pass_store: Path):
    backend = PassKeyring(pass_store)
    for bad in ("../escape", "a/b", "-rf", ".hidden"):
        with pytest.raises(SecretStoreError, match="not an entry name keylink makes"):
            backend.set_password("keylink", bad, "x")


def test_a_pinentry_nobody_answers_is_stopped_by_the_timeout(tmp_path: Path, monkeypatch):
    person = make_person(tmp_path / "gnupg", "waiting", "wait@keylink.test", "key pass 2")
    script = tmp_path / "pinentry-forever"
    script.write_text("#!/bin/sh\nexec sleep 10\n")
    script.chmod(0o755)
    with (person.home / "gpg-agent.conf").open("a") as conf:
        conf.write(f"pinentry-program {script}\n")
    person.stop_agent()  # forgets the passphrase cached while the key was made
    monkeypatch.setenv("GNUPGHOME", str(person.home))
    try:
        store = init_store(tmp_path / "store", person)
        backend = PassKeyring(store, timeout=1.0)
        backend.set_password("keylink", "waits-1", '{"api_key": "k"}')
        started = time.monotonic()
        with pytest.raises(PassLocked, match="did not answer within 1 s"):
            backend.get_password("keylink", "waits-1")
        assert time.monotonic() - started < 5
    finally:
        person.stop_agent()
