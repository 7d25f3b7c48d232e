"""`keylink accounts add --generate` and PEM secrets on stdin, end to end against the fake
exchange, plus a scan proving no private key reaches disk in plain text (issue 11)."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_cli_accounts import VAULT_PASSPHRASE, Cli
from tui.services.keys import keypairs


def _stored_secrets(cli: Cli) -> list[str]:
    from tui.services.store.vault import Vault

    vault = Vault(cli.data / "vault.json")
    vault.unlock(VAULT_PASSPHRASE)
    # Each entry is one account's credentials as JSON (secrets.py).
    return [json.loads(value)["secret"] for entries in vault._entries().values()
            for value in entries.values()]


def _assert_no_plain_private_key(root: Path, pem: str) -> None:
    """Neither the PEM body, any of its lines, its base64 DER nor the raw DER is in any file."""
    body = keypairs.public_key_body(pem)
    der = base64.b64decode(body)
    needles = [body.encode(), der, *(line.encode() for line in pem.splitlines()[1:-1]
                                     if len(line) >= 40)]
    scanned = 0
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            scanned += 1
            for needle in needles:
                assert needle not in data, f"private key material in {path}"
    assert scanned >= 2  # accounts.json and the vault at least


def _verify_json(cli: Cli, name: str) -> dict:
    result = cli("verify", name, "--json")
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)


def _generate_via_cli(cli: Cli, fake, ex: str, args: list[str], *, register: bool = True,
                      ips: tuple[str, ...] = ("127.0.0.1",),
                      ) -> tuple[subprocess.CompletedProcess, str]:
    """Run a ``--generate`` command: read the public key it prints, register it on the fake (as
    the user does on the exchange's page) and type the API key the exchange assigned. Without
    ``register`` the user types an API key made for another public key."""
    proc = subprocess.Popen([sys.executable, "-m", "tui", *args], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=cli.env)
    assert proc.stdout is not None and proc.stdin is not None
    lines = [proc.stdout.readline().rstrip("\n")]
    while lines[-1] != "-----END PUBLIC KEY-----":
        line = proc.stdout.readline()
        assert line, proc.stderr.read() if proc.stderr else ""
        lines.append(line.rstrip("\n"))
    public_pem = "\n".join(lines)
    assert lines[0] == "-----BEGIN PUBLIC KEY-----"
    registered = public_pem if register else keypairs.generate(keypairs.ED25519).public_pem
    key = fake.register_public_key(ex, registered, ips=ips)
    out, err = proc.communicate(key.api_key + "\n", timeout=60)
    return subprocess.CompletedProcess(args, proc.returncode, "\n".join(lines) + "\n" + out,
                                       err), public_pem


@pytest.mark.parametrize(("ex", "kind", "kind_id"), [("binance", "ed25519", "ed25519"),
                                                     ("bybit", "rsa", "rsa-2048")])
def test_generate_register_verify_via_cli(cli, fake, ex, kind, kind_id):
    done, public_pem = _generate_via_cli(cli, fake, ex, [
        "accounts", "add", "mine", "--exchange", ex, "--base-url", fake.url, "--generate", kind])
    out, err = done.stdout, done.stderr
    assert done.returncode == 0, err
    assert "added mine" in out
    assert "Register this public key" in err
    assert "PRIVATE KEY" not in out + err

    report = _verify_json(cli, "mine")
    assert report["status"] == "works" and report["key_kind"] == kind_id
    [secret] = [s for s in _stored_secrets(cli) if "PRIVATE KEY" in s]
    assert keypairs.parse(secret).public_pem == public_pem
    _assert_no_plain_private_key(cli.root, secret)


def test_pem_secret_on_stdin_is_read_as_one_value(cli, fake):
    pair = keypairs.generate(keypairs.RSA)
    key = fake.register_public_key("bitget", pair.public_pem)
    stdin = f"{key.api_key}\n{pair.private_pem}\n{key.passphrase}\n"
    result = cli("accounts", "add", "bg", "--exchange", "bitget", "--base-url", fake.url,
                 stdin=stdin)
    assert result.returncode == 0, result.stderr
    assert "Recognised an RSA 2048-bit private key" in result.stderr
    assert pair.public_pem in result.stdout
    assert _verify_json(cli, "bg")["key_kind"] == "rsa-2048"
    _assert_no_plain_private_key(cli.root, pair.private_pem)


def test_encrypted_pem_on_stdin_is_opened_once_and_stored_plain_in_the_vault(cli, fake):
    from cryptography.hazmat.primitives import serialization

    pair = keypairs.generate(keypairs.ED25519)
    key = fake.register_public_key("binance", pair.public_pem)
    encrypted = serialization.load_pem_private_key(pair.private_pem.encode(), None).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"key pass 123")).decode()
    stdin = f"{key.api_key}\n{encrypted}"
    missing = cli("accounts", "add", "bn", "--exchange", "binance", "--base-url", fake.url,
                  stdin=stdin)
    assert missing.returncode == 2
    assert missing.stderr.strip() == ("keylink: the private key is encrypted: set "
                                      "KEYLINK_KEY_PASSPHRASE or run this in a terminal to enter "
                                      "its passphrase")
    wrong = cli("accounts", "add", "bn", "--exchange", "binance", "--base-url", fake.url,
                stdin=stdin, env={"KEYLINK_KEY_PASSPHRASE": "nope"})
    assert wrong.returncode == 2
    assert "The passphrase does not open this private key" in wrong.stderr
    ok = cli("accounts", "add", "bn", "--exchange", "binance", "--base-url", fake.url,
             stdin=stdin, env={"KEYLINK_KEY_PASSPHRASE": "key pass 123"})
    assert ok.returncode == 0, ok.stderr
    assert _verify_json(cli, "bn")["key_kind"] == "ed25519"
    assert pair.private_pem in _stored_secrets(cli)
    _assert_no_plain_private_key(cli.root, pair.private_pem)


@pytest.mark.parametrize(("ex", "pem_kind", "words"), [
    ("okx", "ed25519", "keylink: OKX does not take Ed25519 keys (it takes HMAC)."),
    ("bybit", "ed25519", "keylink: Bybit does not take Ed25519 keys (it takes HMAC or RSA)."),
])
def test_wrong_kind_for_the_exchange_is_one_line(cli, fake, ex, pem_kind, words):
    pair = keypairs.generate(pem_kind)
    lines = f"KLbybitTESTkey0001\n{pair.private_pem}\n" + ("pass\n" if ex == "okx" else "")
    result = cli("accounts", "add", "x", "--exchange", ex, "--base-url", fake.url, stdin=lines)
    assert result.returncode == 2
    assert result.stderr.strip() == words


def test_truncated_pem_on_stdin_is_one_line(cli, fake):
    pair = keypairs.generate(keypairs.RSA)
    cut = "\n".join(pair.private_pem.splitlines()[:8])
    result = cli("accounts", "add", "x", "--exchange", "bybit", "--base-url", fake.url,
                 stdin=f"KLbybitTESTkey0001\n{cut}\n")
    assert result.returncode == 2
    assert result.stderr.strip() == ("keylink: stdin ended inside the private key: it has no "
                                     "-----END line")
    generate_okx = cli("accounts", "add", "x", "--exchange", "okx", "--generate", "ed25519")
    assert generate_okx.returncode == 2
    assert generate_okx.stderr.strip() == "keylink: OKX does not take Ed25519 keys (it takes HMAC)."


def test_export_key_writes_encrypted_pkcs8_0600_only_on_request(cli, fake):
    import os
    import stat

    pair = keypairs.generate(keypairs.ED25519)
    key = fake.register_public_key("binance", pair.public_pem)
    added = cli("accounts", "add", "bn", "--exchange", "binance", "--base-url", fake.url,
                stdin=f"{key.api_key}\n{pair.private_pem}\n")
    assert added.returncode == 0, added.stderr
    (cli.root / "home").mkdir(exist_ok=True)
    target = cli.root / "home" / "bn-key.pem"
    no_pass = cli("accounts", "export-key", "bn", str(target))
    assert no_pass.returncode == 2 and not target.exists()
    assert no_pass.stderr.strip() == ("keylink: set KEYLINK_KEY_PASSPHRASE or run this in a "
                                      "terminal to choose the export passphrase")
    done = cli("accounts", "export-key", "bn", str(target),
               env={"KEYLINK_KEY_PASSPHRASE": "export pass 99"})
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    text = target.read_text()
    assert text.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert keypairs.parse(text, "export pass 99").private_pem == pair.private_pem
    again = cli("accounts", "export-key", "bn", str(target),
                env={"KEYLINK_KEY_PASSPHRASE": "export pass 99"})
    assert again.returncode == 2 and "already exists" in again.stderr
    target.unlink()  # the scan below then covers only what keylink itself keeps
    _assert_no_plain_private_key(cli.root, pair.private_pem)
    hmac = cli("accounts", "add", "by", "--exchange", "bybit", "--base-url", fake.url,
               stdin=f"{fake.key('bybit').api_key}\n{fake.key('bybit').secret}\n")
    assert hmac.returncode == 0, hmac.stderr
    refused = cli("accounts", "export-key", "by", str(target),
                  env={"KEYLINK_KEY_PASSPHRASE": "export pass 99"})
    assert refused.returncode == 2
    assert "has an HMAC secret, not a key pair" in refused.stderr and not target.exists()


@pytest.mark.parametrize(("ex", "kind", "kind_id"), [("binance", "ed25519", "ed25519"),
                                                     ("bybit", "rsa", "rsa-2048")])
@pytest.mark.slow
def test_rotate_generate_switches_only_after_the_new_key_works(cli, fake, ex, kind, kind_id):
    added, _old_public = _generate_via_cli(cli, fake, ex, [
        "accounts", "add", "mine", "--exchange", ex, "--base-url", fake.url, "--generate", kind])
    assert added.returncode == 0, added.stderr
    [old_secret] = _stored_secrets(cli)

    # A slip on the exchange's page: the API key typed belongs to another public key. The check
    # fails, nothing is switched, and the new private key never reached the disk.
    failed, dropped_public = _generate_via_cli(
        cli, fake, ex, ["accounts", "rotate", "mine", "--generate", kind], register=False)
    assert failed.returncode == 1, failed.stderr
    assert "keeps its old key" in failed.stderr and "was dropped" in failed.stderr
    assert "rotated" not in failed.stdout
    assert _stored_secrets(cli) == [old_secret]
    assert _verify_json(cli, "mine")["status"] == "works"  # the old key still works
    assert dropped_public not in (cli.config / "accounts.json").read_text()

    # Registered right: the check works, the account switches, the old private key is deleted.
    rotated, new_public = _generate_via_cli(
        cli, fake, ex, ["accounts", "rotate", "mine", "--generate", kind])
    assert rotated.returncode == 0, rotated.stderr
    assert "rotated mine to the new" in rotated.stdout and "(works)" in rotated.stdout
    assert "PRIVATE KEY" not in rotated.stdout + rotated.stderr
    [new_secret] = _stored_secrets(cli)
    assert keypairs.parse(new_secret).public_pem == new_public != _old_public
    listed = json.loads(cli("accounts", "list", "--json").stdout)
    assert listed[0]["last_check"]["status"] == "works"  # the check that allowed the switch
    report = _verify_json(cli, "mine")
    assert report["status"] == "works" and report["key_kind"] == kind_id
    for pem in (old_secret, new_secret):
        _assert_no_plain_private_key(cli.root, pem)


@pytest.mark.slow
def test_rotate_generate_to_a_key_bound_elsewhere_switches_only_when_accepted(cli, fake):
    """Bound to the terminal's addresses, the new key is "locked" from here: that does not prove
    the pair matches, so keylink says so and switches only with --accept-locked."""
    added, _old = _generate_via_cli(cli, fake, "bybit", [
        "accounts", "add", "bound", "--exchange", "bybit", "--base-url", fake.url,
        "--generate", "rsa"])
    assert added.returncode == 0, added.stderr
    [old_secret] = _stored_secrets(cli)
    terminal = ("18.167.89.125",)

    refused, _pub = _generate_via_cli(
        cli, fake, "bybit", ["accounts", "rotate", "bound", "--generate", "rsa"], ips=terminal)
    assert refused.returncode == 1, refused.stderr
    assert "does not prove the new key pair matches" in " ".join(refused.stderr.split())
    assert "--accept-locked" in refused.stderr
    assert _stored_secrets(cli) == [old_secret]

    accepted, new_public = _generate_via_cli(
        cli, fake, "bybit", ["accounts", "rotate", "bound", "--generate", "rsa",
                             "--accept-locked"], ips=terminal)
    assert accepted.returncode == 0, accepted.stderr
    assert "rotated bound to the new RSA 2048-bit key (locked)" in accepted.stdout
    [new_secret] = _stored_secrets(cli)
    assert keypairs.parse(new_secret).public_pem == new_public
