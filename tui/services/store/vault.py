"""keylink's encrypted vault: a keyring for machines with no OS keyring (servers, SSH, containers).

One JSON file, mode 0600, replaced atomically on every write. Its body is AES-256-GCM ciphertext of
the entries under a key derived from the user's passphrase with scrypt. The file looks like::

    {"keylink_vault": 1,
     "header": {"kdf": "scrypt", "n": ..., "r": ..., "p": ..., "salt": b64, "check": b64},
     "header_sha256": hex, "nonce": b64, "ciphertext": b64}

Telling a wrong passphrase from a damaged file (neither ever rewrites or deletes the file):

* ``header_sha256`` is a plain checksum of the header as written, so a damaged header (salt, KDF
  parameters) is reported as damage instead of turning into another key and a "wrong passphrase".
* ``check`` is HMAC-SHA256 of a constant under a second key derived with the encryption key. A
  mismatch means the passphrase is wrong; a match followed by a GCM failure means a damaged body.
* The header is the GCM associated data, so body and header cannot be mixed from different files.

``cryptography`` is imported lazily: this module is imported by the TUI at start-up.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

from tui.services.core import paths
from tui.services.core.private_files import (
    RefusedFile,
    atomic_write,
    ensure_private_dir,
    leftover_temp_files,
    read_regular,
    remove_files,
)
from tui.services.keys.credentials import MIN_PASSPHRASE, protect_process

VAULT_FILE = "vault.json"


def default_path() -> Path:
    """Where keylink's vault lives unless told otherwise: ``vault.json`` in the data dir."""
    return paths.data_dir() / VAULT_FILE
#: A vault entry is about 300 bytes; 8 MiB is thousands of accounts. Anything bigger is not a
#: vault keylink wrote, and reading it whole would cost memory (a 4 GiB file took 8 GB).
VAULT_LIMIT = 8 * 2**20
FORMAT_VERSION = 1
_CHECK_MESSAGE = b"keylink vault key check v1"
_NONCE_BYTES = 12
_SALT_BYTES = 16
# The most key-derivation work a vault header may ask for. keylink writes N=2**17, r=8, p=1
# (128 MiB, well under a second); the cap leaves room for a future default twice as hard
# (N=2**18) and for p up to 4, but refuses what no keylink ever wrote: a hostile or damaged
# header asking for N=2**20, r=8, p=16 once cost 30 s and 1 GiB before anything was checked.
# Checked before scrypt runs; the README's vault section states the same figures.
_MAX_LOG2_N = 20
_MAX_R = 16
_MAX_P = 4
_LOCK_TIMEOUT = 30.0
# scrypt needs 128 * r * N bytes: at most 256 MiB (twice the default).
_MAX_KDF_MEMORY = 2**28
# N * r * p (the time scrypt takes grows with it): at most 4 times the default's 2**20.
_MAX_KDF_WORK = 2**22


class VaultError(Exception):
    """Base of the vault's errors; messages are one user-facing line and never contain secrets."""


class VaultLockedError(VaultError):
    """The vault has not been unlocked in this process (or was replaced by another passphrase)."""


class VaultPassphraseError(VaultError):
    """The passphrase does not open this vault."""


class VaultDamagedError(VaultError):
    """The vault file cannot be read: truncated, edited or corrupted. It is left untouched."""


class VaultMissingError(VaultError):
    """There is no vault file yet."""


@dataclass(frozen=True)
class ScryptParams:
    """scrypt cost. The default is OWASP's advice (N=2**17, r=8, p=1: ~128 MiB, well under 1 s).

    Tests pass cheaper parameters through ``Vault(kdf=...)``; the parameters are stored in the file
    header so such a vault opens later without any setting. No environment variable can lower them.
    """

    log2_n: int = 17
    r: int = 8
    p: int = 1

    def __post_init__(self) -> None:
        if not (
            1 <= self.log2_n <= _MAX_LOG2_N and 1 <= self.r <= _MAX_R and 1 <= self.p <= _MAX_P
        ):
            raise ValueError("scrypt parameters out of range")
        if 128 * self.r * 2**self.log2_n > _MAX_KDF_MEMORY:
            raise ValueError("scrypt parameters need too much memory")
        if 2**self.log2_n * self.r * self.p > _MAX_KDF_WORK:
            raise ValueError("scrypt parameters need too much work")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: Any, what: str) -> bytes:
    """Strict base64: anything that does not round-trip exactly counts as damage."""
    if not isinstance(text, str):
        raise VaultDamagedError(f"the vault's {what} is missing or not text")
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise VaultDamagedError(f"the vault's {what} is not valid base64") from None
    if _b64(data) != text:
        raise VaultDamagedError(f"the vault's {what} is not valid base64")
    return data


def _vault_id(salt: bytes) -> str:
    return hashlib.sha256(b"keylink vault id " + salt).hexdigest()[:16]


def _canonical(header: dict[str, Any]) -> bytes:
    return json.dumps(header, sort_keys=True, separators=(",", ":")).encode("ascii")


def _is_text(passphrase: str) -> bool:
    """False for a passphrase with lone surrogates: undecodable bytes from the environment or a
    pipe. UTF-8 cannot encode them, and the encoder's error message would quote them."""
    try:
        passphrase.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _derive(passphrase: str, salt: bytes, params: ScryptParams) -> tuple[bytes, bytes]:
    """(encryption key, key-check key) from one scrypt run."""
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    material = Scrypt(salt=salt, length=64, n=2**params.log2_n, r=params.r, p=params.p).derive(
        passphrase.encode("utf-8")
    )
    return material[:32], material[32:]


def _key_check(check_key: bytes) -> bytes:
    return hmac.new(check_key, _CHECK_MESSAGE, hashlib.sha256).digest()


@dataclass(frozen=True)
class _Parsed:
    header: dict[str, Any]
    params: ScryptParams
    salt: bytes
    check: bytes
    nonce: bytes
    ciphertext: bytes


def _parse(raw: bytes) -> _Parsed:
    """Check the file's structure and header checksum; VaultDamagedError on anything unexpected.

    A header asking for more scrypt work than keylink ever writes is refused here, before the
    KDF runs: running it first cost 30 s and 1 GiB, and then the timeout was blamed on the OS
    keyring. The caller names the file (``SecretStore.unlock``)."""
    try:
        doc = json.loads(raw.decode("ascii"))
    except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: nested too deep
        raise VaultDamagedError("the vault file is not readable (truncated or corrupted)") from None
    if not isinstance(doc, dict) or doc.get("keylink_vault") != FORMAT_VERSION:
        raise VaultDamagedError("the vault file has an unknown format or version")
    if set(doc) != {"keylink_vault", "header", "header_sha256", "nonce", "ciphertext"}:
        raise VaultDamagedError("the vault file has unexpected fields")
    header = doc["header"]
    if not isinstance(header, dict) or set(header) != {"kdf", "n", "r", "p", "salt", "check"}:
        raise VaultDamagedError("the vault header is damaged")
    if doc["header_sha256"] != hashlib.sha256(_canonical(header)).hexdigest():
        raise VaultDamagedError("the vault header is damaged (checksum mismatch)")
    n, r, p = header["n"], header["r"], header["p"]
    if header["kdf"] != "scrypt" or not all(type(v) is int for v in (n, r, p)):
        raise VaultDamagedError("the vault header names an unknown key derivation")
    if n < 2 or n & (n - 1) or r < 1 or p < 1:
        raise VaultDamagedError("the vault header has an impossible scrypt cost")
    try:
        params = ScryptParams(n.bit_length() - 1, r, p)
    except ValueError:
        raise VaultDamagedError(
            "the vault header asks for more key-derivation work than keylink "
            f"ever writes (scrypt N=2^{n.bit_length() - 1}, r={r}, p={p}; keylink's limit is "
            f"{_MAX_KDF_MEMORY // 2**20} MiB and {_MAX_KDF_WORK // 2**20} times its default "
            "work): the file may have been tampered with, so keylink did not run it"
        ) from None
    salt = _unb64(header["salt"], "salt")
    check = _unb64(header["check"], "key check")
    nonce = _unb64(doc["nonce"], "nonce")
    ciphertext = _unb64(doc["ciphertext"], "body")
    if len(salt) != _SALT_BYTES or len(check) != 32 or len(nonce) != _NONCE_BYTES:
        raise VaultDamagedError("the vault header is damaged (wrong field sizes)")
    if len(ciphertext) < 16:
        raise VaultDamagedError("the vault body is truncated")
    return _Parsed(header, params, salt, check, nonce, ciphertext)


class Vault:
    """The encrypted file. Unlock once per process; every write re-reads the file under a lock."""

    def __init__(self, path: Path | None = None, *, kdf: ScryptParams | None = None) -> None:
        self.path = path if path is not None else default_path()
        self._kdf = kdf or ScryptParams()
        self._key: bytes | None = None
        self._salt: bytes | None = None
        self._check: bytes | None = None
        #: How many writes the file has seen (inside the ciphertext, so it cannot be edited).
        self.generation = 0
        #: Which vault ``generation`` counts in: a digest of its salt (a new vault has a new one).
        self.vault_id: str | None = None
        self._expected: dict[str, int] = {}

    def __repr__(self) -> str:
        state = "unlocked" if self.unlocked else "locked"
        return f"Vault(path={str(self.path)!r}, {state})"

    @property
    def unlocked(self) -> bool:
        return self._key is not None

    def exists(self) -> bool:
        return self.path.exists()

    @contextlib.contextmanager
    def _locked_file(self) -> Iterator[None]:
        from filelock import FileLock, Timeout

        lock = FileLock(str(self.path) + ".lock", mode=0o600, timeout=_LOCK_TIMEOUT)
        try:
            ensure_private_dir(self.path.parent)
            lock.acquire()
        except Timeout:
            raise VaultError(
                f"another keylink is holding the vault lock ({lock.lock_file}); close it and retry"
            ) from None
        except OSError as exc:  # e.g. the data dir's parent is a file, or is read-only
            raise VaultError(
                f"cannot use {self.path.parent} for the vault: {exc.strerror or exc}"
            ) from None
        try:
            yield
        finally:
            lock.release()

    def _read_raw(self) -> bytes:
        try:
            return read_regular(self.path, VAULT_LIMIT)
        except FileNotFoundError:
            raise VaultMissingError(f"there is no vault at {self.path} yet") from None
        except RefusedFile as exc:
            raise VaultDamagedError(str(exc)) from None
        except OSError as exc:  # EACCES: e.g. created by `sudo keylink`, owned by root
            raise VaultError(
                f"cannot read the vault {self.path}: {exc.strerror or exc} (see `keylink doctor`)"
            ) from None

    def expect_generation(self, vault_id: str, generation: int) -> None:
        """Refuse this vault (``vault_id``) if it is older than ``generation``: what accounts.json
        saw last. A vault with another id (a new vault after the old one was moved aside) is not
        an old copy, so it is not held to that count."""
        self._expected[vault_id] = max(self._expected.get(vault_id, 0), generation)

    def _refuse_rollback(self, found: int, expected: int) -> None:
        raise VaultDamagedError(
            f"the vault file is older than the accounts file expects (write {found} of at "
            f"least {expected}): an older copy was put back. keylink will not use it; put "
            "the newer vault back (if the old one was restored on purpose, remove the "
            "\"vault_generation\" entry from accounts.json)"
        )

    def create(self, passphrase: str) -> None:
        """Create an empty vault; refuses short passphrases, never overwrites an existing vault."""
        protect_process()
        if len(passphrase) < MIN_PASSPHRASE:
            raise ValueError(f"the vault passphrase needs at least {MIN_PASSPHRASE} characters")
        if not _is_text(passphrase):
            raise ValueError("the vault passphrase has bytes that are not UTF-8 text; check the "
                             "terminal's or KEYLINK_VAULT_PASSPHRASE's encoding")
        salt = os.urandom(_SALT_BYTES)
        key, check_key = _derive(passphrase, salt, self._kdf)
        check = _key_check(check_key)
        with self._locked_file():
            if self.path.exists():
                # Two first runs at once: the one that lost the race shares the vault that won,
                # if it was given the same passphrase.
                try:
                    self.unlock(passphrase)
                except VaultPassphraseError:
                    raise VaultError(
                        f"another keylink created the vault at {self.path} just now with another "
                        "passphrase; unlock it with that one"
                    ) from None
                return
            self._key, self._salt, self._check = key, salt, check
            self.generation, self.vault_id = 0, _vault_id(salt)
            try:
                self._write({})
            except BaseException:
                self.lock()  # no file: do not look unlocked
                raise

    def unlock(self, passphrase: str) -> None:
        """Derive the key and prove it opens the file; VaultPassphraseError / VaultDamagedError."""
        protect_process()
        parsed = _parse(self._read_raw())
        if not _is_text(passphrase):
            # create() refuses such passphrases, so it cannot be this vault's: wrong, not damage.
            raise VaultPassphraseError("wrong vault passphrase")
        try:
            key, check_key = _derive(passphrase, parsed.salt, parsed.params)
        except (MemoryError, ValueError):  # OpenSSL refused the cost the header asks for
            raise VaultDamagedError(
                "the vault header asks for a key derivation this machine cannot run"
            ) from None
        if not hmac.compare_digest(_key_check(check_key), parsed.check):
            raise VaultPassphraseError("wrong vault passphrase")
        self._decrypt(parsed, key)  # VaultDamagedError: the body does not authenticate, or rollback
        self._key, self._salt, self._check = key, parsed.salt, parsed.check
        self._kdf = parsed.params

    def lock(self) -> None:
        """Forget the key."""
        self._key = self._salt = self._check = None

    def _decrypt(self, parsed: _Parsed, key: bytes) -> dict[str, dict[str, str]]:
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        try:
            plain = AESGCM(key).decrypt(parsed.nonce, parsed.ciphertext, _canonical(parsed.header))
        except InvalidTag:
            raise VaultDamagedError(
                "the vault file is damaged: the passphrase is right but the contents fail their "
                "integrity check"
            ) from None
        try:
            body = json.loads(plain.decode("utf-8"))
            entries = body["entries"]
            generation = body.get("generation", 0)  # vaults from before the counter have none
        except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError):
            raise VaultDamagedError(
                "the vault's decrypted contents are not in the expected form"
            ) from None
        if not isinstance(entries, dict) or type(generation) is not int:
            raise VaultDamagedError("the vault's decrypted contents are not in the expected form")
        vault_id = _vault_id(parsed.salt)
        expected = self._expected.get(vault_id, 0)
        if generation < expected:
            self._refuse_rollback(generation, expected)
        self.generation, self.vault_id = generation, vault_id
        return entries

    def _entries(self) -> dict[str, dict[str, str]]:
        """Read and decrypt the current file with the key we hold."""
        if self._key is None:
            raise VaultLockedError("the keylink vault is locked; unlock it with its passphrase")
        parsed = _parse(self._read_raw())
        if parsed.salt != self._salt or parsed.check != self._check:
            # Another process replaced the vault (new passphrase or a restored backup).
            self.lock()
            raise VaultLockedError(
                "the vault file was replaced by another program; unlock it again"
            )
        return self._decrypt(parsed, self._key)

    def _write(self, entries: dict[str, dict[str, str]]) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        assert self._key is not None and self._salt is not None and self._check is not None
        header = {
            "kdf": "scrypt",
            "n": 2**self._kdf.log2_n,
            "r": self._kdf.r,
            "p": self._kdf.p,
            "salt": _b64(self._salt),
            "check": _b64(self._check),
        }
        nonce = os.urandom(
            _NONCE_BYTES
        )  # fresh per write: GCM must never reuse a nonce under a key
        generation = self.generation + 1
        body = json.dumps(
            {"entries": entries, "generation": generation}, separators=(",", ":")
        ).encode("utf-8")
        ciphertext = AESGCM(self._key).encrypt(nonce, body, _canonical(header))
        doc = {
            "keylink_vault": FORMAT_VERSION,
            "header": header,
            "header_sha256": hashlib.sha256(_canonical(header)).hexdigest(),
            "nonce": _b64(nonce),
            "ciphertext": _b64(ciphertext),
        }
        try:
            ensure_private_dir(self.path.parent)
            atomic_write(self.path, json.dumps(doc, separators=(",", ":")).encode("ascii"))
        except OSError as exc:  # disk full, read-only: the old file is still whole
            raise VaultError(
                f"could not write the vault {self.path}: {exc.strerror or exc}; it was not changed"
            ) from None
        self.generation = generation

    def get(self, service: str, username: str) -> str | None:
        """The stored value, or None."""
        return self._entries().get(service, {}).get(username)

    def temp_files(self) -> list[Path]:
        """Temp files an interrupted write left beside the vault (never the vault itself)."""
        return leftover_temp_files(self.path)

    def remove_temp_files(self) -> int:
        """Delete the leftovers, under the vault lock so no write in progress loses its file."""
        if not self.path.parent.is_dir():
            return 0
        with self._locked_file():
            return remove_files(self.temp_files())

    def names(self, service: str) -> list[str]:
        """The usernames stored under ``service`` (doctor looks for orphans with it)."""
        return list(self._entries().get(service, {}))

    def set(self, service: str, username: str, password: str) -> None:
        """Store a value (read-modify-write under the file lock: parallel writers lose nothing)."""
        with self._locked_file():
            entries = self._entries()
            entries.setdefault(service, {})[username] = password
            self._write(entries)

    def delete(self, service: str, username: str) -> None:
        """Remove a value; KeyError if there is none."""
        with self._locked_file():
            entries = self._entries()
            try:
                del entries[service][username]
            except KeyError:
                raise KeyError(f"no vault entry {service}/{username}") from None
            if not entries[service]:
                del entries[service]
            self._write(entries)


class VaultKeyring(KeyringBackend):
    """A ``keyring`` backend over a :class:`Vault`.

    Select it with ``PYTHON_KEYRING_BACKEND=tui.services.store.vault.VaultKeyring``. Its priority
    is below keyring's fail backend on purpose: keyring must never pick it on its own (it needs a
    passphrase, and in keyring's chainer a locked vault would break lookups in the real keyring).
    """

    priority = -0.5  # type: ignore[assignment]

    def __init__(self, vault: Vault | None = None) -> None:
        super().__init__()
        self.vault = vault if vault is not None else Vault()

    def get_password(self, service: str, username: str) -> str | None:
        return self.vault.get(service, username)

    def set_password(self, service: str, username: str, password: str) -> None:
        self.vault.set(service, username, password)

    def delete_password(self, service: str, username: str) -> None:
        try:
            self.vault.delete(service, username)
        except KeyError:
            raise PasswordDeleteError("no such entry in the keylink vault") from None
