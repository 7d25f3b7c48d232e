"""Choosing a store by name (KEYLINK_SECRET_BACKEND, `accounts add --store`), what `keylink
doctor` says about the stores here, and `accounts move` between them (issue 21)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import Cli, make_cli
from tests.support.gpg import GpgPerson, init_store

BYBIT = "ABCDEFGHIJKLMNOP12\nabcdefghijklmnopqrstuvwxyz0123456789\n"
BYBIT_SECRET = "abcdefghijklmnopqrstuvwxyz0123456789"


def accounts(cli: Cli) -> dict[str, dict]:
    return {a["name"]: a for a in json.loads((cli.config / "accounts.json").read_text())
            ["accounts"]}


def vault_refs(cli: Cli) -> list[str]:
    from tests.support.cli import VAULT_PASSPHRASE
    from tui.services.store.vault import Vault

    vault = Vault(cli.data / "vault.json")
    vault.unlock(VAULT_PASSPHRASE)
    return sorted(vault.names("keylink"))


def pass_refs(store: Path) -> list[str]:
    return sorted(p.name[:-4] for p in (store / "keylink").glob("*.gpg"))


@pytest.fixture
def both(tmp_path: Path, gpg_people) -> tuple[Cli, Path]:
    """The CLI with the vault as its store and an initialised pass store beside it."""
    me: GpgPerson = gpg_people[0]
    store = init_store(tmp_path / "store", me)
    cli = make_cli(tmp_path, in_process=True)
    cli.env.update(GNUPGHOME=str(me.home), PASSWORD_STORE_DIR=str(store),
                   KEYLINK_SECRET_BACKEND="vault")
    return cli, store


def test_an_unknown_store_name_is_refused_in_one_line_and_nothing_is_saved(cli: Cli):
    done = cli("accounts", "add", "A", "--exchange", "bybit", "--store", "pas", stdin=BYBIT)
    assert done.returncode == 2
    assert done.stderr.strip().startswith("keylink: 'pas' names no secret store here (known: "
                                          "vault, keyring, pass, files")
    assert not (cli.config / "accounts.json").exists()
    env = cli("accounts", "list", env={"KEYLINK_SECRET_BACKEND": "kwallet5"})
    assert env.returncode == 2 and "'kwallet5' names no secret store" in env.stderr


def test_a_keyring_backend_is_chosen_by_its_class_path(tmp_path: Path, secret_service):
    cli = make_cli(tmp_path, in_process=True)
    cli.env.update(secret_service.env)
    name = "keyring.backends.SecretService.Keyring"
    done = cli("accounts", "add", "A", "--exchange", "bybit", stdin=BYBIT,
               env={"KEYLINK_SECRET_BACKEND": name})
    assert done.returncode == 0, done.stderr
    assert "secret saved in Secret Service" in done.stdout
    assert accounts(cli)["A"]["secret_store"] == "keyring:keyring.backends.SecretService:Keyring"
    assert vault_refs(cli) == []  # the vault was not used
    facts = json.loads(cli("doctor", "--json", env={"KEYLINK_SECRET_BACKEND": name}).stdout)
    assert facts["secret_store_reason"] == f"KEYLINK_SECRET_BACKEND={name} asks for it"


def test_doctor_lists_every_store_and_why_one_is_not_usable(both):
    cli, store = both
    facts = json.loads(cli("doctor", "--json", env={"KEYLINK_SECRETS_DIR": ""}).stdout)
    by_name = {s["name"]: s for s in facts["stores"]}
    assert by_name["vault"]["usable"] is True
    assert by_name["pass"]["usable"] is True and str(store) in by_name["pass"]["detail"]
    assert by_name["files"] == {"name": "files", "usable": False, "detail":
                                "KEYLINK_SECRETS_DIR is not set (set it in a container to the "
                                "folder its secrets are handed in)"}
    assert by_name["keyring"]["usable"] is False  # no session bus in tests
    text = cli("doctor", env={"PASSWORD_STORE_DIR": str(store.parent / "none")}).stdout
    assert "pass: not usable; pass (" in text and "not initialised" in text


def test_add_with_store_pass_saves_there_and_the_vault_process_reads_it(both):
    cli, store = both
    done = cli("accounts", "add", "Main", "--exchange", "bybit", "--store", "pass", stdin=BYBIT)
    assert done.returncode == 0, done.stderr
    assert accounts(cli)["Main"]["secret_store"] == "pass"
    assert len(pass_refs(store)) == 1 and vault_refs(cli) == []
    # KEYLINK_SECRET_BACKEND=vault still: the account's own store is read, never the vault.
    copied = cli("copy", "Main", "--field", "secret", "--print", "--force")
    assert copied.returncode == 0 and copied.stdout.strip() == BYBIT_SECRET


def test_move_vault_to_pass_and_back(both):
    cli, store = both
    assert cli("accounts", "add", "Main", "--exchange", "bybit", stdin=BYBIT).returncode == 0
    [old] = vault_refs(cli)
    moved = cli("accounts", "move", "Main", "--to", "pass")
    assert moved.returncode == 0, moved.stderr
    assert "moved Main to pass" in moved.stdout
    account = accounts(cli)["Main"]
    assert account["secret_store"] == "pass" and "other_copy" not in account
    assert pass_refs(store) == [account["secret_ref"]] and vault_refs(cli) == []
    assert old != account["secret_ref"]
    copied = cli("copy", "Main", "--field", "secret", "--print", "--force")
    assert copied.stdout.strip() == BYBIT_SECRET
    again = cli("accounts", "move", "Main", "--to", "pass")
    assert again.returncode == 0 and "in pass" in again.stdout and "already" in again.stdout
    back = cli("accounts", "move", "Main", "--to", "vault")
    assert back.returncode == 0, back.stderr
    account = accounts(cli)["Main"]
    assert account["secret_store"] == "vault" and vault_refs(cli) == [account["secret_ref"]]
    assert pass_refs(store) == []


def test_a_move_to_a_store_that_fails_changes_nothing(both):
    cli, store = both
    assert cli("accounts", "add", "Main", "--exchange", "bybit", stdin=BYBIT).returncode == 0
    before = accounts(cli)["Main"]
    (store / ".gpg-id").unlink()  # nobody can save there now
    done = cli("accounts", "move", "Main", "--to", "pass")
    assert done.returncode == 2 and "not initialised" in done.stderr
    assert accounts(cli)["Main"] == before and len(vault_refs(cli)) == 1


def test_a_cut_short_move_is_listed_and_finished_by_repair(both):
    # The state a kill -9 after the move's commit leaves: the account in pass, the old copy
    # still in the vault and named in accounts.json (tests/faults covers the kill itself).
    cli, _store = both
    assert cli("accounts", "add", "Main", "--exchange", "bybit", stdin=BYBIT).returncode == 0
    [old] = vault_refs(cli)
    assert cli("accounts", "move", "Main", "--to", "pass").returncode == 0
    from tests.support.cli import VAULT_PASSPHRASE
    from tui.services.store.vault import Vault

    vault = Vault(cli.data / "vault.json")
    vault.unlock(VAULT_PASSPHRASE)
    vault.set("keylink", old, json.dumps({"api_key": "K", "secret": "S", "passphrase": ""}))
    path = cli.config / "accounts.json"
    doc = json.loads(path.read_text())
    doc["accounts"][0]["other_copy"] = {"store": "vault", "ref": old}
    path.write_text(json.dumps(doc))
    facts = json.loads(cli("doctor", "--json").stdout)
    assert facts["cut_short_moves"] == ["Main"] and facts["orphaned_secrets"] == 0
    repaired = json.loads(cli("doctor", "--repair", "--yes", "--json").stdout)
    assert repaired["repaired"]["moves_finished"] == ["Main"]
    assert vault_refs(cli) == [] and "other_copy" not in accounts(cli)["Main"]
    copied = cli("copy", "Main", "--field", "secret", "--print", "--force")
    assert copied.stdout.strip() == BYBIT_SECRET


def _cut_short_move(cli: Cli) -> str:
    """Main in pass, its old copy still in the vault and named in accounts.json (what a kill -9
    after a move's commit leaves). Returns the old copy's entry."""
    assert cli("accounts", "add", "Main", "--exchange", "bybit", stdin=BYBIT).returncode == 0
    [old] = vault_refs(cli)
    assert cli("accounts", "move", "Main", "--to", "pass").returncode == 0
    from tests.support.cli import VAULT_PASSPHRASE
    from tui.services.store.vault import Vault

    vault = Vault(cli.data / "vault.json")
    vault.unlock(VAULT_PASSPHRASE)
    vault.set("keylink", old, json.dumps({"api_key": "K", "secret": BYBIT_SECRET,
                                          "passphrase": ""}))
    path = cli.config / "accounts.json"
    doc = json.loads(path.read_text())
    doc["accounts"][0]["other_copy"] = {"store": "vault", "ref": old}
    path.write_text(json.dumps(doc))
    return old


def test_removing_an_account_deletes_the_copy_a_cut_short_move_left(both):
    # "removed Main and its secret" must be true of both copies: the leftover one in the vault
    # used to stay there, named by nothing once the account was gone.
    cli, store = both
    _cut_short_move(cli)
    done = cli("accounts", "remove", "Main", "--yes")
    assert done.returncode == 0, done.stderr
    assert "removed Main and its secret" in done.stdout
    assert vault_refs(cli) == [] and pass_refs(store) == []
    assert "Main" not in accounts(cli)


def test_a_leftover_copy_that_cannot_be_deleted_keeps_the_account(both):
    # The leftover is in a desktop keyring this session cannot reach (no Secret Service here):
    # nothing is removed without --forget, and --forget says what stays behind, and where.
    cli, _store = both
    assert cli("accounts", "add", "Main", "--exchange", "bybit", stdin=BYBIT).returncode == 0
    path = cli.config / "accounts.json"
    doc = json.loads(path.read_text())
    doc["accounts"][0]["other_copy"] = {
        "store": "keyring:keyring.backends.SecretService:Keyring", "ref": "account-elsewhere"}
    path.write_text(json.dumps(doc))
    kept = cli("accounts", "remove", "Main", "--yes")
    assert kept.returncode == 2, kept.stdout
    assert "cut short" in kept.stderr and "Secret Service" in kept.stderr
    assert "Main" in accounts(cli) and len(vault_refs(cli)) == 1
    forgot = cli("accounts", "remove", "Main", "--yes", "--forget")
    assert forgot.returncode == 0, forgot.stderr
    assert "second copy" in forgot.stdout and "account-elsewhere" in forgot.stdout
    # Nothing names that copy once the account is gone: no "retry", no "doctor --repair".
    assert "by hand" in forgot.stdout
    assert "retry" not in forgot.stdout and "doctor" not in forgot.stdout
    assert vault_refs(cli) == []  # the copy in use went: its store answered
    assert "Main" not in accounts(cli)


def test_a_pass_account_is_checked_without_the_vault_passphrase(both, fake):
    # The vault is the process's store, but this account's secret is in pass: no passphrase
    # of keylink's is needed to check it or hand it over.
    cli, _store = both
    key = fake.key("bybit")
    done = cli("accounts", "add", "P", "--exchange", "bybit", "--base-url", fake.url,
               "--store", "pass", stdin=f"{key.api_key}\n{key.secret}\n")
    assert done.returncode == 0, done.stderr
    del cli.env["KEYLINK_VAULT_PASSPHRASE"]
    checked = cli("verify", "P", "--json")
    assert checked.returncode == 0, checked.stderr
    assert json.loads(checked.stdout)["status"] == "works"
    copied = cli("copy", "P", "--field", "secret", "--print", "--force")
    assert copied.returncode == 0 and copied.stdout.strip() == key.secret
    rotated = cli("accounts", "rotate", "P", stdin=f"{key.api_key}\n{key.secret}\n")
    assert rotated.returncode == 0, rotated.stderr
    assert accounts(cli)["P"]["secret_store"] == "pass"


def test_a_name_of_the_copy_in_use_is_dropped_and_no_deletion_is_claimed(both):
    # The state a kill -9 right after step 1 of a move to the store the account already uses
    # can leave: the name points at the copy the account uses. Repair keeps that copy, drops
    # the name, and says nothing was deleted (it used to list the account as "deleted").
    cli, _store = both
    assert cli("accounts", "add", "Main", "--exchange", "bybit", stdin=BYBIT).returncode == 0
    [ref] = vault_refs(cli)
    path = cli.config / "accounts.json"
    doc = json.loads(path.read_text())
    doc["accounts"][0]["other_copy"] = {"store": doc["accounts"][0]["secret_store"], "ref": ref}
    path.write_text(json.dumps(doc))
    repaired = json.loads(cli("doctor", "--repair", "--yes", "--json").stdout)
    assert repaired["repaired"]["moves_finished"] == []
    assert vault_refs(cli) == [ref] and "other_copy" not in accounts(cli)["Main"]
    text = cli("doctor").stdout
    assert "leftover copy" not in text
    copied = cli("copy", "Main", "--field", "secret", "--print", "--force")
    assert copied.stdout.strip() == BYBIT_SECRET
