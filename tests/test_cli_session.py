"""The CLI's one session (issue 16): a command opens the secret store and accounts.json once,
through tui.services.session, refuses what it can before anyone is asked for a vault passphrase,
and `verify` records its checks through Session.check_and_record. In-process (the shared ``cli``
fixture) with the real cheap-KDF vault; checks go to the loopback fake exchange or to a loopback
port where nothing listens."""

from __future__ import annotations

import errno
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.exchange import FakeExchange
from tests.support.cli import Cli
from tests.test_cli_accounts import BYBIT_LINES, assert_usage_error

#: Nothing listens here: a check that runs fails to connect, and nothing leaves this machine.
NOBODY = "http://127.0.0.1:9"
DESKTOP_KEYRING = "keyring:keyring.backends.SecretService:Keyring"


def _add(cli: Cli, name: str, base_url: str = NOBODY, lines: str = BYBIT_LINES) -> None:
    added = cli("accounts", "add", name, "--exchange", "bybit", "--base-url", base_url,
                "--allow-duplicate", stdin=lines)
    assert added.returncode == 0, added.stderr


def _edit_accounts(cli: Cli, change: Callable[[list[dict[str, Any]]], None]) -> None:
    """What a hand edit or another keylink does to accounts.json."""
    path = cli.config / "accounts.json"
    doc = json.loads(path.read_text())
    change(doc["accounts"])
    path.write_text(json.dumps(doc))


def _terminal_without_passphrase(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """From now on stdin is a terminal and KEYLINK_VAULT_PASSPHRASE is unset: every hidden prompt
    is recorded (and answered with a wrong passphrase). Returns the prompts asked."""
    asked: list[str] = []
    monkeypatch.setattr("getpass.getpass",
                        lambda prompt="": asked.append(prompt) or "not the passphrase")
    monkeypatch.setattr("tui.cli.common.stdin_is_terminal", lambda: True)
    del cli.env["KEYLINK_VAULT_PASSPHRASE"]
    return asked


def _no_exec(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, str]]:
    """`exec` records the environment it would run the command with instead of replacing this
    process (the test runner)."""
    ran: list[dict[str, str]] = []
    monkeypatch.setattr("tui.services.handoff.fields.exec_with_env",
                        lambda command, env: ran.append(env))
    return ran


# -- refused before any passphrase is asked --------------------------------------------------------


@pytest.mark.parametrize("damage", ["unknown exchange", "every removal cut short"])
def test_verify_all_refuses_before_any_passphrase_is_asked(cli: Cli, monkeypatch, damage):
    # Before, `verify --all` unlocked the vault first: three prompts, then "wrong passphrase"
    # instead of what was wrong with the accounts.
    _add(cli, "Main")
    _add(cli, "Other")

    def change(accounts: list[dict[str, Any]]) -> None:
        if damage == "unknown exchange":
            accounts[1]["exchange"] = "kraken"
        else:
            for account in accounts:
                account["removing"] = "2026-11-28T10:00:00Z"

    _edit_accounts(cli, change)
    asked = _terminal_without_passphrase(cli, monkeypatch)
    result = cli("verify", "--all")
    assert result.returncode == 2, result
    if damage == "unknown exchange":
        assert_usage_error(result, "account 'Other': unknown exchange 'kraken'")
    else:
        assert "skipped: the removal of 'Main' was cut short" in result.stderr
        assert "every saved account's removal was cut short" in result.stderr
    assert asked == []


@pytest.mark.parametrize("args", [["copy", "Desk", "--field", "secret", "--print"],
                                  ["exec", "Desk", "--", "true"],
                                  ["accounts", "export-key", "Desk", "{root}/desk.pem"]])
def test_a_secret_in_another_store_is_named_before_any_passphrase_is_asked(cli: Cli, monkeypatch,
                                                                          args):
    # An account whose secret is in the desktop keyring, on a machine (an SSH session) where
    # keylink uses its vault: before, these commands asked for the vault's passphrase first.
    ran = _no_exec(monkeypatch)
    _add(cli, "Desk")
    _edit_accounts(cli, lambda accounts: accounts[0].update(secret_store=DESKTOP_KEYRING))
    asked = _terminal_without_passphrase(cli, monkeypatch)
    result = cli(*(arg.format(root=cli.root) for arg in args))
    assert_usage_error(result, "the secret of 'Desk' is in Secret Service, which keylink cannot "
                       "use now")
    assert asked == [] and ran == []
    assert not (cli.root / "desk.pem").exists()


# -- one session ----------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [
    ["verify", "Main"], ["verify", "--all"], ["copy", "Main", "--field", "secret", "--print"],
    # --no-masking: exec replaces the process (here: records its environment), as before issue 19.
    ["exec", "Main", "--no-masking", "--", "true"],
    ["accounts", "export-key", "Main", "{root}/main.pem"], ["accounts", "list"],
    ["accounts", "rotate", "Main"], ["accounts", "remove", "Main", "--yes"],
    ["accounts", "add", "Second", "--exchange", "bybit"], ["doctor"], ["doctor", "--repair"],
])
def test_a_command_opens_the_secret_store_once(cli: Cli, monkeypatch, args):
    # Each open chooses the backend again and may probe a keyring (up to 3 s when it is slow);
    # verify, copy and exec opened it twice before.
    from tui.services.store.secrets import SecretStore

    ran = _no_exec(monkeypatch)
    _add(cli, "Main")
    real_open = SecretStore.open
    opened: list[SecretStore] = []

    def counting(*a: Any, **kw: Any) -> SecretStore:
        opened.append(real_open(*a, **kw))
        return opened[-1]

    monkeypatch.setattr(SecretStore, "open", counting)
    result = cli(*(arg.format(root=cli.root) for arg in args),
                 stdin="ZyXwVuTs0987654321\n" + "T" * 36 + "\n")
    assert "Traceback" not in result.stderr
    assert result.returncode in (0, 1, 2), result
    assert len(opened) == 1, (args, result.stderr)
    if args[0] == "exec":
        assert ran and ran[0]["KEYLINK_API_SECRET"] == BYBIT_LINES.split()[1]


@pytest.mark.parametrize("args", [["verify", "Main"], ["verify", "--all"]])
def test_verify_says_when_a_damaged_accounts_file_was_moved_aside(cli: Cli, args):
    # Before, verify read the file twice and the first read moved it aside without a word: the
    # user saw only "no account named 'Main'".
    _add(cli, "Main")
    path = cli.config / "accounts.json"
    path.write_text(path.read_text().rstrip()[:-1])  # the closing brace lost, as in an editor
    result = cli(*args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("keylink: warning: the accounts file was damaged"), lines
    assert "keylink doctor --restore" in lines[0] and len(lines) == 2, lines


def test_a_secret_store_that_fails_to_open_is_reported_as_before(cli: Cli, monkeypatch):
    # The session keeps only an unexpected error's type name; the CLI still reports the error
    # itself (an OSError as "path: reason"), as it did before the session.
    from tui.services.store.secrets import SecretStore

    def broken(*_a: Any, **_kw: Any) -> SecretStore:
        raise OSError(errno.EACCES, "Permission denied", "/run/user/0/keyring")

    monkeypatch.setattr(SecretStore, "open", broken)
    result = cli("accounts", "list")
    assert_usage_error(result, "/run/user/0/keyring: Permission denied")


# -- verify records through the session -----------------------------------------------------------


def test_a_check_whose_account_went_away_meanwhile_is_shown_not_recorded(cli: Cli,
                                                                        fake: FakeExchange):
    # Another keylink removes the account while its check is on the wire: the report is still
    # printed, the record is refused in one line, and the account is not written back.
    key = fake.key("bybit")
    _add(cli, "Main", base_url=fake.url, lines=f"{key.api_key}\n{key.secret}\n")
    fake.config.latency_ms = 600
    before = len(fake.requests)

    def remove_meanwhile() -> None:
        deadline = time.monotonic() + 20
        while len(fake.requests) == before and time.monotonic() < deadline:
            time.sleep(0.01)
        _edit_accounts(cli, lambda accounts: accounts.clear())

    other = threading.Thread(target=remove_meanwhile)
    other.start()
    result = cli("verify", "Main", "--json")
    other.join()
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["ok"] is True
    assert result.stderr.strip() == ("keylink: could not record the check for Main: that account "
                                     "no longer exists (another keylink may have removed it)")
    assert json.loads((cli.config / "accounts.json").read_text())["accounts"] == []


# -- the unlock policy ----------------------------------------------------------------------------


def test_the_cli_never_prompts_from_another_thread(tmp_path: Path, cheap_kdf, monkeypatch):
    # A check reads its secret in a worker thread; a prompt there could not be interrupted with
    # Ctrl-C (the signal goes to the main thread). verify unlocks first; if the vault is locked
    # again meanwhile, the thread gets the refusal, never a prompt.
    from tui.cli.common import unlock_policy
    from tui.services.session.unlock import UnlockRefused
    from tui.services.store.secrets import SecretStore
    from tui.services.store.vault import Vault

    Vault(tmp_path / "vault.json", kdf=cheap_kdf).create("the right passphrase")
    secrets = SecretStore.open(vault=Vault(tmp_path / "vault.json", kdf=cheap_kdf))
    monkeypatch.setenv("KEYLINK_SECRET_BACKEND", "vault")
    monkeypatch.delenv("KEYLINK_VAULT_PASSPHRASE", raising=False)
    asked: list[str] = []
    monkeypatch.setattr("getpass.getpass",
                        lambda prompt="": asked.append(prompt) or "the right passphrase")
    monkeypatch.setattr("tui.cli.common.stdin_is_terminal", lambda: True)
    policy = unlock_policy()
    refused: list[BaseException] = []

    def in_a_thread() -> None:
        try:
            policy.apply(secrets, create=False, elsewhere=lambda: None)
        except UnlockRefused as exc:
            refused.append(exc)

    worker = threading.Thread(target=in_a_thread)
    worker.start()
    worker.join()
    assert asked == [] and len(refused) == 1
    assert str(refused[0]).startswith("the vault is locked: set KEYLINK_VAULT_PASSPHRASE")
    assert secrets.needs_unlock
    policy.apply(secrets, create=False, elsewhere=lambda: None)  # the main thread: asked
    assert asked == ["keylink vault passphrase: "] and not secrets.needs_unlock


def test_verify_all_with_a_secret_gone_is_one_line(cli: Cli, fake: FakeExchange):
    # Main works; Spare lost its secret (doctor lists it "without secret"). The check of all is
    # refused in one line, as before the session (the line does not name the account yet), and
    # nothing is recorded.
    key = fake.key("bybit")
    for name in ("Main", "Spare"):
        _add(cli, name, base_url=fake.url, lines=f"{key.api_key}\n{key.secret}\n")
    from tests.support.cli import VAULT_PASSPHRASE
    from tui.services.store.vault import Vault

    spare = json.loads((cli.config / "accounts.json").read_text())["accounts"][1]
    vault = Vault(cli.data / "vault.json")
    vault.unlock(VAULT_PASSPHRASE)
    vault.delete("keylink", spare["secret_ref"])
    fake.config.latency_ms = 500  # Main's check cannot end before Spare's refusal
    result = cli("verify", "--all")
    assert result.returncode == 2 and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("keylink: keylink vault holds no secret for this account")
    accounts = json.loads((cli.config / "accounts.json").read_text())["accounts"]
    assert [a.get("last_check") for a in accounts] == [None, None]
