"""Self-generated API keys: make, read and sign with Ed25519 and RSA key pairs.

The private key is a PEM text and is kept only where secrets are kept (keyring or vault); the
exchange gets the public key. ``cryptography`` is imported inside the functions so the app's
start-up never pays for it.

Formats follow what the exchanges' own generators write (issue 11 fact sheet): private keys as
PKCS#8 PEM (``BEGIN PRIVATE KEY``; binance/asymmetric-key-generator ``src/generate.js``,
bybit-exchange/api-rsa-generator ``src/App.js``), public keys as SubjectPublicKeyInfo PEM
(``BEGIN PUBLIC KEY``), which Binance and Bybit take on their API pages.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Where ``keylink accounts export-key`` reads the export passphrase when not on a terminal
#: (and ``accounts add`` the passphrase of an encrypted PEM).
EXPORT_PASSPHRASE_ENV = "KEYLINK_KEY_PASSPHRASE"

HMAC = "hmac"
ED25519 = "ed25519"
RSA = "rsa"

#: RSA 2048 is what both Bybit's and Binance's generators default to.
DEFAULT_RSA_BITS = 2048

_BEGIN = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----")
_END = re.compile(r"-----END ([A-Z0-9 ]+)-----")
#: PEM labels of a private key we can read (PKCS#8, encrypted PKCS#8, PKCS#1 RSA).
_PRIVATE_LABELS = ("PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "RSA PRIVATE KEY")


class KeyPemError(ValueError):
    """A private key that cannot be used, with one plain sentence saying why (never the key)."""


class PassphraseNeeded(KeyPemError):
    """The PEM is encrypted and no passphrase was given: ask for it once."""


@dataclass(frozen=True)
class KeyKind:
    """What a secret is: ``hmac``, ``ed25519`` or ``rsa`` (with its size in bits)."""

    kind: str
    bits: int | None = None

    @property
    def label(self) -> str:
        """Plain words: "HMAC", "Ed25519", "RSA 2048-bit"."""
        if self.kind == RSA:
            return f"RSA {self.bits}-bit"
        return "Ed25519" if self.kind == ED25519 else "HMAC"

    @property
    def a_label(self) -> str:
        """The label with its article: "an Ed25519", "an RSA 2048-bit", "an HMAC"."""
        return f"an {self.label}"  # all three labels start with a vowel sound

    @property
    def id(self) -> str:
        """The JSON form: "hmac", "ed25519", "rsa-2048"."""
        return f"rsa-{self.bits}" if self.kind == RSA else self.kind


@dataclass(frozen=True)
class ParsedKey:
    """A readable private key: its kind, its public key PEM and a normalised private PEM."""

    kind: KeyKind
    public_pem: str
    #: Unencrypted PKCS#8 PEM with LF line ends: what the secret store keeps and what tools
    #: (ccxt, python-binance) read; never shown, never in a repr.
    private_pem: str = field(repr=False)


def looks_like_pem(text: str) -> bool:
    """True when ``text`` (ends trimmed) is one BEGIN…END block of a private key, nothing else."""
    body = text.strip()
    begin = _BEGIN.match(body)
    ends = list(_END.finditer(body))
    end = ends[-1] if ends else None
    return (begin is not None and end is not None and end.end() == len(body)
            and begin.group(1) == end.group(1) and begin.group(1) in _PRIVATE_LABELS
            and len(_BEGIN.findall(body)) == 1)


def tidy_pem(text: str) -> str:
    """A PEM block with LF line ends and no indentation (python-binance and ccxt tell Ed25519
    from RSA by length, so a CRLF Ed25519 PEM would be misread by them)."""
    return _normalise(text).decode().strip()


def is_pem_secret(secret: str) -> bool:
    """Whether a stored secret is a PEM private key (any PEM label), not an HMAC secret."""
    return "-----BEGIN" in secret


def _normalise(text: str) -> bytes:
    # Pastes may carry CRLF or indentation; PEM readers want plain lines.
    lines = [line.strip() for line in text.strip().splitlines()]
    return ("\n".join(line for line in lines if line) + "\n").encode("ascii", "replace")


def _load(text: str, passphrase: str | None, *, validated: bool = False) -> Any:
    from cryptography.hazmat.primitives import serialization

    body = text.strip()
    if "OPENSSH PRIVATE KEY" in body:
        raise KeyPemError("This is an SSH key (OpenSSH format), not an API key: use the PKCS#8 "
                          "PEM file the exchange's key generator wrote (BEGIN PRIVATE KEY).")
    if "-----BEGIN" not in body:
        raise KeyPemError("This is not a PEM private key: it has no -----BEGIN line.")
    if not _BEGIN.search(body) or not looks_like_pem(body):
        raise KeyPemError("The private key is cut short or has extra text around it: copy it "
                          "again from -----BEGIN to -----END, both lines included.")
    label = _BEGIN.match(body).group(1)  # type: ignore[union-attr]  # looks_like_pem checked it
    encrypted = label == "ENCRYPTED PRIVATE KEY" or "Proc-Type: 4,ENCRYPTED" in body
    if encrypted and not passphrase:
        raise PassphraseNeeded("This private key is encrypted: enter its passphrase.")
    password = passphrase.encode() if encrypted and passphrase else None
    try:
        # An RSA key's full check takes ~0.3 s for 4096 bits and holds the GIL (so a thread
        # does not spare the UI). Keys are checked in full when they enter keylink (``parse``);
        # one read back from keylink's own secret store (``validated``) skips the repeat.
        return serialization.load_pem_private_key(_normalise(body), password=password,
                                                  unsafe_skip_rsa_key_validation=validated)
    except TypeError as exc:  # "Password was not given but private key is encrypted" and kin
        raise PassphraseNeeded("This private key is encrypted: enter its passphrase.") from exc
    except ValueError as exc:
        if encrypted and "password" in str(exc).lower():
            raise KeyPemError("The passphrase does not open this private key: check it and "
                              "try again.") from None
        raise KeyPemError("The private key is damaged or cut short: copy it again from "
                          "-----BEGIN to -----END, both lines included.") from None
    except Exception:  # unsupported algorithms raise UnsupportedAlgorithm
        raise KeyPemError("keylink cannot read this kind of private key: exchanges take "
                          "Ed25519 or RSA keys.") from None


def _kind_of(key: Any) -> KeyKind:
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

    if isinstance(key, ed25519.Ed25519PrivateKey):
        return KeyKind(ED25519)
    if isinstance(key, rsa.RSAPrivateKey):
        return KeyKind(RSA, key.key_size)
    raise KeyPemError("This private key is neither Ed25519 nor RSA: exchanges take only those "
                      "two kinds of key pair.")


def _parsed(key: Any) -> ParsedKey:
    from cryptography.hazmat.primitives import serialization

    kind = _kind_of(key)
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return ParsedKey(kind, public.decode().strip(), private.decode().strip())


def parse(text: str, passphrase: str | None = None) -> ParsedKey:
    """Read a PEM private key (PKCS#8, encrypted PKCS#8 with ``passphrase``, or PKCS#1 RSA).

    Raises ``PassphraseNeeded`` for an encrypted key without a passphrase and ``KeyPemError`` with
    one sentence for anything else (cut short, wrong passphrase, not Ed25519/RSA).
    """
    return _parsed(_load(text, passphrase))


#: PEM texts longer than this are RSA keys (an Ed25519 PKCS#8 PEM is about 120 characters, an
#: RSA-2048 one about 1,700): their full check is what takes time.
SLOW_PEM_CHARS = 1000


def parse_elsewhere(text: str, passphrase: str | None = None, timeout: float = 30.0
                    ) -> ParsedKey:
    """``parse``, with the slow part (the full RSA key check: ~0.27 s for 4096 bits, holding the
    GIL, so a thread would still freeze the app) done by a child Python; this process then loads
    the same bytes without repeating it. Blocks while the child runs, with the GIL released:
    call it from a worker thread. The key goes to the child through a pipe, never a file.
    """
    import json
    import subprocess

    from tui.services.core.child_env import child_environ
    from tui.services.core.own_code import module_command

    if len(text) <= SLOW_PEM_CHARS:
        return parse(text, passphrase)
    request = json.dumps({"pem": text, "passphrase": passphrase})
    try:
        done = subprocess.run(module_command("tui.services.keys.keycheck"), input=request,
                              capture_output=True, text=True, timeout=timeout, check=False,
                              env=child_environ())
    except (OSError, subprocess.TimeoutExpired):
        return parse(text, passphrase)  # no child here: check it in this process after all
    try:
        answer = json.loads(done.stdout)
    except ValueError:
        return parse(text, passphrase)
    if answer.get("error"):
        error = PassphraseNeeded if answer.get("passphrase_needed") else KeyPemError
        raise error(str(answer["error"]))
    return _parsed(_load(text, passphrase, validated=True))


def generate(kind: str, bits: int = DEFAULT_RSA_BITS) -> ParsedKey:
    """A fresh key pair of ``kind`` ("ed25519" or "rsa"); RSA uses e=65537 like the exchanges'
    generators."""
    if kind == ED25519:
        from cryptography.hazmat.primitives.asymmetric import ed25519

        return _parsed(ed25519.Ed25519PrivateKey.generate())
    if kind == RSA:
        from cryptography.hazmat.primitives.asymmetric import rsa

        return _parsed(rsa.generate_private_key(public_exponent=65537, key_size=bits))
    raise ValueError(f"keylink generates ed25519 or rsa keys, not {kind!r}")


def kind_of_secret(secret: str) -> KeyKind:
    """The kind of a stored secret: HMAC for a plain secret, else the PEM key's kind."""
    if not is_pem_secret(secret):
        return KeyKind(HMAC)
    return _kind_of(_load(secret, None, validated=True))


def sign(secret_pem: str, message: bytes) -> bytes:
    """The raw signature of ``message``: pure Ed25519 (RFC 8032), or RSASSA-PKCS1-v1_5 with
    SHA-256 for RSA; both deterministic, as every exchange here expects."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    key = _load(secret_pem, None, validated=True)
    kind = _kind_of(key)
    if kind.kind == ED25519:
        return key.sign(message)
    return key.sign(message, padding.PKCS1v15(), hashes.SHA256())


def sign_b64(secret_pem: str, message: str) -> str:
    """``sign`` over the UTF-8 message, standard base64 (what Binance, Bybit and Bitget send)."""
    return base64.b64encode(sign(secret_pem, message.encode())).decode()


def public_key_body(public_pem: str) -> str:
    """The base64 between the PEM lines, without line breaks: to compare with what an exchange
    shows (some pages show the key without its BEGIN/END lines)."""
    return "".join(line.strip() for line in public_pem.strip().splitlines()
                   if line.strip() and not line.startswith("-----"))


def export_encrypted(secret_pem: str, path: Path, passphrase: str) -> None:
    """Write the private key to ``path`` as encrypted PKCS#8 (mode 0600), only on request.

    Refuses an empty passphrase and an existing file (an export never overwrites a key)."""
    from cryptography.hazmat.primitives import serialization

    from tui.services.core.private_files import atomic_write

    if len(passphrase) < 8:
        raise KeyPemError("Choose an export passphrase of at least 8 characters.")
    if path.exists():
        raise KeyPemError(f"{path.name} already exists: choose another file name.")
    key = _load(secret_pem, None)
    data = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.BestAvailableEncryption(passphrase.encode()))
    atomic_write(path, data)
