"""pass as keylink's store, for real: `pass` and `gpg` with keys made for the session
(tests/support/gpg.py), the loopback fake exchange, a team mate's key and a git remote.
Issue 21. The CLI runs in-process except `exec` (it replaces the process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import Cli, make_cli
from tests.support.gpg import GpgPerson, init_store, make_person
from tui.services.keys import keypairs


def pass_cli(root: Path, person: GpgPerson, store: Path, **extra: str) -> Cli:
    cli = make_cli(root, in_process=True)
    cli.env.update(GNUPGHOME=str(person.home), PASSWORD_STORE_DIR=str(store),
                   KEYLINK_SECRET_BACKEND="pass", **extra)
    return cli


def run_pass(person: GpgPerson, store: Path, *args: str, stdin: str | None = None,
             check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["pass", *args], input=stdin, capture_output=True, text=True,
                          env={**os.environ, **person.env(), "PASSWORD_STORE_DIR": str(store)},
                          timeout=30, check=check)


def git(store: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(store), *args], capture_output=True, text=True,
                          timeout=30, check=True).stdout


def entries(store: Path) -> list[str]:
    folder = store / "keylink"
    return sorted(p.name for p in folder.glob("*.gpg")) if folder.is_dir() else []


def add(cli: Cli, fake, name: str, ex: str = "bybit", *extra: str):
    key = fake.key(ex)
    lines = [key.api_key, key.secret] + ([key.passphrase] if key.passphrase else [])
    return cli("accounts", "add", name, "--exchange", ex, "--base-url", fake.url, *extra,
               stdin="\n".join(lines) + "\n")


def verify(cli: Cli, name: str) -> dict:
    done = cli("verify", name, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def one_line(done, *words: str) -> str:
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("keylink: "), done.stderr
    for word in words:
        assert word in lines[0], lines[0]
    print(lines[0])  # shown with -s: the wording is the point
    return lines[0]


@pytest.fixture
def me(gpg_people) -> GpgPerson:
    return gpg_people[0]


@pytest.fixture
def mate(gpg_people) -> GpgPerson:
    return gpg_people[1]


def test_add_verify_copy_rotate_remove_through_pass(tmp_path, me, fake):
    store = init_store(tmp_path / "store", me)
    cli = pass_cli(tmp_path, me, store)
    done = add(cli, fake, "Bybit main")
    assert done.returncode == 0, done.stderr
    assert "secret saved in pass" in done.stdout
    [entry] = entries(store)
    assert entry.startswith("bybit-main-")  # readable: `pass ls keylink` names the account
    shown = json.loads(run_pass(me, store, "show", f"keylink/{entry[:-4]}").stdout)
    assert shown["api_key"] == fake.key("bybit").api_key
    account = json.loads((cli.config / "accounts.json").read_text())["accounts"][0]
    assert account["secret_store"] == "pass"
    assert verify(cli, "Bybit main")["status"] == "works"
    copied = cli("copy", "Bybit main", "--field", "secret", "--print", "--force")
    assert copied.stdout.strip() == fake.key("bybit").secret
    key = fake.key("bybit")
    rotated = cli("accounts", "rotate", "Bybit main", stdin=f"{key.api_key}\n{key.secret}\n")
    assert rotated.returncode == 0, rotated.stderr
    [after] = entries(store)
    assert after != entry and after.startswith("bybit-main-")  # new entry, old one deleted
    assert verify(cli, "Bybit main")["status"] == "works"
    removed = cli("accounts", "remove", "Bybit main", "--yes")
    assert removed.returncode == 0, removed.stderr
    assert entries(store) == []
    assert not any(key.secret in p.read_text(errors="replace")
                   for p in tmp_path.rglob("*") if p.is_file() and ".gpg" not in p.name
                   and "gnupg" not in str(p))


def test_a_pem_private_key_is_stored_whole_and_signs(tmp_path, me, fake):
    # keyring-pass keeps only a value's first line; a PEM must come back whole.
    store = init_store(tmp_path / "store", me)
    cli = pass_cli(tmp_path, me, store)
    pair = keypairs.generate(keypairs.ED25519)
    key = fake.register_public_key("binance", pair.public_pem)
    done = cli("accounts", "add", "bn", "--exchange", "binance", "--base-url", fake.url,
               stdin=f"{key.api_key}\n{pair.private_pem}")
    assert done.returncode == 0, done.stderr
    [entry] = entries(store)
    stored = json.loads(run_pass(me, store, "show", f"keylink/{entry[:-4]}").stdout)
    assert keypairs.parse(stored["secret"]).public_pem == pair.public_pem
    assert verify(cli, "bn")["key_kind"] == "ed25519"


def test_exec_hands_the_key_from_pass_to_the_command(tmp_path, me, fake):
    store = init_store(tmp_path / "store", me)
    cli = pass_cli(tmp_path, me, store)
    assert add(cli, fake, "Main").returncode == 0
    assert len(entries(store)) == 1  # in pass, not the vault
    cli.in_process = False  # exec replaces the process
    dump = tmp_path / "env.json"
    done = cli("exec", "Main", "--", sys.executable, "-c",
               "import json, os, sys; json.dump(dict(os.environ), open(sys.argv[1], 'w'))",
               str(dump))
    assert done.returncode == 0, done.stderr
    child = json.loads(dump.read_text())
    assert child["KEYLINK_API_SECRET"] == fake.key("bybit").secret
    assert fake.key("bybit").secret not in done.stdout + done.stderr


def test_exec_check_of_a_key_in_pass_never_asks_for_the_vault(tmp_path, me, fake):
    """`keylink exec NAME --check` (a bot's start, a cron job) checks a key kept in pass
    without a vault passphrase, as `keylink verify` does: only a secret in the vault needs it."""
    store = init_store(tmp_path / "store", me)
    cli = pass_cli(tmp_path, me, store)
    assert add(cli, fake, "Main").returncode == 0
    del cli.env["KEYLINK_SECRET_BACKEND"]  # the session's own store is the (unmade) vault
    cli.env.pop("KEYLINK_VAULT_PASSPHRASE", None)
    assert cli("verify", "Main").returncode == 0
    cli.in_process = False  # exec replaces the process
    done = cli("exec", "Main", "--check", "--", sys.executable, "-c", "pass")
    assert done.returncode == 0, done.stderr
    assert "keylink: checked Main: works" in done.stderr


def test_remove_forget_of_a_key_in_pass_says_and_does_the_same(tmp_path, me, fake, monkeypatch):
    """`accounts remove --forget` deletes the secret too wherever its store answers: asked in a
    vault session about an account kept in pass, the question names the secret (it said "its
    secret is not touched", and then deleted the pass entry), and no vault passphrase is asked."""
    store = init_store(tmp_path / "store", me)
    cli = pass_cli(tmp_path, me, store)
    assert add(cli, fake, "Main").returncode == 0
    assert len(entries(store)) == 1
    del cli.env["KEYLINK_SECRET_BACKEND"]  # the session's own store is the (unmade) vault
    cli.env.pop("KEYLINK_VAULT_PASSPHRASE", None)
    asked: list[str] = []
    monkeypatch.setattr("tui.cli.accounts.stdin_is_terminal", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt="": asked.append(prompt) or "y")
    monkeypatch.setattr("getpass.getpass", lambda prompt="": asked.append(prompt) or "")
    done = cli("accounts", "remove", "Main", "--forget")
    assert done.returncode == 0, done.stderr
    assert len(asked) == 1 and "and its stored secret?" in asked[0], asked
    assert "removed Main and its secret" in done.stdout
    assert entries(store) == []  # as the question said


def test_a_team_mate_reads_it_and_git_carries_it_to_another_keylink(tmp_path, me, mate, fake):
    store = init_store(tmp_path / "store", me, me.fingerprint, mate.fingerprint)
    run_pass(me, store, "git", "init")
    git(store, "config", "user.email", "me@keylink.test")
    git(store, "config", "user.name", "me")
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "--bare", "-q", str(remote)], check=True, timeout=30)
    git(store, "remote", "add", "origin", str(remote))
    cli = pass_cli(tmp_path / "mine", me, store)
    assert add(cli, fake, "Shared").returncode == 0
    assert "keylink/shared-" in git(store, "log", "--format=%s", "-1")  # pass committed it
    git(store, "push", "-q", "origin", "HEAD:main")
    # The mate: another machine's clone, their own GPG key and their own keylink config.
    clone = tmp_path / "mate-store"
    subprocess.run(["git", "clone", "-q", "-b", "main", str(remote), str(clone)], check=True,
                   timeout=30)
    [entry] = entries(clone)
    shown = json.loads(run_pass(mate, clone, "show", f"keylink/{entry[:-4]}").stdout)
    assert shown["secret"] == fake.key("bybit").secret
    theirs = pass_cli(tmp_path / "theirs", mate, clone)
    theirs.config.mkdir(parents=True)
    # accounts.json holds no secret: the team hands it over as a file.
    (theirs.config / "accounts.json").write_text((cli.config / "accounts.json").read_text())
    assert verify(theirs, "Shared")["status"] == "works"


# -- faults: one line each, naming the store and the fix; nothing saved elsewhere ----------------


def test_no_pass_command_is_one_line_and_saves_nothing(tmp_path, me, fake):
    store = init_store(tmp_path / "store", me)
    bare = tmp_path / "bin"
    bare.mkdir()
    cli = pass_cli(tmp_path, me, store, PATH=str(bare))
    one_line(add(cli, fake, "A"), "pass (", "`pass` command is not installed",
             "apt install pass")
    assert not (cli.config / "accounts.json").exists() or "A" not in (
        cli.config / "accounts.json").read_text()
    assert not (cli.data / "vault.json").read_text().count("keylink/")  # no switch to the vault


def test_a_store_nobody_initialised_says_pass_init(tmp_path, me, fake):
    cli = pass_cli(tmp_path, me, tmp_path / "empty")
    one_line(add(cli, fake, "A"), "not initialised", "pass init")
    assert not (tmp_path / "empty" / "keylink").exists()


def test_a_store_for_other_keys_refuses_the_write(tmp_path, me, mate, fake):
    store = init_store(tmp_path / "store", me, mate.fingerprint)
    one_line(add(pass_cli(tmp_path, me, store), fake, "A"), "other GPG keys", "pass init -p")
    assert entries(store) == []


def test_a_recipient_whose_key_is_missing_says_import_it(tmp_path, me, fake):
    store = init_store(tmp_path / "store", me)
    (store / ".gpg-id").write_text("nobody@keylink.test\n")
    one_line(add(pass_cli(tmp_path, me, store), fake, "A"), "nobody@keylink.test",
             "gpg --import")


def test_an_entry_for_other_keys_cannot_be_read_and_says_why(tmp_path, me, mate, fake):
    store = init_store(tmp_path / "store", me)
    cli = pass_cli(tmp_path / "mine", me, store)
    assert add(cli, fake, "A").returncode == 0
    theirs = pass_cli(tmp_path / "theirs", mate, store)
    theirs.config.mkdir(parents=True)
    (theirs.config / "accounts.json").write_text((cli.config / "accounts.json").read_text())
    one_line(theirs("verify", "A"), "encrypted for other GPG keys", "pass init -p keylink")


def test_a_damaged_entry_says_restore_it_from_git(tmp_path, me, fake):
    store = init_store(tmp_path / "store", me)
    cli = pass_cli(tmp_path, me, store)
    assert add(cli, fake, "A").returncode == 0
    [entry] = entries(store)
    (store / "keylink" / entry).write_bytes(b"not a gpg message\n")
    one_line(cli("verify", "A"), "is damaged", "pass git log")


def test_a_locked_gpg_agent_says_unlock_the_key(tmp_path, fake):
    # A key with a passphrase, and an agent that cannot ask for it (no pinentry): the read
    # fails fast with the right cause, not "damaged" or "not found".
    person = make_person(tmp_path / "locked", "locked", "locked@keylink.test", "key pass 1")
    with (person.home / "gpg-agent.conf").open("a") as conf:
        conf.write("pinentry-program /bin/false\n")
    person.stop_agent()  # forgets the passphrase the key generation cached
    try:
        store = init_store(tmp_path / "store", person)
        cli = pass_cli(tmp_path, person, store)
        assert add(cli, fake, "A").returncode == 0  # encrypting needs no passphrase
        one_line(cli("verify", "A"), "could not be unlocked", "pass show")
    finally:
        person.stop_agent()


def test_a_git_merge_left_half_way_refuses_writes(tmp_path, me, fake):
    store = init_store(tmp_path / "store", me)
    run_pass(me, store, "git", "init")
    for where in (store,):
        git(where, "config", "user.email", "me@keylink.test")
        git(where, "config", "user.name", "me")
    cli = pass_cli(tmp_path, me, store)
    assert add(cli, fake, "A").returncode == 0
    [entry] = entries(store)
    other = tmp_path / "other"
    subprocess.run(["git", "clone", "-q", str(store), str(other)], check=True, timeout=30)
    git(other, "config", "user.email", "me@keylink.test")
    git(other, "config", "user.name", "me")
    # The same entry changed on both sides, then pulled: a conflict git leaves half-way.
    run_pass(me, other, "insert", "-m", "-f", f"keylink/{entry[:-4]}", stdin="{}\n")
    run_pass(me, store, "insert", "-m", "-f", f"keylink/{entry[:-4]}", stdin="[]\n")
    pulled = subprocess.run(["git", "-C", str(store), "pull", "-q", "--no-rebase", str(other),
                             "HEAD"], capture_output=True, text=True, timeout=30)
    assert pulled.returncode != 0 and (store / ".git" / "MERGE_HEAD").exists()
    key = fake.key("bybit")
    one_line(cli("accounts", "rotate", "A", stdin=f"{key.api_key}\n{key.secret}\n"),
             "git merge left half-way", "pass git status")


def test_repair_never_deletes_a_team_mates_entry_from_a_shared_store(tmp_path, me, mate, fake):
    # The mate's keylink saved an account this keylink does not know: not garbage.
    store = init_store(tmp_path / "store", me, me.fingerprint, mate.fingerprint)
    theirs = pass_cli(tmp_path / "theirs", mate, store)
    assert add(theirs, fake, "Mate's").returncode == 0
    mine = pass_cli(tmp_path / "mine", me, store)
    assert add(mine, fake, "Mine", "okx").returncode == 0
    facts = json.loads(mine("doctor", "--json").stdout)
    assert facts["orphaned_secrets"] is None
    assert any("may be shared with others" in line for line in facts["unchecked"])
    assert mine("doctor", "--repair", "--yes").returncode == 0
    assert len(entries(store)) == 2
