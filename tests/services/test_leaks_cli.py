"""No secret in plain text anywhere: files under the test HOME/XDG dirs, CLI output, error texts."""

from __future__ import annotations

import base64
import binascii
import secrets as random_secrets
import string
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.support.keyring_daemon import KeyringDaemon
from tests.test_cli_accounts import Cli, make_cli


def _token(length: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(random_secrets.choice(alphabet) for _ in range(length))


def _forms(secret: str) -> set[bytes]:
    """The secret as bytes in the encodings a careless writer might use."""
    raw = secret.encode()
    return {
        raw,
        base64.b64encode(raw),
        base64.urlsafe_b64encode(raw),
        binascii.hexlify(raw),
        quote(secret).encode(),
        secret.encode("utf-16-le"),
    }


def _scan(root: Path, needles: dict[str, str]) -> list[str]:
    found = []
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            for label, secret in needles.items():
                if any(form in data for form in _forms(secret)):
                    found.append(f"{label} in {path}")
    return found


def _new_secrets() -> dict[str, str]:
    hexu = "0123456789ABCDEF"
    return {
        "bybit secret": _token(36),
        "okx secret": _token(32, hexu),
        "okx passphrase": "Pp-" + _token(16),
        "bitget secret": _token(64, "0123456789abcdef"),
        "bitget passphrase": "Bg_" + _token(16),
        "rotating secret": _token(36),
    }


def _exercise(cli: Cli, s: dict[str, str], env: dict[str, str] | None = None) -> list[str]:
    """Drive the CLI through adds, failures, listings and removals; return everything it printed."""
    outputs: list[str] = []

    def run(*args: str, stdin: str = "", expect: int | None = 0) -> None:
        result = cli(*args, stdin=stdin, env=env)
        outputs.extend((result.stdout, result.stderr))
        if expect is not None:
            assert result.returncode == expect, result.stderr

    run(
        "accounts",
        "add",
        "Bybit",
        "--exchange",
        "bybit",
        stdin=f"BYBITKEY0123456789\n{s['bybit secret']}\n",
    )
    run(
        "accounts",
        "add",
        "Okx",
        "--exchange",
        "okx",
        "--env",
        "demo",
        stdin=f"12345678-abcd-abcd-abcd-1234567890ab\n{s['okx secret']}\n{s['okx passphrase']}\n",
    )
    run(
        "accounts",
        "add",
        "Bitget",
        "--exchange",
        "bitget",
        stdin=f"bg_{'a' * 32}\n{s['bitget secret']}\n{s['bitget passphrase']}\n",
    )
    # Failures that had the secrets in hand: a duplicate name, a bad paste, an extra field.
    run(
        "accounts",
        "add",
        "bybit",
        "--exchange",
        "bybit",
        stdin=f"BYBITKEY0123456789\n{s['bybit secret']}\n",
        expect=2,
    )
    run(
        "accounts",
        "add",
        "Broken",
        "--exchange",
        "okx",
        stdin=f"k\n{s['okx secret']} tail\n{s['okx passphrase']}\n",
        expect=2,
    )
    run(
        "accounts",
        "add",
        "Broken",
        "--exchange",
        "okx",
        stdin=f"k\n{s['okx secret']}\n{s['okx passphrase']}\u200b\n",
        expect=2,
    )
    run(
        "accounts",
        "add",
        "Rotating",
        "--exchange",
        "bybit",
        stdin=f"ROTATEKEY012345678\n{s['rotating secret']}\n",
    )
    run("accounts", "list")
    run("accounts", "list", "--json")
    run("doctor")
    run("doctor", "--json")
    run("accounts", "remove", "Rotating", "--yes")
    return outputs


def _check(cli: Cli, s: dict[str, str], outputs: list[str], extra_roots: tuple[Path, ...] = ()):
    printed = "\n".join(outputs)
    for label, secret in s.items():
        assert secret not in printed, f"{label} was printed"
    for root in (cli.root, *extra_roots):
        assert _scan(root, s) == []
    # The sanity check that the scan can find something: the accounts file holds the names.
    assert _scan(cli.config, {"name": "Bitget"}) != []


def test_no_secret_in_files_or_output_with_the_vault(tmp_path: Path):
    cli = make_cli(tmp_path)
    s = _new_secrets()
    s["vault passphrase"] = cli.env["KEYLINK_VAULT_PASSPHRASE"]
    outputs = _exercise(cli, s)
    _check(cli, s, outputs)
    # And the secrets are really in there (so the search above was looking at the right place).
    from tui.services.store.accounts import AccountStore
    from tui.services.store.secrets import SecretStore
    from tui.services.store.vault import Vault

    secrets = SecretStore.open(vault=Vault(cli.data / "vault.json"))
    secrets.unlock(s["vault passphrase"])
    store = AccountStore(secrets, cli.config)
    assert store.credentials(store.get("Okx")).passphrase == s["okx passphrase"]
    for account in store.list():
        creds = store.credentials(account)
        for text in (
            repr(creds),
            str(creds),
            repr(account),
            repr(store),
            repr(secrets),
            repr(secrets.vault),
        ):
            assert not any(secret in text for secret in s.values())


def test_wrong_vault_passphrase_is_not_echoed(tmp_path: Path):
    cli = make_cli(tmp_path)
    wrong = "wrong-" + _token(20)
    result = cli("accounts", "remove", "X", "--yes", env={"KEYLINK_VAULT_PASSPHRASE": wrong})
    assert result.returncode == 2
    assert wrong not in result.stdout + result.stderr
    assert _scan(cli.root, {"wrong passphrase": wrong}) == []


@pytest.mark.slow
@pytest.mark.secret_service
def test_no_secret_in_files_or_output_with_the_secret_service(
    keyring_daemon: KeyringDaemon, tmp_path: Path
):
    cli = make_cli(tmp_path, cheap_vault=False)
    s = _new_secrets()
    outputs = _exercise(cli, s, env=dict(keyring_daemon.env))
    assert "Secret Service" in outputs[0]
    # gnome-keyring's own files are encrypted with the login password: nothing readable there.
    _check(cli, s, outputs, extra_roots=(keyring_daemon.root,))
