"""SecretStore: the only way keylink reads or writes a secret.

It talks to the ``keyring`` API. The backend is what keyring picks when that is a real keyring which
answers in time; otherwise keylink's own encrypted vault (see ``vault.py``). Every call runs with a
timeout in a daemon thread, because a keyring can block forever (a locked login keyring waiting
for a prompt nobody sees, a D-Bus service that hangs, a macOS keychain over SSH).

Error messages are one line that says what to do; they never contain a secret. The errors are in
``errors.py``; the settings' names, store ids, the real-keyring test and the timed call that every
keyring call goes through are in ``backends.py``. This module holds the store, its choice of
backend, and the register of open stores the idle lock walks.
"""

from __future__ import annotations

import builtins
import json
import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from tui.services.core.masking import mask_secrets
from tui.services.keys.credentials import (
    MIN_PASSPHRASE,
    Credentials,
    check_new_passphrase,
    passphrase_strength,
)
from tui.services.store.backends import (
    BACKEND_ENV,
    DEFAULT_TIMEOUT,
    PASSPHRASE_ENV,
    PROBE_USERNAME,
    SERVICE,
    VAULT_NAME,
    VAULT_SLOW,
    friendly_name,
    idle_limit_from_env,
    is_real_keyring,
    run_with_timeout,
    store_id,
    unlock_hint,
)
from tui.services.store.errors import (
    KeyringLocked,
    KeyringTimeout,
    KeyringUnavailable,
    SecretNotFound,
    SecretStoreError,
    VaultDamaged,
    VaultLocked,
    WrongPassphrase,
)

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

    from tui.services.store.vault import Vault


T = TypeVar("T")

# Re-exported: the CLI and the vault screen ask the secret store about passphrases.
__all__ = [
    "MIN_PASSPHRASE",
    "Credentials",
    "SecretStore",
    "passphrase_strength",
]




class SecretStore:
    """Secrets of keylink accounts, one keyring entry per account (service "keylink")."""

    def __init__(
        self,
        backend: KeyringBackend,
        *,
        backend_name: str,
        reason: str,
        vault: Vault | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        chosen: bool = True,
    ) -> None:
        self.backend = backend
        self.backend_name = backend_name
        self.reason = reason
        self.vault = vault
        self.timeout = timeout
        #: False when keylink picked the store on its own (then new accounts follow the old ones).
        self.chosen = chosen
        self.store_id = store_id(backend)
        #: Seconds without use after which the vault locks itself (None: never).
        self.idle_limit = idle_limit_from_env()
        self._clock: Callable[[], float] = time.monotonic
        self._last_used = self._clock()

    def __repr__(self) -> str:
        return f"SecretStore({self.backend_name!r})"

    # -- choosing a backend -----------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        probe_timeout: float = 3.0,
        *,
        backend: KeyringBackend | None = None,
        vault: Vault | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        choice: str | None = None,
    ) -> SecretStore:
        """Choose the backend (never raises because there is no keyring: the vault is the fallback).

        ``backend`` replaces keyring's own choice (tests, embedding); ``vault`` replaces the default
        vault file. ``KEYLINK_SECRET_BACKEND`` (or ``choice``, which replaces it: ``accounts add
        --store``, ``accounts move --to``) names a store: ``vault``, ``keyring`` (the system
        keyring, as keyring picks it), ``pass``, ``files`` (``KEYLINK_SECRETS_DIR``, which also
        selects it when nothing is named) or a keyring backend as keyring names it; a name that
        is not usable here raises SecretStoreError, it never means another store. A backend the user
        named for keyring (``PYTHON_KEYRING_BACKEND`` or keyring's config file) is used as named,
        without the priority check and probe, unless it is keyring's fail or null backend;
        ``PYTHON_KEYRING_BACKEND=tui.services.store.vault.VaultKeyring`` selects the vault.
        """

        from tui.services.store.vault import Vault, VaultKeyring

        def use_vault(why: str, by_user: bool = False) -> SecretStore:
            chosen = vault if vault is not None else Vault()
            return cls(
                VaultKeyring(chosen),
                backend_name=VAULT_NAME,
                reason=why,
                vault=chosen,
                timeout=timeout,
                chosen=by_user,
            )

        from tui.services.store.choice import backend_by_name
        from tui.services.store.files_store import SECRETS_DIR_ENV, secrets_dir

        raw = os.environ.get(BACKEND_ENV, "").strip() if choice is None else choice.strip()
        asked = f"{BACKEND_ENV}={raw}" if choice is None else f"--store {raw}"
        choice = raw.lower()
        note = ""
        if choice == "vault":
            return use_vault(f"{asked} asks for it", by_user=True)
        if choice == "pass":
            return cls.open_pass(f"{asked} asks for it")
        if choice == "files" or (choice in ("", "auto") and secrets_dir() is not None):
            return cls.open_files(f"{asked} asks for it" if choice else
                                  f"{SECRETS_DIR_ENV} is set (secrets handed in as files)")
        if choice not in ("", "auto", "keyring"):
            named = backend_by_name(raw)  # raises SecretStoreError: never another store instead
            return cls(named, backend_name=friendly_name(named), reason=f"{asked} asks for it",
                       timeout=timeout)

        named_by = None
        if backend is None:
            import keyring.core

            from tui.services.store.backends import system_keyring_now

            try:
                # As things are now: a retry after the user started or unlocked their keyring
                # sees it.
                backend = system_keyring_now()
                if os.environ.get("PYTHON_KEYRING_BACKEND"):
                    named_by = "PYTHON_KEYRING_BACKEND"
                elif keyring.core.load_config() is not None:
                    named_by = "keyring's config file"
            except Exception as exc:  # e.g. PYTHON_KEYRING_BACKEND names a class that does not load
                return use_vault(
                    f"keyring's backend could not be loaded ({type(exc).__name__})" + note
                )

        if isinstance(backend, VaultKeyring):
            if vault is None:
                vault = backend.vault
            return use_vault("PYTHON_KEYRING_BACKEND selects keylink's vault" + note, by_user=True)

        name = friendly_name(backend)
        if choice == "keyring":
            return cls(
                backend,
                backend_name=name,
                reason=f"{asked} asks for it",
                timeout=timeout,
            )
        from keyring.backends import fail, null

        if named_by and not isinstance(backend, fail.Keyring | null.Keyring):
            return cls(
                backend, backend_name=name, reason=f"{named_by} selects it" + note, timeout=timeout
            )
        real, why_not = is_real_keyring(backend)
        if not real:
            return use_vault(why_not + note)

        from keyring.errors import KeyringLocked as _Locked

        probe = backend
        try:
            run_with_timeout(
                lambda: probe.get_password(SERVICE, PROBE_USERNAME),
                probe_timeout,
                "probe the keyring",
            )
        except KeyringTimeout:
            return use_vault(f"{name} did not answer within {probe_timeout:g} s" + note)
        except _Locked:
            # It exists and answered: keep it (the user's secrets may be in it); say it is locked.
            return cls(
                backend,
                backend_name=name,
                reason=f"{name} is the system keyring (it was locked when keylink started)" + note,
                timeout=timeout,
                chosen=False,
            )
        except Exception as exc:
            return use_vault(f"{name} failed its first call ({type(exc).__name__})" + note)
        return cls(
            backend,
            backend_name=name,
            reason=f"{name} is the system keyring and answered" + note,
            timeout=timeout,
            chosen=False,
        )

    @classmethod
    def open_pass(cls, reason: str) -> SecretStore:
        """The pass store (``PASSWORD_STORE_DIR``). Opens even when pass cannot be used yet:
        each use then says why, naming the store (no silent switch to another)."""
        from tui.services.store.pass_store import PassKeyring

        backend = PassKeyring()
        return cls(backend, backend_name=backend.label, reason=reason, timeout=30.0)

    @classmethod
    def open_files(cls, reason: str) -> SecretStore:
        """The read-only store over ``KEYLINK_SECRETS_DIR``; SecretStoreError when it is unset."""
        from tui.services.store.files_store import SECRETS_DIR_ENV, FilesKeyring, secrets_dir

        directory = secrets_dir()
        if directory is None:
            raise SecretStoreError(f"the files store needs {SECRETS_DIR_ENV}: set it to the "
                                   "folder the secrets are handed in (e.g. /run/secrets)")
        backend = FilesKeyring(directory)
        return cls(backend, backend_name=backend.label, reason=reason)

    @property
    def shared(self) -> bool:
        """True for pass: other people's keylinks may keep entries in the same store, so an
        entry no account of this user names is not proven garbage."""
        from tui.services.store.pass_store import PASS_STORE

        return self.store_id == PASS_STORE

    @property
    def read_only(self) -> bool:
        """True for secrets handed in as files: keylink reads them and never writes there."""
        from tui.services.store.files_store import FILES_STORE

        return self.store_id == FILES_STORE

    def refuse_writes(self, what: str) -> None:
        """StoreReadOnly (one line) when this store is read-only."""
        from tui.services.store.files_store import FilesKeyring

        if isinstance(self.backend, FilesKeyring):
            raise self.backend.refused(what)

    def warnings(self) -> builtins.list[str]:
        """What a command should print before it uses this store (secret files others can
        read)."""
        from tui.services.store.files_store import FilesKeyring

        if isinstance(self.backend, FilesKeyring):
            return self.backend.warnings()
        return []

    # -- vault state ------------------------------------------------------------------------------

    @property
    def uses_vault(self) -> bool:
        return self.vault is not None

    @property
    def needs_unlock(self) -> bool:
        return self.vault is not None and not self.vault.unlocked and self.vault.exists()

    @property
    def needs_new_vault(self) -> bool:
        return self.vault is not None and not self.vault.exists()

    def unlock(self, passphrase: str) -> None:
        """Open the vault; WrongPassphrase or VaultDamaged (the file is never changed)."""
        from tui.services.store.vault import (
            VaultDamagedError,
            VaultError,
            VaultMissingError,
            VaultPassphraseError,
        )

        vault = self._require_vault()
        self._used()
        try:
            run_with_timeout(
                lambda: vault.unlock(passphrase), max(self.timeout, 30.0), "unlock the vault",
                hint=VAULT_SLOW,
            )
        except VaultPassphraseError:
            raise WrongPassphrase("wrong vault passphrase: try again") from None
        except VaultDamagedError as exc:
            raise VaultDamaged(
                f"{exc}; the file {vault.path} was left as it is (restore a backup "
                "or move it aside to start a new vault)"
            ) from None
        except VaultMissingError:
            raise VaultLocked("there is no vault yet: create one with a new passphrase") from None
        except VaultError as exc:  # unreadable (another user's file), a lock timeout
            raise SecretStoreError(str(exc)) from None

    def create_vault(self, passphrase: str) -> None:
        """Create the vault; ValueError(message) if the passphrase is too short or easy to guess."""
        from tui.services.store.vault import VaultError

        vault = self._require_vault()
        check_new_passphrase(passphrase)
        self._used()
        try:
            run_with_timeout(
                lambda: vault.create(passphrase), max(self.timeout, 30.0), "create the vault",
                hint=VAULT_SLOW,
            )
        except VaultError as exc:
            raise SecretStoreError(str(exc)) from None

    # -- locking --------------------------------------------------------------------------------

    @property
    def can_lock(self) -> bool:
        """True when there is an unlocked vault to lock."""
        return self.vault is not None and self.vault.unlocked

    def lock(self) -> None:
        """Lock the vault now: the derived key is dropped; the passphrase is asked on next use."""
        if self.vault is not None:
            self.vault.lock()

    @property
    def clock(self) -> Callable[[], float]:
        """What "now" is for the idle lock: ``time.monotonic`` unless a session (or a test, which
        must not sleep through an idle limit) gives its own. Setting it counts as a use."""
        return self._clock

    @clock.setter
    def clock(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._used()

    def lock_due(self) -> float | None:
        """Seconds until the idle lock (0 when due), or None: no vault, locked, or no idle lock."""
        if self.vault is None or not self.vault.unlocked or self.idle_limit is None:
            return None
        return max(0.0, self._last_used + self.idle_limit - self._clock())

    def lock_if_idle(self) -> bool:
        """Lock the vault if it has not been used for ``idle_limit`` s; True if it locked now."""
        if self.lock_due() == 0.0:
            self.lock()
            return True
        return False

    def _used(self) -> None:
        self._last_used = self._clock()

    def _require_vault(self) -> Vault:
        if self.vault is None:
            raise SecretStoreError(f"keylink is using {self.backend_name}, not its vault")
        return self.vault

    # -- secrets ----------------------------------------------------------------------------------

    def _call(
        self,
        what: str,
        call: Callable[[], T],
        secrets: tuple[str, ...] = (),
        undo_if_late: Callable[[], object] | None = None,
    ) -> T:
        """One backend call with the timeout, its errors turned into SecretStoreError subclasses."""
        from keyring.errors import InitError, NoKeyringError
        from keyring.errors import KeyringLocked as _Locked

        from tui.services.store.vault import VaultDamagedError, VaultError, VaultLockedError

        self._used()
        if self.vault is not None and not self.vault.unlocked:
            if self.vault.exists():
                raise VaultLocked(
                    f"keylink's vault is locked: enter its passphrase (or set "
                    f"{PASSPHRASE_ENV}) and retry"
                )
            raise VaultLocked(
                "keylink's vault does not exist yet: create it with a passphrase first"
            )
        try:
            hint = "another keylink may be saving to the vault; retry" if self.vault else None
            return run_with_timeout(call, self.timeout, what, undo_if_late, hint)
        except SecretStoreError:
            raise
        except _Locked:
            raise KeyringLocked(f"{self.backend_name} is locked: {unlock_hint()}") from None
        except (NoKeyringError, InitError):
            raise KeyringUnavailable(
                f"no usable keyring ({self.backend_name}); set {BACKEND_ENV}=vault to use "
                "keylink's encrypted vault"
            ) from None
        except VaultLockedError as exc:
            raise VaultLocked(f"{exc}") from None
        except VaultDamagedError as exc:
            path = self.vault.path if self.vault is not None else "the vault file"
            raise VaultDamaged(f"{exc}; {path} was left as it is") from None
        except VaultError as exc:
            raise SecretStoreError(str(exc)) from None
        except Exception as exc:
            detail = mask_secrets(str(exc), secrets)
            raise SecretStoreError(
                f"{self.backend_name} failed to {what}: {type(exc).__name__}"
                + (f" ({detail})" if detail else "")
            ) from None

    def set(self, ref: str, creds: Credentials) -> None:
        """Store ``creds`` under ``ref``, meant to be a fresh ref (AccountStore never reuses one).

        If the keyring answers only after the timeout, the late write is deleted again: the caller
        was told it failed and has no metadata pointing at it.
        """
        value = json.dumps(
            {"api_key": creds.api_key, "secret": creds.secret, "passphrase": creds.passphrase}
        )
        backend = self.backend
        self._call(
            "save a secret",
            lambda: backend.set_password(SERVICE, ref, value),
            (creds.api_key, creds.secret, creds.passphrase, value),
            undo_if_late=lambda: backend.delete_password(SERVICE, ref),
        )

    def get(self, ref: str) -> Credentials:
        """The credentials under ``ref``; SecretNotFound if there are none."""
        backend = self.backend
        value = self._call("read a secret", lambda: backend.get_password(SERVICE, ref))
        if value is None:
            raise SecretNotFound(
                f"{self.backend_name} holds no secret for this account (if it was saved while "
                f"keylink used another secret store, choose that one with {BACKEND_ENV}); "
                "otherwise remove the account and add the key again"
            )
        try:
            data = json.loads(value)
            return Credentials(
                str(data["api_key"]), str(data["secret"]), str(data.get("passphrase", ""))
            )
        except (ValueError, KeyError, TypeError, RecursionError):
            raise SecretStoreError(
                f"the stored secret in {self.backend_name} is not in keylink's format; remove the "
                "account and add the key again"
            ) from None

    def refs(self) -> builtins.list[str] | None:
        """Every entry keylink saved in this store (refs), or None when the store cannot list.

        keyring has no listing call: the vault lists its own entries, a Secret Service is searched
        by the ``service`` attribute keyring stores; other keyrings (macOS, Windows) cannot list.
        """
        from tui.services.store.files_store import FilesKeyring
        from tui.services.store.pass_store import PassKeyring

        backend = self.backend

        def from_vault() -> builtins.list[str]:
            assert self.vault is not None
            return sorted(self.vault.names(SERVICE))

        def from_secret_service() -> builtins.list[str]:
            from contextlib import closing

            scheme = backend.schemes[backend.scheme]  # type: ignore[attr-defined]
            collection = backend.get_preferred_collection()  # type: ignore[attr-defined]
            with closing(collection.connection):
                found = [
                    item.get_attributes().get(scheme["username"])
                    for item in collection.search_items({scheme["service"]: SERVICE})
                ]
            return sorted(ref for ref in found if ref)

        if isinstance(backend, PassKeyring | FilesKeyring):
            # A pass store may be shared (git, several GPG keys): an entry no account here names
            # may be a team mate's, so nothing in it is ever called orphaned (see ``shared``).
            return None
        elif self.vault is not None:
            call = from_vault
        elif type(backend).__module__ == "keyring.backends.SecretService":
            call = from_secret_service
        else:
            return None
        return [ref for ref in self._call("list the saved secrets", call) if ref != PROBE_USERNAME]

    def delete(self, ref: str) -> None:
        """Delete the entry under ``ref``; SecretNotFound if there is none."""
        from keyring.errors import PasswordDeleteError

        backend = self.backend

        def call() -> None:
            try:
                backend.delete_password(SERVICE, ref)
            except PasswordDeleteError:
                raise SecretNotFound(
                    f"{self.backend_name} holds no secret under this reference"
                ) from None

        self._call("delete a secret", call)
