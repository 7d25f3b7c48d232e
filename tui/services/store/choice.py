"""Stores chosen by name, and which of them can be used on this machine (``keylink doctor``).

A name is ``vault``, ``keyring`` (the system keyring, as keyring picks it), ``pass``, ``files``
(``KEYLINK_SECRETS_DIR``) or a keyring backend as keyring names it (its class path, as
``PYTHON_KEYRING_BACKEND`` takes it, e.g. ``keyring.backends.SecretService.Keyring``, or its
``name``). A name that does not lead to a usable store is refused with one line: keylink never
saves to, reads from or deletes in another store than the one asked for.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tui.services.store.errors import SecretStoreError

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

#: The names keylink itself knows, in the order ``doctor`` lists them.
KNOWN = ("vault", "keyring", "pass", "files")


def class_path(backend: KeyringBackend | type) -> str:
    kind = backend if isinstance(backend, type) else type(backend)
    return f"{kind.__module__}.{kind.__qualname__}"


def _names(backend: KeyringBackend) -> set[str]:
    try:
        name = str(type(backend).name)
    except Exception:  # a third-party backend with a broken name property
        name = ""
    return {class_path(backend).casefold(), name.casefold()} - {""}


def usable_backends() -> list[KeyringBackend]:
    """keyring's viable backends here (keylink's own, chosen by name only, left out)."""
    import keyring.backend

    found = []
    for backend in keyring.backend.get_all_keyring():
        module = type(backend).__module__
        if module.startswith("tui.") or module in ("keyring.backends.fail",
                                                   "keyring.backends.null",
                                                   "keyring.backends.chainer"):
            continue
        found.append(backend)
    return sorted(found, key=class_path)


def backend_by_name(name: str) -> KeyringBackend:
    """The keyring backend ``name`` names; SecretStoreError (one line) when none here does."""
    from tui.services.store.backends import BACKEND_ENV

    wanted = name.strip().casefold()
    viable = usable_backends()
    for backend in viable:
        if wanted in _names(backend):
            return backend
    if "." in wanted:
        import keyring.core

        try:
            loaded = keyring.core.load_keyring(name.strip())
        except Exception:
            loaded = None
        if loaded is not None:
            try:
                float(type(loaded).priority)
            except Exception as exc:
                raise SecretStoreError(
                    f"{BACKEND_ENV}: the keyring backend {name!r} is not usable here "
                    f"({type(exc).__name__}); `keylink doctor` lists the stores that are"
                ) from None
            return loaded
    choices = ", ".join([*KNOWN, *(class_path(b) for b in viable)])
    raise SecretStoreError(f"{name!r} names no secret store here (known: {choices}); "
                           "`keylink doctor` lists them and why some are not usable")


@dataclass(frozen=True)
class StoreOption:
    """One store ``keylink doctor`` lists: its name, whether it can be used here, and why."""

    name: str
    usable: bool
    detail: str


def store_options(vault_path: str, probe_timeout: float = 3.0) -> list[StoreOption]:
    """Every store keylink could use here, each with why it can or cannot (reads no secret)."""
    from tui.services.store.backends import is_real_keyring, run_with_timeout, system_keyring_now
    from tui.services.store.files_store import FilesKeyring, secrets_dir
    from tui.services.store.pass_store import pass_status

    options = [StoreOption("vault", True, f"keylink's encrypted file {vault_path}"
                           + ("" if os.path.exists(vault_path) else " (not created yet)"))]
    try:
        import keyring

        system = run_with_timeout(keyring.get_keyring, probe_timeout, "find the system keyring")
        real, why = is_real_keyring(system)
        if not real:  # found none when keylink started: one may have been started since
            system = run_with_timeout(system_keyring_now, probe_timeout,
                                      "find the system keyring")
            real, why = is_real_keyring(system)
        options.append(StoreOption("keyring", real,
                                   f"{class_path(system)}" if real else why))
    except Exception as exc:
        options.append(StoreOption("keyring", False, f"keyring failed ({type(exc).__name__})"))
    usable, why = pass_status()
    options.append(StoreOption("pass", usable, why))
    directory = secrets_dir()
    if directory is None:
        options.append(StoreOption("files", False, "KEYLINK_SECRETS_DIR is not set (set it in a "
                                   "container to the folder its secrets are handed in)"))
    elif not directory.is_dir():
        options.append(StoreOption("files", False, f"KEYLINK_SECRETS_DIR={directory} is not a "
                                   "folder"))
    else:
        entries = FilesKeyring(directory).entries()
        options.append(StoreOption("files", True, f"{directory}, read-only: "
                                   f"{', '.join(entries) or 'no account files yet'}"))
    try:
        for backend in usable_backends():
            options.append(StoreOption(class_path(backend), True,
                                       f"keyring backend, priority {type(backend).priority:g}"))
    except Exception as exc:
        options.append(StoreOption("keyring backends", False,
                                   f"could not be listed ({type(exc).__name__})"))
    return options
