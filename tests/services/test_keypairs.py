"""Self-generated keys: make, read, sign, and the one-message-per-bad-PEM rule (issue 11)."""

from __future__ import annotations

import base64
import os
import stat

import pytest

from tui.services.exchanges import exchange
from tui.services.keys import keypairs

# Binance's published Ed25519 vector (binance-spot-api-docs fix-api.md, section Logon).
BINANCE_FIX_KEY = ("-----BEGIN PRIVATE KEY-----\n"
                   "MC4CAQAwBQYDK2VwBCIEIIJEYWtGBrhACmb9Dvy+qa8WEf0lQOl1s4CLIAB9m89u\n"
                   "-----END PRIVATE KEY-----")
BINANCE_FIX_PAYLOAD = "\x01".join(["A", "EXAMPLE", "SPOT", "1", "20240627-11:17:25.223"])
BINANCE_FIX_SIGNATURE = ("4MHXelVVcpkdwuLbl6n73HQUXUf1dse2PCgT1DYqW9w8AVZ1RACFGM+5UdlGPrQHrgtS3Cvs"
                         "RURC1oj73j8gCA==")


@pytest.fixture(scope="module")
def rsa_key() -> keypairs.ParsedKey:
    return keypairs.generate(keypairs.RSA)


def test_binance_published_ed25519_vector_is_reproduced():
    assert keypairs.sign_b64(BINANCE_FIX_KEY, BINANCE_FIX_PAYLOAD) == BINANCE_FIX_SIGNATURE
    parsed = keypairs.parse(BINANCE_FIX_KEY)
    assert parsed.kind.id == "ed25519"
    assert keypairs.public_key_body(parsed.public_pem) == (
        "MCowBQYDK2VwAyEAGUIKv9dSpWXBViXp2m6vAIb8QMFJYBgyFEQsFJlqgA0=")


def test_generated_pairs_parse_back_to_the_same_public_key(rsa_key):
    ed = keypairs.generate(keypairs.ED25519)
    for made, kind in ((ed, "ed25519"), (rsa_key, "rsa-2048")):
        assert made.kind.id == kind
        assert made.private_pem.startswith("-----BEGIN PRIVATE KEY-----\n")
        assert made.public_pem.startswith("-----BEGIN PUBLIC KEY-----\n")
        again = keypairs.parse(made.private_pem)
        assert again.public_pem == made.public_pem
        assert keypairs.looks_like_pem(made.private_pem)
    assert "PRIVATE" not in repr(ed)


def test_crlf_indented_and_no_trailing_newline_pastes_are_read(rsa_key):
    # Bybit's generator writes no newline after the END line; Windows copies carry CRLF.
    pasted = "  " + rsa_key.private_pem.replace("\n", "\r\n  ")
    assert keypairs.parse(pasted).public_pem == rsa_key.public_pem


def test_pkcs1_and_encrypted_pkcs8_are_read(rsa_key):
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(rsa_key.private_pem.encode(), None)
    pkcs1 = key.private_bytes(serialization.Encoding.PEM,
                              serialization.PrivateFormat.TraditionalOpenSSL,
                              serialization.NoEncryption()).decode()
    assert pkcs1.startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert keypairs.parse(pkcs1).private_pem == rsa_key.private_pem
    encrypted = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.BestAvailableEncryption(b"open sesame")).decode()
    with pytest.raises(keypairs.PassphraseNeeded, match="encrypted: enter its passphrase"):
        keypairs.parse(encrypted)
    # Decrypted once: what is stored is the plain PKCS#8 (the store itself is the protection).
    assert keypairs.parse(encrypted, "open sesame").private_pem == rsa_key.private_pem


def test_bad_pems_get_one_clear_message_each(rsa_key):
    from cryptography.hazmat.primitives import serialization

    lines = rsa_key.private_pem.splitlines()
    cut_end = "\n".join(lines[:10])
    with pytest.raises(keypairs.KeyPemError, match=r"^The private key is cut short"):
        keypairs.parse(cut_end)
    # Only the start of the BEGIN line (a paste cut after ten characters) is cut short too, not
    # a key "with no -----BEGIN line" (found by the paste property test).
    for start in ("-----BEGIN", "-----BEGIN PRIV", lines[0][:-1]):
        with pytest.raises(keypairs.KeyPemError, match=r"^The private key is cut short"):
            keypairs.parse(start)
    with pytest.raises(keypairs.KeyPemError, match=r"has no -----BEGIN line"):
        keypairs.parse("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC")
    cut_middle = "\n".join([lines[0], *lines[1:5], lines[-1]])
    with pytest.raises(keypairs.KeyPemError, match=r"^The private key is damaged or cut short"):
        keypairs.parse(cut_middle)
    key = serialization.load_pem_private_key(rsa_key.private_pem.encode(), None)
    encrypted = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.BestAvailableEncryption(b"right one")).decode()
    with pytest.raises(keypairs.KeyPemError, match=r"^The passphrase does not open"):
        keypairs.parse(encrypted, "wrong one")
    ssh = ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n"
           "-----END OPENSSH PRIVATE KEY-----")
    with pytest.raises(keypairs.KeyPemError, match=r"^This is an SSH key"):
        keypairs.parse(ssh)
    from cryptography.hazmat.primitives.asymmetric import ec

    ec_pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode()
    with pytest.raises(keypairs.KeyPemError, match=r"^This private key is neither Ed25519 nor RSA"):
        keypairs.parse(ec_pem)
    for error in (cut_end, cut_middle):  # no message ever quotes the key
        try:
            keypairs.parse(error)
        except keypairs.KeyPemError as exc:
            assert lines[3] not in str(exc)


def test_kind_rules_per_exchange():
    assert exchange("okx").kind_problem("ed25519") == (
        "OKX does not take Ed25519 keys (it takes HMAC).")
    assert exchange("bybit").kind_problem("ed25519") == (
        "Bybit does not take Ed25519 keys (it takes HMAC or RSA).")
    assert exchange("bybit").kind_problem("rsa", 3072) == (
        "Bybit takes RSA keys of 2048 or 4096 bits; this one has 3072.")
    assert exchange("binance").kind_problem("ed25519") is None
    assert exchange("binance").kind_problem("rsa", 4096) is None
    assert exchange("bitget").kind_problem("rsa", 2048) is None


def test_export_writes_encrypted_pkcs8_with_mode_0600(tmp_path, rsa_key):
    target = tmp_path / "bybit-key.pem"
    with pytest.raises(keypairs.KeyPemError, match="at least 8 characters"):
        keypairs.export_encrypted(rsa_key.private_pem, target, "short")
    keypairs.export_encrypted(rsa_key.private_pem, target, "a long passphrase")
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    text = target.read_text()
    assert text.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    body = keypairs.public_key_body(rsa_key.private_pem)
    assert body[:40] not in text
    assert keypairs.parse(text, "a long passphrase").private_pem == rsa_key.private_pem
    with pytest.raises(keypairs.KeyPemError, match="already exists"):
        keypairs.export_encrypted(rsa_key.private_pem, target, "a long passphrase")


def test_signatures_are_deterministic_and_sized(rsa_key):
    ed = keypairs.generate(keypairs.ED25519)
    assert keypairs.sign_b64(ed.private_pem, "x") == keypairs.sign_b64(ed.private_pem, "x")
    assert len(keypairs.sign_b64(ed.private_pem, "x")) == 88
    assert len(keypairs.sign_b64(rsa_key.private_pem, "x")) == 344
    assert len(base64.b64decode(keypairs.sign_b64(rsa_key.private_pem, "x"))) == 256


def test_parse_elsewhere_answers_like_parse_for_slow_keys():
    """RSA keys are checked in a child process (the app's screen stays live); the answers and
    messages are those of ``parse``."""
    from cryptography.hazmat.primitives import serialization

    pair = keypairs.generate(keypairs.RSA)
    assert len(pair.private_pem) > keypairs.SLOW_PEM_CHARS
    assert keypairs.parse_elsewhere(pair.private_pem) == keypairs.parse(pair.private_pem)
    cut = pair.private_pem[:600] + pair.private_pem[-400:]
    with pytest.raises(keypairs.KeyPemError, match="damaged or cut short"):
        keypairs.parse_elsewhere(cut)
    key = serialization.load_pem_private_key(pair.private_pem.encode(), None)
    locked = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                               serialization.BestAvailableEncryption(b"open sesame")).decode()
    with pytest.raises(keypairs.PassphraseNeeded):
        keypairs.parse_elsewhere(locked)
    with pytest.raises(keypairs.KeyPemError, match="passphrase does not open"):
        keypairs.parse_elsewhere(locked, "not it")
    assert keypairs.parse_elsewhere(locked, "open sesame").private_pem == pair.private_pem


def test_the_key_check_child_is_not_dumpable_and_answers_without_the_key():
    import json
    import subprocess
    import sys
    import textwrap

    pair = keypairs.generate(keypairs.RSA)
    # The child, with a line that reports its dumpable flag once it has read the key.
    probe = textwrap.dedent("""
        import ctypes
        from tui.services.keys import keycheck
        keycheck.main()
        print(ctypes.CDLL(None).prctl(3, 0, 0, 0, 0))  # PR_GET_DUMPABLE
    """)
    done = subprocess.run([sys.executable, "-c", probe], input=json.dumps(
        {"pem": pair.private_pem, "passphrase": None}), capture_output=True, text=True,
        timeout=60, check=True)
    answer, dumpable = done.stdout.splitlines()
    assert json.loads(answer) == {"ok": True}
    assert dumpable == "0"
    assert "PRIVATE" not in done.stdout + done.stderr


def test_the_key_check_child_runs_keylinks_own_code_not_the_current_directorys(
        tmp_path, monkeypatch):
    """Started from a folder holding another ``tui`` package, the child must not run it (it
    would be handed the private key)."""
    impostor = tmp_path / "tui" / "services"
    impostor.mkdir(parents=True)
    (tmp_path / "tui" / "__init__.py").write_text("")
    (impostor / "__init__.py").write_text("")
    marker = tmp_path / "ran"
    (impostor / "keycheck.py").write_text(
        f"import pathlib, sys\npathlib.Path({str(marker)!r}).write_text(sys.stdin.read())\n"
        "print('{\"ok\": true}')\n")
    monkeypatch.chdir(tmp_path)
    pair = keypairs.generate(keypairs.RSA)
    assert keypairs.parse_elsewhere(pair.private_pem).public_pem == pair.public_pem
    # The impostor would also have passed a damaged key as fine; keylink's own check does not.
    body = pair.private_pem.splitlines()
    damaged = "\n".join([*body[:5], body[5][::-1], *body[6:]])
    with pytest.raises(keypairs.KeyPemError):
        keypairs.parse_elsewhere(damaged)
    assert not marker.exists()
