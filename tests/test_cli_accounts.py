"""`keylink accounts add/list/remove` and `keylink doctor`: in-process through the shared ``cli``
fixture (tests/support/cli.py), as real processes where the test is about the process."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.cli import VAULT_PASSPHRASE, Cli, make_cli
from tests.support.keyring_daemon import KeyringDaemon

__all__ = ["VAULT_PASSPHRASE", "Cli", "make_cli"]  # imported from here by other CLI tests

BYBIT_LINES = "AbCdEfGh1234567890\n" + "S" * 36 + "\n"
OKX_LINES = "12345678-abcd-abcd-abcd-1234567890ab\n0123456789ABCDEF0123456789ABCDEF\nmy-pass\n"


def assert_usage_error(result, words: str) -> None:
    assert result.returncode == 2, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("keylink: ")
    assert words in lines[0], lines[0]
    assert "Traceback" not in result.stderr


def test_add_list_remove(cli: Cli):
    added = cli(
        "accounts", "add", "Main", "--exchange", "bybit", "--env", "testnet", stdin=BYBIT_LINES
    )
    assert added.returncode == 0, added.stderr
    assert "added Main: Bybit, testnet (https://api-testnet.bybit.com)" in added.stdout
    assert "keylink vault" in added.stdout
    assert cli("accounts", "add", "Okx", "--exchange", "okx", stdin=OKX_LINES).returncode == 0

    listed = cli("accounts", "list")
    assert listed.returncode == 0
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["NAME", "EXCHANGE", "ENV", "BASE", "URL", "LAST", "CHECK"]
    assert lines[1].split()[:4] == ["Main", "bybit", "testnet", "https://api-testnet.bybit.com"]
    assert lines[2].split()[:4] == ["Okx", "okx", "mainnet", "https://www.okx.com"]

    as_json = json.loads(cli("accounts", "list", "--json").stdout)
    assert [a["name"] for a in as_json] == ["Main", "Okx"]
    assert as_json[0]["whitelist"] == "insilico-general" and as_json[0]["last_check"] is None
    assert "secret_ref" not in as_json[0]

    removed = cli("accounts", "remove", "main", "--yes")
    assert removed.returncode == 0 and "removed Main and its secret" in removed.stdout
    assert [a["name"] for a in json.loads(cli("accounts", "list", "--json").stdout)] == ["Okx"]

    from tui.services.store.accounts import AccountStore
    from tui.services.store.secrets import SecretStore
    from tui.services.store.vault import Vault

    secrets = SecretStore.open(vault=Vault(cli.data / "vault.json"))
    secrets.unlock(VAULT_PASSPHRASE)
    store = AccountStore(secrets, cli.config)
    creds = store.credentials(store.get("Okx"))
    assert (creds.api_key, creds.secret, creds.passphrase) == tuple(OKX_LINES.split())


def test_list_with_no_accounts_and_a_custom_url(cli: Cli):
    assert "no accounts yet" in cli("accounts", "list").stdout
    result = cli(
        "accounts",
        "add",
        "Local",
        "--exchange",
        "bybit",
        "--base-url",
        "http://127.0.0.1:8999/",
        "--whitelist",
        "insilico-bitget",
        stdin=BYBIT_LINES,
    )
    assert result.returncode == 0, result.stderr
    (account,) = json.loads(cli("accounts", "list", "--json").stdout)
    assert (account["environment"], account["base_url"], account["whitelist"]) == (
        "custom",
        "http://127.0.0.1:8999",
        "insilico-bitget",
    )


def test_pasted_ends_are_trimmed(cli: Cli):
    stdin = "  AbCdEfGh1234567890 \r\n\t" + "S" * 36 + "  \r\n"
    assert cli("accounts", "add", "Main", "--exchange", "bybit", stdin=stdin).returncode == 0


@pytest.mark.parametrize(
    ("args", "stdin", "words"),
    [
        (("--exchange", "kraken"), BYBIT_LINES, "unknown exchange 'kraken'"),
        (("--exchange", "bybit", "--env", "moon"), BYBIT_LINES, "no environment 'moon'"),
        (("--exchange", "bybit", "--base-url", "http://10.0.0.1"), BYBIT_LINES, "must use https"),
        (("--exchange", "bybit"), "AbCdEf Gh\nsecret\n", "API key has a space inside"),
        (("--exchange", "bybit"), "key\nsec\u00e9ret\n", "API secret has a non-ASCII character"),
        (("--exchange", "bybit"), "key\n", "stdin ended before the API secret"),
        (("--exchange", "okx"), "key\nsecret\n", "stdin ended before the API passphrase"),
        (("--exchange", "okx"), "key\nsecret\n\n", "API passphrase is empty"),
    ],
)
def test_add_refuses_with_one_line_and_exit_2(cli: Cli, args, stdin, words):
    result = cli("accounts", "add", "Main", *args, stdin=stdin)
    assert_usage_error(result, words)
    assert (
        not (cli.config / "accounts.json").exists()
        or json.loads((cli.config / "accounts.json").read_text())["accounts"] == []
    )


def test_other_usage_errors(cli: Cli):
    cli("accounts", "add", "Main", "--exchange", "bybit", stdin=BYBIT_LINES)
    assert_usage_error(
        cli("accounts", "add", "MAIN", "--exchange", "bybit", stdin=BYBIT_LINES), "already exists"
    )
    assert_usage_error(
        cli("accounts", "add", "x" * 41, "--exchange", "bybit", stdin=BYBIT_LINES), "keep it to 40"
    )
    assert_usage_error(cli("accounts", "remove", "Main"), "add --yes")
    assert_usage_error(cli("accounts", "remove", "Nope", "--yes"), "no account named 'Nope'")
    assert_usage_error(
        cli(
            "accounts",
            "remove",
            "Main",
            "--yes",
            env={"KEYLINK_VAULT_PASSPHRASE": "not the passphrase"},
        ),
        "wrong vault passphrase",
    )
    no_passphrase = {k: v for k, v in cli.env.items() if k != "KEYLINK_VAULT_PASSPHRASE"}
    result = subprocess.run(
        [sys.executable, "-m", "tui", "accounts", "remove", "Main", "--yes"],
        capture_output=True,
        text=True,
        env=no_passphrase,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    assert_usage_error(result, "set KEYLINK_VAULT_PASSPHRASE")
    # Secrets are never accepted on the command line.
    argv_secret = cli("accounts", "add", "Other", "--exchange", "bybit", "--secret", "abc")
    assert argv_secret.returncode == 2 and "unrecognized arguments: --secret" in argv_secret.stderr
    assert [a["name"] for a in json.loads(cli("accounts", "list", "--json").stdout)] == ["Main"]


@pytest.mark.cli_process  # bytes in the inherited environment
def test_a_vault_passphrase_with_bytes_that_are_not_utf8(cli: Cli, tmp_path: Path):
    # The environment carries raw bytes; Python sees the 0xff as the surrogate U+DCFF.
    bad = {"KEYLINK_VAULT_PASSPHRASE": "cli test vault\udcffpassphrase"}
    assert cli("accounts", "add", "Main", "--exchange", "bybit", stdin=BYBIT_LINES).returncode == 0
    assert_usage_error(cli("accounts", "remove", "Main", "--yes", env=bad),
                       "wrong vault passphrase")
    fresh = make_cli(tmp_path / "fresh", cheap_vault=False)
    result = fresh("accounts", "add", "Main", "--exchange", "bybit", stdin=BYBIT_LINES, env=bad)
    assert_usage_error(result, "UTF-8")
    assert "udcff" not in result.stderr.lower() and "\\x" not in result.stderr
    assert not (fresh.data / "vault.json").exists()


def test_endless_stdin_is_refused_not_read_into_memory(cli: Cli):
    # `< /dev/zero`: one endless line. Reading it whole would fill memory and never end.
    with open("/dev/zero", "rb") as zero:
        result = subprocess.run(
            [sys.executable, "-m", "tui", "accounts", "add", "Main", "--exchange", "bybit"],
            stdin=zero, capture_output=True, text=True, env=cli.env, timeout=30,
        )
    assert_usage_error(result, "API key")
    assert "too long" in result.stderr
    assert not (cli.config / "accounts.json").exists() or json.loads(
        (cli.config / "accounts.json").read_text())["accounts"] == []


def test_a_data_dir_that_cannot_be_made_is_one_line(tmp_path: Path):
    fresh = make_cli(tmp_path, cheap_vault=False)
    (tmp_path / "data").write_text("not a folder")
    result = fresh("accounts", "add", "Main", "--exchange", "bybit", stdin=BYBIT_LINES)
    assert_usage_error(result, "Not a directory")


def test_a_damaged_accounts_file_is_reported_and_moved_aside(cli: Cli):
    cli.config.mkdir(parents=True)
    (cli.config / "accounts.json").write_text("{oops")
    result = cli("accounts", "list")
    assert result.returncode == 0
    assert "keylink: warning: the accounts file was damaged" in result.stderr
    assert list(cli.config.glob("accounts.json.damaged-*"))


@pytest.mark.slow
def test_first_add_creates_a_vault_with_the_default_cost(tmp_path: Path):
    cli = make_cli(tmp_path, cheap_vault=False)
    assert_usage_error(
        cli(
            "accounts",
            "add",
            "Main",
            "--exchange",
            "bybit",
            stdin=BYBIT_LINES,
            env={"KEYLINK_VAULT_PASSPHRASE": "short"},
        ),
        "at least 12",
    )
    assert not (cli.data / "vault.json").exists()
    result = cli("accounts", "add", "Main", "--exchange", "bybit", stdin=BYBIT_LINES)
    assert result.returncode == 0, result.stderr
    header = json.loads((cli.data / "vault.json").read_text())["header"]
    assert header["n"] == 2**17
    no_passphrase = {k: v for k, v in cli.env.items() if k != "KEYLINK_VAULT_PASSPHRASE"}
    other = make_cli(tmp_path / "other", cheap_vault=False)
    result = subprocess.run(
        [sys.executable, "-m", "tui", "accounts", "add", "Main", "--exchange", "bybit"],
        input=BYBIT_LINES,
        capture_output=True,
        text=True,
        timeout=60,
        env={
            **no_passphrase,
            "XDG_DATA_HOME": str(other.root / "data"),
            "XDG_CONFIG_HOME": str(other.root / "config"),
        },
    )
    assert_usage_error(result, "a new vault passphrase is needed: set KEYLINK_VAULT_PASSPHRASE")


def test_doctor(cli: Cli):
    result = cli("doctor")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "secret store   keylink vault" in out
    assert "keyring found no system keyring" in out
    assert f"{cli.data / 'vault.json'}: exists; KEYLINK_VAULT_PASSPHRASE opens it" in out
    assert str(cli.config / "accounts.json") in out
    assert "OSC 52" in out and "none here (no DISPLAY or WAYLAND_DISPLAY)" in out
    assert "ssh            no" in out and "tmux=no" in out

    facts = json.loads(
        cli(
            "doctor",
            "--json",
            env={
                "SSH_CONNECTION": "10.0.0.2 5000 10.0.0.1 22",
                "TMUX": "/tmp/tmux-0/default,1,0",
                "TERM": "screen-256color",
                "TERM_PROGRAM": "tmux",
                "DISPLAY": ":0",
                "KEYLINK_SECRET_BACKEND": "vault",
            },
        ).stdout
    )
    assert facts["ssh"] is True and facts["tmux"] is True
    assert facts["term"] == "screen-256color" and facts["term_program"] == "tmux"
    assert facts["clipboard"] == ["OSC 52", "local clipboard (pyperclip)"]
    assert facts["secret_store_override"]["KEYLINK_SECRET_BACKEND"] == "vault"
    assert "KEYLINK_SECRET_BACKEND=vault" in facts["secret_store_reason"]

    wrong = cli("doctor", env={"KEYLINK_VAULT_PASSPHRASE": "not the passphrase"})
    assert "does not open it (wrong vault passphrase" in wrong.stdout


def test_doctor_without_a_vault_yet(tmp_path: Path):
    cli = make_cli(tmp_path, cheap_vault=False)
    out = cli("doctor").stdout
    assert "not created yet" in out and "(0 saved)" in out
    assert not (cli.data / "vault.json").exists()  # doctor only looks


@pytest.mark.secret_service
def test_cli_with_a_real_secret_service(keyring_daemon: KeyringDaemon, tmp_path: Path):
    cli = make_cli(tmp_path, cheap_vault=False)
    env = {**keyring_daemon.env}
    out = cli("doctor", env=env).stdout
    assert "secret store   Secret Service" in out and "answered" in out
    added = cli("accounts", "add", "Ss", "--exchange", "okx", stdin=OKX_LINES, env=env)
    assert added.returncode == 0, added.stderr
    assert "Secret Service" in added.stdout
    assert not (cli.data / "vault.json").exists()  # no vault needed
    assert cli("accounts", "remove", "Ss", "--yes", env=env).returncode == 0
    assert json.loads(cli("accounts", "list", "--json", env=env).stdout) == []


@pytest.mark.slow
@pytest.mark.cli_process  # the keyring call is left hanging in a thread of the process
def test_a_keyring_that_never_answers_gives_up_with_a_message(cli: Cli):
    hanging = {"PYTHON_KEYRING_BACKEND": "tests.support.keyring_hanging.HangingKeyring"}
    doctor = cli("doctor", env=hanging)
    assert "PYTHON_KEYRING_BACKEND selects it" in doctor.stdout
    started = time.monotonic()
    result = cli("accounts", "add", "Main", "--exchange", "bybit", stdin=BYBIT_LINES, env=hanging)
    assert time.monotonic() - started < 30
    assert_usage_error(result, "did not answer within 5 s while trying to save a secret")
    assert "unlock your login keyring" in result.stderr
    assert not (cli.config / "accounts.json").exists()  # nothing half-saved


def test_the_form_checks_apply(cli: Cli):
    twice = cli(
        "accounts",
        "add",
        "Twice",
        "--exchange",
        "bybit",
        stdin="AbCdEfGh1234567890\nAbCdEfGh1234567890\n",
    )
    assert_usage_error(twice, "pasted twice")
    odd = cli("accounts", "add", "Odd", "--exchange", "bybit", stdin="short\n" + "S" * 36 + "\n")
    assert odd.returncode == 0, odd.stderr
    assert "keylink: warning: Bybit API keys are usually" in odd.stderr
    assert "5 characters" in odd.stderr
    assert [a["name"] for a in json.loads(cli("accounts", "list", "--json").stdout)] == ["Odd"]


def test_a_hostile_vault_header_is_refused_at_once_naming_the_vault(cli: Cli):
    import time

    from tests.services.test_vault import set_header_cost

    assert cli("accounts", "add", "Main", "--exchange", "bybit", stdin=BYBIT_LINES).returncode == 0
    vault = cli.data / "vault.json"
    content = set_header_cost(vault, 2**20, 8, 16)  # 1 GiB, 16 passes: once 30 s, then "keyring"
    start = time.monotonic()
    result = cli("copy", "Main", "--field", "secret", "--print")
    elapsed = time.monotonic() - start
    assert result.returncode == 2, result.stderr
    assert str(vault) in result.stderr and "more key-derivation work" in result.stderr
    assert "keyring" not in result.stderr.lower()
    assert len(result.stderr.strip().splitlines()) == 1
    assert elapsed < 10  # a process start, not a 1 GiB scrypt (well under a second in-process)
    assert vault.read_bytes() == content
