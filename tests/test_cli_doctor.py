"""`keylink doctor`: loose ends (--json fields), --repair, and unsafe dirs (the shared ``cli``
fixture: in-process unless marked ``cli_process``)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.test_cli_accounts import BYBIT_LINES, VAULT_PASSPHRASE, Cli, make_cli


def _open_vault(cli: Cli):
    from tui.services.store.vault import Vault

    vault = Vault(cli.data / "vault.json")
    vault.unlock(VAULT_PASSPHRASE)
    return vault


def _doctor_json(cli: Cli, *args: str) -> dict:
    result = cli("doctor", "--json", *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _own_key(name: str) -> str:
    """BYBIT_LINES with an API key of this account's own: these tests are about two accounts, and
    one key stored under two names is refused without --allow-duplicate (issue 15)."""
    key, secret = BYBIT_LINES.split()
    return f"{key[:-len(name)]}{name}\n{secret}\n"


def test_doctor_lists_loose_ends_and_repair_removes_them(cli: Cli):
    for name in ("Main", "Spare"):
        added = cli("accounts", "add", name, "--exchange", "bybit", stdin=_own_key(name))
        assert added.returncode == 0
    vault = _open_vault(cli)
    spare = next(a for a in json.loads((cli.config / "accounts.json").read_text())["accounts"]
                 if a["name"] == "Spare")
    vault.delete("keylink", spare["secret_ref"])  # Spare: an account without its secret
    vault.set("keylink", "account-gone-1", "{}")  # two orphans: secrets nobody points at
    vault.set("keylink", "account-gone-2", "{}")
    (cli.config / ".accounts.json.x1y2.tmp").write_text("half")  # left by kill -9
    (cli.data / ".vault.json.x1y2.tmp").write_text("half")

    facts = _doctor_json(cli)
    assert facts["accounts_without_secret"] == ["Spare"]
    assert facts["orphaned_secrets"] == 2
    assert facts["temp_files"] == 2
    text = cli("doctor").stdout
    assert "Spare (remove and add the key again)" in text
    assert "2 secrets no account points at" in text and "keylink doctor --repair" in text

    refused = cli("doctor", "--repair")  # stdin is not a terminal: it must not delete unasked
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert _doctor_json(cli)["orphaned_secrets"] == 2

    repaired = cli("doctor", "--repair", "--yes")
    assert repaired.returncode == 0, repaired.stderr
    assert "deleted 2 secrets and 2 temp files" in repaired.stdout
    after = _doctor_json(cli)
    assert (after["orphaned_secrets"], after["temp_files"]) == (0, 0)
    assert after["accounts_without_secret"] == ["Spare"]  # only the user decides about these
    assert _open_vault(cli).get("keylink", json.loads(
        (cli.config / "accounts.json").read_text())["accounts"][0]["secret_ref"]) is not None


def test_doctor_says_what_it_could_not_check_when_the_vault_is_locked(cli: Cli):
    assert cli("accounts", "add", "Main", "--exchange", "bybit", stdin=BYBIT_LINES).returncode == 0
    env = {k: v for k, v in cli.env.items() if k != "KEYLINK_VAULT_PASSPHRASE"}
    locked = Cli(cli.root, env)
    facts = _doctor_json(locked)
    assert facts["orphaned_secrets"] is None
    assert any("locked" in line for line in facts["unchecked"])


@pytest.mark.slow
def test_doctor_warns_about_unsafe_dirs_and_never_chmods_through_a_link(tmp_path: Path):
    cli = make_cli(tmp_path, cheap_vault=False)
    shared = tmp_path / "shared-config"
    shared.mkdir()
    shared.chmod(0o755)
    cli.config.parent.mkdir(parents=True, exist_ok=True)
    cli.config.symlink_to(shared)  # a dotfiles manager links the keylink dir
    result = cli("accounts", "add", "Main", "--exchange", "bybit", stdin=BYBIT_LINES)
    assert result.returncode == 0, result.stderr
    assert (shared.stat().st_mode & 0o777) == 0o755  # the link's target was not chmod'ed
    cli.data.chmod(0o777)
    warnings = _doctor_json(cli)["warnings"]
    assert any("symbolic link" in w and str(cli.config) in w for w in warnings)
    assert any("changed by other users (mode 0777)" in w for w in warnings)
    text = cli("doctor").stdout
    assert "warning        " in text and "symbolic link" in text


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to another user needs root")
def test_doctor_warns_about_a_foreign_owned_data_dir(cli: Cli):
    os.chown(cli.data, 4242, 4242)
    warnings = _doctor_json(cli)["warnings"]
    assert any("belongs to another user (uid 4242)" in w for w in warnings)


# A real process: the refused commands include `exec`, which would replace this one if the
# refusal ever broke.
@pytest.mark.slow
@pytest.mark.cli_process
def test_a_cut_short_removal_is_refused_listed_and_finished(cli: Cli):
    for name in ("Main", "Going"):
        added = cli("accounts", "add", name, "--exchange", "bybit", stdin=_own_key(name))
        assert added.returncode == 0, added.stderr
    # What a kill -9 after `accounts remove` wrote its mark leaves (the secret already deleted);
    # the real kill is in tests/faults.
    path = cli.config / "accounts.json"
    doc = json.loads(path.read_text())
    going = doc["accounts"][1]
    going["removing"] = "2026-11-28T10:00:00Z"
    path.write_text(json.dumps(doc))
    _open_vault(cli).delete("keylink", going["secret_ref"])

    # Never used, with one line that says how to finish, before any passphrase is asked for.
    for args in (["verify", "Going"], ["copy", "Going", "--field", "secret", "--print"],
                 ["exec", "Going", "--", "true"], ["accounts", "export-key", "Going", "out.pem"],
                 ["accounts", "rotate", "Going"]):
        used = cli(*args, env={"KEYLINK_VAULT_PASSPHRASE": "not the passphrase"})
        assert used.returncode == 2, args
        assert used.stderr.count("\n") == 1 and "cut short" in used.stderr, used.stderr
        assert "keylink accounts remove Going" in used.stderr
    listed = cli("accounts", "list").stdout
    assert "REMOVAL CUT SHORT" in listed
    # Not an account that lost its secret: doctor names it apart, and --repair finishes it.
    facts = _doctor_json(cli)
    assert (facts["accounts_without_secret"], facts["unfinished_removals"]) == ([], ["Going"])
    assert "removal of Going" in cli("doctor").stdout
    repaired = cli("doctor", "--repair", "--yes")
    assert repaired.returncode == 0, repaired.stderr
    assert "finished removing Going" in repaired.stdout
    assert [a["name"] for a in json.loads(path.read_text())["accounts"]] == ["Main"]
    assert _doctor_json(cli)["unfinished_removals"] == []
    assert "removing" not in path.read_text()


def test_verify_all_with_only_cut_short_removals_says_so(cli: Cli):
    added = cli("accounts", "add", "Going", "--exchange", "bybit", "--base-url",
                "http://127.0.0.1:9", stdin=BYBIT_LINES)
    assert added.returncode == 0, added.stderr
    path = cli.config / "accounts.json"
    doc = json.loads(path.read_text())
    doc["accounts"][0]["removing"] = "2026-11-28T10:00:00Z"
    path.write_text(json.dumps(doc))
    result = cli("verify", "--all")
    assert result.returncode == 2
    assert "skipped: the removal of 'Going' was cut short" in result.stderr
    assert "every saved account's removal was cut short" in result.stderr
    assert "no saved accounts yet" not in result.stderr


def _refs(cli: Cli) -> set[str]:
    return set(_open_vault(cli).names("keylink"))


def _add_two_and_damage(cli: Cli) -> tuple[bytes, set[str]]:
    """Main and Spare, then accounts.json loses its closing brace (as an editor might leave
    it); (the damaged bytes, the two secret refs)."""
    for name in ("Main", "Spare"):
        added = cli("accounts", "add", name, "--exchange", "bybit", stdin=_own_key(name))
        assert added.returncode == 0, added.stderr
    path = cli.config / "accounts.json"
    refs = {a["secret_ref"] for a in json.loads(path.read_text())["accounts"]}
    damaged = path.read_bytes().rstrip()[:-1]
    path.write_bytes(damaged)
    return damaged, refs


def test_damage_then_repair_yes_keeps_every_secret(cli: Cli):
    # The reproduction, nothing more: damage accounts.json, `doctor --repair --yes`.
    _damaged, refs = _add_two_and_damage(cli)
    repaired = cli("doctor", "--repair", "--yes")
    assert repaired.returncode == 0, repaired.stderr
    assert _refs(cli) == refs


def test_repair_never_deletes_the_secrets_of_a_moved_aside_file(cli: Cli):
    # Issue 15: the damaged file was moved aside, doctor called every secret orphaned, and
    # --repair deleted them all although the moved-aside file still named every account.
    damaged, refs = _add_two_and_damage(cli)
    _open_vault(cli).set("keylink", "account-gone-1", "{}")  # a real orphan: no file names it
    facts = _doctor_json(cli)
    [aside] = facts["moved_aside"]
    assert Path(aside["path"]).name.startswith("accounts.json.damaged-")
    assert Path(aside["path"]).read_bytes() == damaged
    assert aside["accounts"] is None and "not valid JSON" in aside["problem"]
    assert facts["orphaned_secrets"] is None  # an unreadable file may name any secret
    assert any("no secret can be proven orphaned" in why for why in facts["unchecked"])
    text = cli("doctor").stdout
    assert aside["path"] in text and "--restore" in text

    (cli.config / ".accounts.json.x1y2.tmp").write_text("half")  # temp files still go
    repaired = cli("doctor", "--repair", "--yes")
    assert repaired.returncode == 0, repaired.stderr
    assert "deleted 0 secrets and 1 temp file" in repaired.stdout, repaired.stdout
    assert "no secret can be proven orphaned" in repaired.stdout
    assert refs | {"account-gone-1"} <= _refs(cli)  # nothing deleted, the orphan neither
    assert Path(aside["path"]).read_bytes() == damaged

    # Fixed by hand (the brace put back): its accounts are named, the real orphan is not.
    Path(aside["path"]).write_bytes(damaged + b"}\n")
    facts = _doctor_json(cli)
    assert sorted(facts["moved_aside"][0]["accounts"]) == ["Main", "Spare"]
    assert facts["orphaned_secrets"] == 1
    repaired = cli("doctor", "--repair", "--yes")
    assert repaired.returncode == 0 and "deleted 1 secret " in repaired.stdout, repaired.stdout
    assert _refs(cli) == refs  # only the real orphan went

    # Restore: one commit, read back, and the accounts work again.
    restored = cli("doctor", "--restore", aside["path"])
    assert restored.returncode == 0, restored.stderr
    assert "restored 2 accounts: Main, Spare" in restored.stdout
    assert not Path(aside["path"]).exists()
    assert list(cli.config.glob("accounts.json.restored-*"))
    listed = json.loads(cli("accounts", "list", "--json").stdout)
    assert sorted(a["name"] for a in listed) == ["Main", "Spare"]
    copied = cli("copy", "Main", "--field", "secret", "--print")
    assert copied.returncode == 0 and copied.stdout.strip() == BYBIT_LINES.split()[1]
    after = _doctor_json(cli)
    assert (after["orphaned_secrets"], after["accounts_without_secret"]) == (0, [])
    assert after["moved_aside"] == []


def test_restore_refuses_a_file_it_cannot_read_and_changes_nothing(cli: Cli):
    _damaged, refs = _add_two_and_damage(cli)
    cli("accounts", "list")  # moves it aside
    [aside] = cli.config.glob("accounts.json.damaged-*")
    before = aside.read_bytes()
    refused = cli("doctor", "--restore", str(aside))
    assert refused.returncode == 2
    assert "not valid JSON at line" in refused.stderr and str(aside) in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert aside.read_bytes() == before and not (cli.config / "accounts.json").exists()
    other = cli("doctor", "--restore", str(cli.config / "accounts.json"))
    assert other.returncode == 2 and "not a moved-aside accounts file" in other.stderr
    assert _refs(cli) == refs


def test_restore_keeps_accounts_added_since_and_refuses_a_name_clash(cli: Cli):
    _damaged, refs = _add_two_and_damage(cli)
    cli("accounts", "list")
    [aside] = cli.config.glob("accounts.json.damaged-*")
    aside.write_bytes(aside.read_bytes() + b"}\n")
    added = cli("accounts", "add", "Main", "--exchange", "bybit", stdin=BYBIT_LINES)
    assert added.returncode == 0, added.stderr
    clash = cli("doctor", "--restore", str(aside))
    assert clash.returncode == 2 and "'Main' already exists" in clash.stderr
    assert aside.exists()
    assert cli("accounts", "remove", "Main", "--yes").returncode == 0
    third = cli("accounts", "add", "Third", "--exchange", "bybit", stdin=BYBIT_LINES)
    assert third.returncode == 0, third.stderr
    restored = cli("doctor", "--restore", str(aside))
    assert restored.returncode == 0, restored.stderr
    listed = json.loads(cli("accounts", "list", "--json").stdout)
    assert [a["name"] for a in listed] == ["Third", "Main", "Spare"]
    assert refs < _refs(cli)
    assert _doctor_json(cli)["orphaned_secrets"] == 0


def _history_with(cli: Cli, *ids: str) -> None:
    """history.json with one kept check for each of ``ids``."""
    from tui.services.store.history import HistoryEntry, HistoryStore

    history = HistoryStore(cli.config)
    for key in ids:
        history.append(key, lambda _e: HistoryEntry(
            checked_at="2026-12-01T00:00:00Z", status="works", worst="ok",
            host="api.bybit.com", rights=("read", "trade"), ips=("203.0.113.7",),
            ip_restricted=True, key_kind="hmac", clock_offset_ms=0))


def _history_ids(cli: Cli) -> set[str]:
    from tui.services.store.history import HistoryStore

    everything, problem = HistoryStore(cli.config).read()
    assert problem is None
    return set(everything)


def test_repair_deletes_the_history_of_accounts_removed_earlier_and_only_that(cli: Cli):
    # A removal cut short after its commit (or an older keylink's) leaves the account's check
    # history, with its rights and bound addresses. doctor finds it and --repair deletes it;
    # the history of an account that exists, or that a moved-aside file names, stays.
    assert cli("accounts", "add", "Main", "--exchange", "bybit",
               stdin=_own_key("Main")).returncode == 0
    main_id = json.loads((cli.config / "accounts.json").read_text())["accounts"][0]["id"]
    aside_id, gone_id = "a" * 32, "b" * 32
    (cli.config / "accounts.json.damaged-20261201T000000Z").write_text(
        '{"accounts": [{"id": "' + aside_id + '", "name": "Old", "secret_ref": "account-old"')
    _history_with(cli, main_id, aside_id, gone_id)
    facts = _doctor_json(cli)
    assert facts["orphaned_histories"] == 1
    text = cli("doctor").stdout
    assert "old history    1 removed account still has check history" in text
    repaired = _doctor_json(cli, "--repair", "--yes")
    assert repaired["repaired"]["histories_deleted"] == 1
    assert _history_ids(cli) == {main_id, aside_id}
    assert _doctor_json(cli)["orphaned_histories"] == 0


def test_a_moved_aside_file_that_cannot_be_read_keeps_every_history(cli: Cli):
    assert cli("accounts", "add", "Main", "--exchange", "bybit",
               stdin=_own_key("Main")).returncode == 0
    # A moved-aside name keylink refuses to read (a link it never follows): it may name any
    # account, so no history is called a removed account's.
    aside = cli.config / "accounts.json.damaged-20261201T000000Z"
    aside.symlink_to(cli.config / "nowhere")
    _history_with(cli, "b" * 32)
    facts = _doctor_json(cli)
    assert facts["orphaned_histories"] is None
    assert any("no check history is called a removed account's" in why
               for why in facts["unchecked"])
    _doctor_json(cli, "--repair", "--yes")
    assert _history_ids(cli) == {"b" * 32}


def test_the_repair_question_counts_removed_accounts_histories_in_words(cli: Cli, monkeypatch):
    _history_with(cli, "b" * 32, "c" * 32)
    asked: list[str] = []
    monkeypatch.setattr("tui.cli.common.stdin_is_terminal", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt="": asked.append(prompt) or "n")
    assert cli("doctor", "--repair").returncode == 0
    assert asked == ["Delete 0 orphaned secrets, the check history of 2 removed accounts and "
                     "0 temp files? [y/N] "]
    assert _history_ids(cli) == {"b" * 32, "c" * 32}  # "n": nothing deleted
