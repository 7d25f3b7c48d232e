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


def test_a_failed_save_never_takes_out_an_entry_that_was_there(pass_store: Path, monkeypatch):
    """When `pass insert` writes the entry and then fails (git refusing its commit), the entry
    is taken out again, so a failure keylink reports leaves no secret behind - but never an
    entry that was there before the save. The real pass writes; only its exit code is made
    to fail here (git's refusal cannot be brought about through pass's own commit)."""
    import subprocess

    backend = PassKeyring(pass_store)
    backend.set_password("keylink", "kept-1", "the only copy")
    real = backend._run

    def insert_then_fail(argv, stdin=None, what=""):
        done = real(argv, stdin, what)
        if argv[:2] == ["pass", "insert"]:
            return subprocess.CompletedProcess(argv, 1, "", "git: commit refused")
        return done

    monkeypatch.setattr(backend, "_run", insert_then_fail)
    with pytest.raises(SecretStoreError, match="git would not commit"):
        backend.set_password("keylink", "fresh-1", "new")
    assert not (pass_store / "keylink" / "fresh-1.gpg").exists()
    with pytest.raises(SecretStoreError):
        backend.set_password("keylink", "kept-1", "a new value")
    assert (pass_store / "keylink" / "kept-1.gpg").exists()
