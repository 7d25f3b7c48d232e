"""What the secret store is built on: the keyring backend or keylink's vault, and how to reach it.

Names of the environment settings, how an account records where its secret is (store ids and their
labels), the idle-lock limit, whether keyring's pick is a real keyring, and the timeout every
keyring call runs under (in a daemon thread: a keyring can block forever). SecretStore
(``secrets.py``) chooses and uses a backend with these.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from tui.services.core.private_files import interrupts_deferred
from tui.services.store.errors import KeyringTimeout

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

SERVICE = "keylink"
PROBE_USERNAME = "keylink-probe"
PASSPHRASE_ENV = "KEYLINK_VAULT_PASSPHRASE"
BACKEND_ENV = "KEYLINK_SECRET_BACKEND"
IDLE_ENV = "KEYLINK_VAULT_IDLE"
DEFAULT_IDLE = 15 * 60.0
DEFAULT_TIMEOUT = 5.0
VAULT_NAME = "keylink vault"

T = TypeVar("T")


#: The ``secret_store`` value of an account whose secret is in keylink's vault.
VAULT_STORE = "vault"
_STORE_WORDS = {
    "keyring.backends.SecretService": "Secret Service",
    "keyring.backends.macOS": "macOS Keychain",
    "keyring.backends.Windows": "Windows Credential Locker",
    "keyring.backends.kwallet": "KWallet",
    "keyring.backends.libsecret": "libsecret",
}


def store_id(backend: KeyringBackend) -> str:
    """What an account records about where its secret is: ``vault`` or ``keyring:module:class``.

    The class, not its display name, so a renamed label in a newer keyring still matches.
    """
    from tui.services.store.files_store import FILES_STORE, FilesKeyring
    from tui.services.store.pass_store import PASS_STORE, PassKeyring
    from tui.services.store.vault import VaultKeyring

    if isinstance(backend, VaultKeyring):
        return VAULT_STORE
    if isinstance(backend, PassKeyring):
        return PASS_STORE
    if isinstance(backend, FilesKeyring):
        return FILES_STORE
    kind = type(backend)
    return f"keyring:{kind.__module__}:{kind.__qualname__}"


def store_label(recorded: str) -> str:
    """A recorded store in words (``keylink vault``, ``Secret Service``...)."""
    if recorded == VAULT_STORE:
        return VAULT_NAME
    if recorded in ("pass", "files"):
        return {"pass": "pass", "files": "secret files (KEYLINK_SECRETS_DIR)"}[recorded]
    _, _, where = recorded.partition(":")
    module, _, name = where.partition(":")
    return _STORE_WORDS.get(module) or f"the keyring backend {module}.{name}"


def idle_limit_from_env() -> float | None:
    """KEYLINK_VAULT_IDLE in seconds (default 15 minutes; 0 turns the idle lock off)."""
    raw = os.environ.get(IDLE_ENV, "").strip()
    if not raw:
        return DEFAULT_IDLE
    try:
        value = float(raw)
    except ValueError:
        return DEFAULT_IDLE  # a typo must not turn the lock off
    if not math.isfinite(value) or value < 0:
        return DEFAULT_IDLE
    return value or None


#: The vault is keylink's own file: a slow unlock is never the OS keyring's fault.
VAULT_SLOW = ("the vault's key derivation took far longer than keylink's settings need; the "
               "machine may be short of memory, or the vault file is not as keylink wrote it")


def unlock_hint() -> str:
    if sys.platform == "darwin":
        hint = "unlock your login keychain (over SSH run `security unlock-keychain`)"
    elif sys.platform == "win32":
        hint = "sign in to Windows again so the Credential Manager is available"
    else:
        hint = (
            "unlock your login keyring (log in to the desktop session, or run "
            "`gnome-keyring-daemon --unlock` and type your password)"
        )
    return f"{hint}, or use keylink's vault with {BACKEND_ENV}=vault"


def friendly_name(backend: KeyringBackend) -> str:
    module = type(backend).__module__
    words = {
        "keyring.backends.SecretService": "Secret Service",
        "keyring.backends.macOS": "macOS Keychain",
        "keyring.backends.Windows": "Windows Credential Locker",
        "keyring.backends.kwallet": "KWallet",
        "keyring.backends.libsecret": "libsecret",
    }.get(module)
    try:
        name = str(type(backend).name)
    except Exception:  # a third-party backend with a broken name property
        name = type(backend).__name__
    return f"{words} ({name})" if words else name


def run_with_timeout(
    call: Callable[[], T],
    timeout: float,
    what: str,
    undo_if_late: Callable[[], object] | None = None,
    hint: str | None = None,
) -> T:
    """Run ``call`` in a daemon thread; KeyringTimeout if it has not returned after ``timeout`` s.

    A daemon thread (not a ThreadPoolExecutor) because executor threads are joined at exit: a
    keyring call hung forever would then hang keylink's exit too. An abandoned call may still
    finish later; ``undo_if_late`` then runs in that thread, so a write we reported as failed does
    not quietly take effect after all (a secret left behind that nobody knows about).
    """
    outcome: dict[str, Any] = {}
    # A plain lock, held until the call ends: waiting on it is one C-level acquire, which a Ctrl-C
    # interrupts cleanly (an Event's Condition, interrupted at the wrong moment, raised
    # RuntimeError instead of KeyboardInterrupt).
    finished = threading.Lock()
    finished.acquire()
    state = threading.Lock()
    flags = {"done": False, "abandoned": False}

    def target() -> None:
        try:
            outcome["value"] = call()
        except BaseException as exc:  # handed to the caller's thread below
            outcome["error"] = exc
        with state:
            flags["done"] = True
            late = flags["abandoned"]
        finished.release()
        if late and undo_if_late is not None and "error" not in outcome:
            with contextlib.suppress(Exception):
                undo_if_late()

    def give_up() -> bool:
        """Mark the call abandoned unless it finished; True if it was abandoned."""
        with interrupts_deferred(), state:
            if not flags["done"]:
                flags["abandoned"] = True
            return flags["abandoned"]

    threading.Thread(target=target, name=f"keylink-{what}", daemon=True).start()
    try:
        in_time = finished.acquire(timeout=timeout)
    except KeyboardInterrupt:
        give_up()  # a write that still lands is undone: the user stopped before it counted
        raise
    if not in_time and give_up():
        raise KeyringTimeout(
            f"the secret store did not answer within {timeout:g} s while trying to {what}: "
            f"{hint or unlock_hint()}"
        )
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


#: One detection at a time: keyring's per-process cache of backends is not thread-safe.
_DETECTING = threading.Lock()


def system_keyring_now() -> KeyringBackend:
    """keyring's choice of system keyring as things are now. keyring finds the viable backends
    once per process; this forgets that first, so a keyring the user started or unlocked since
    (or a changed environment) is seen. Raises what loading a named backend raises.

    It resets keyring's process-wide choice: a caller that only looks (the store list) should
    ask only when the choice in force is not a real keyring (``is_real_keyring``), so a chained
    keyring in use is never reset under a read."""
    import keyring
    import keyring.backend
    import keyring.core

    with _DETECTING:
        reset = getattr(keyring.backend.get_all_keyring, "reset", None)
        if callable(reset):
            with contextlib.suppress(KeyError):  # nothing cached yet
                reset()
        keyring.core.init_backend()
        return keyring.get_keyring()


def is_real_keyring(backend: KeyringBackend) -> tuple[bool, str]:
    """(is it a real keyring, why not): keyring's fail/null backends and empty chainer are not."""
    from keyring.backends import chainer, fail, null

    if isinstance(backend, fail.Keyring):
        return False, "keyring found no system keyring"
    if isinstance(backend, null.Keyring):
        return False, "keyring is configured with its null backend"
    if isinstance(backend, chainer.ChainerBackend) and not backend.backends:
        return False, "keyring found no system keyring to chain"
    try:
        priority = float(type(backend).priority)
    except Exception as exc:  # a backend's priority raises when it is not viable
        return False, f"{friendly_name(backend)} is not usable here ({type(exc).__name__})"
    if priority < 1:
        return (
            False,
            f"{friendly_name(backend)} is not a recommended keyring (priority {priority:g})",
        )
    return True, ""
