"""Secrets handed to a container as files: a read-only store over ``KEYLINK_SECRETS_DIR``.

Docker and Kubernetes hand secrets to a container as files (``/run/secrets/…``). A bot's container
has no keyring and no one to type a vault passphrase, so keylink reads the key from those files,
one file per field, named after the account (``slug``: ``Bybit main`` -> ``bybit-main``)::

    $KEYLINK_SECRETS_DIR/bybit-main/api_key     (a folder per account: a Kubernetes Secret
    $KEYLINK_SECRETS_DIR/bybit-main/secret       mounted at /run/secrets/bybit-main)
    $KEYLINK_SECRETS_DIR/bybit-main/passphrase   (OKX and Bitget only)

    $KEYLINK_SECRETS_DIR/bybit-main.api_key     (or flat: Docker secrets named so)
    $KEYLINK_SECRETS_DIR/bybit-main.secret

The account itself (exchange, environment) comes from accounts.json as usual (it holds no secret:
mount it read-only). keylink never writes here: the files belong to whoever hands them in, so a
save, rotate or delete is refused with one line. Symlinks are followed (Kubernetes mounts each
file as a link into a timestamped folder). A file other users could read is reported (the
warning lines of ``warnings``): the point of the handover is that only the bot reads it.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from keyring.backend import KeyringBackend

from tui.services.store.errors import SecretStoreError
from tui.services.store.pass_store import slug

#: The ``secret_store`` value of the files store (accounts are never saved there).
FILES_STORE = "files"
SECRETS_DIR_ENV = "KEYLINK_SECRETS_DIR"
FIELDS = ("api_key", "secret", "passphrase")
_LIMIT = 64 * 1024


class StoreReadOnly(SecretStoreError):
    """The store is read-only for keylink (secrets handed in as files)."""


def secrets_dir() -> Path | None:
    """``KEYLINK_SECRETS_DIR`` as a path, None when unset."""
    raw = os.environ.get(SECRETS_DIR_ENV, "").strip()
    return Path(raw).expanduser() if raw else None


class FilesKeyring(KeyringBackend):
    """Reads ``<dir>/<entry>/<field>`` or ``<dir>/<entry>.<field>``; never writes."""

    priority = -0.5  # type: ignore[assignment]  # chosen by name only

    def __init__(self, directory: Path) -> None:
        super().__init__()
        self.dir = directory

    @property
    def label(self) -> str:
        return f"secret files in {self.dir} ({SECRETS_DIR_ENV})"

    def refused(self, what: str) -> StoreReadOnly:
        return StoreReadOnly(
            f"the {self.label} are read-only for keylink, so it cannot {what}: change the key "
            "where it is kept (a vault, pass) and hand the files in again"
        )

    def _field_path(self, entry: str, field: str) -> Path | None:
        inside, flat = self.dir / entry / field, self.dir / f"{entry}.{field}"
        found = [p for p in (inside, flat) if p.exists()]
        if len(found) > 1:
            raise SecretStoreError(f"{self.label}: both {inside} and {flat} exist; keep one")
        return found[0] if found else None

    def _read(self, path: Path) -> str:
        try:
            info = path.stat()
            if not stat.S_ISREG(info.st_mode):
                raise SecretStoreError(f"{self.label}: {path} is not a regular file")
            if info.st_size > _LIMIT:
                raise SecretStoreError(f"{self.label}: {path} is over {_LIMIT // 1024} KiB, "
                                       "not a key")
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            raise SecretStoreError(f"{self.label}: {path} is not UTF-8 text") from None
        except OSError as exc:
            raise SecretStoreError(f"{self.label}: cannot read {path}: "
                                   f"{exc.strerror or exc}") from None
        # A file written with `echo` ends in a line break; a PEM keeps its inner lines.
        return text.strip()

    def get_password(self, service: str, username: str) -> str | None:
        """The account's fields as keylink's JSON value (``username`` is the entry name)."""
        paths = {f: self._field_path(username, f) for f in FIELDS}
        if paths["api_key"] is None and paths["secret"] is None:
            return None
        for needed in ("api_key", "secret"):
            if paths[needed] is None:
                raise SecretStoreError(
                    f"{self.label}: {username} has no {needed} file (expected "
                    f"{self.dir / username / needed} or {self.dir / f'{username}.{needed}'})")
        values = {f: (self._read(p) if p is not None else "") for f, p in paths.items()}
        return json.dumps(values)

    def set_password(self, service: str, username: str, password: str) -> None:
        raise self.refused("save a secret")

    def delete_password(self, service: str, username: str) -> None:
        raise self.refused("delete a secret")

    def entries(self) -> list[str]:
        """Entry names with at least an api_key or secret file."""
        names: set[str] = set()
        try:
            for item in self.dir.iterdir():
                if item.is_dir() and any((item / f).exists() for f in FIELDS[:2]):
                    names.add(item.name)
                else:
                    stem, dot, field = item.name.rpartition(".")
                    if dot and field in FIELDS[:2]:
                        names.add(stem)
        except OSError:
            return []
        return sorted(names)

    def warnings(self) -> list[str]:
        """One line per secret file other users could read (or that is not there at all)."""
        if not self.dir.is_dir():
            return [f"{SECRETS_DIR_ENV}={self.dir} is not a folder"]
        lines = []
        for entry in self.entries():
            for field in FIELDS:
                with_path = self._field_path_quiet(entry, field)
                if with_path is None:
                    continue
                try:
                    mode = with_path.stat().st_mode
                except OSError:
                    continue
                if mode & 0o044:
                    lines.append(
                        f"{with_path} can be read by other users (mode {stat.S_IMODE(mode):04o}): "
                        "hand it in as 0400 (Kubernetes `defaultMode: 0400`; `chmod 600` the "
                        "source file for Docker)")
        return lines

    def _field_path_quiet(self, entry: str, field: str) -> Path | None:
        try:
            return self._field_path(entry, field)
        except SecretStoreError:
            return None


def entry_name(account_name: str) -> str:
    """The files' name for an account (the same readable name pass entries start with)."""
    return slug(account_name)
