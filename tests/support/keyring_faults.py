"""Keyring backends of the tests' own, for fault injection: real ``KeyringBackend`` subclasses that
keep secrets in memory and can be told to raise or to hang on set/get/delete."""

from __future__ import annotations

import threading

from keyring.backend import KeyringBackend
from keyring.compat import properties
from keyring.errors import KeyringError, PasswordDeleteError


class MemoryKeyring(KeyringBackend):
    """A working in-memory keyring with switchable faults.

    ``fail`` holds operation names ("set", "get", "delete") that raise KeyringError (with the value
    in the message, to prove SecretStore scrubs it); ``hang`` holds operations that block until
    ``release()`` (so a test can exceed SecretStore's timeout and then let the thread finish).

    keyring registers every subclass for its own backend discovery, so the priority raises (not
    viable) unless a test sets ``MemoryKeyring.recommended = True`` for the duration of a test.
    """

    recommended = False

    @properties.classproperty
    def priority(cls) -> float:
        if not cls.recommended:
            raise RuntimeError("test backend: only used when a test passes it explicitly")
        return 5

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}
        self.fail: set[str] = set()
        self.hang: set[str] = set()
        self._released = threading.Event()
        self.calls: list[str] = []

    def release(self) -> None:
        self._released.set()

    def _fault(self, operation: str, detail: str = "") -> None:
        self.calls.append(operation)
        if operation in self.hang:
            self._released.wait(60)
        if operation in self.fail:
            raise KeyringError(f"injected {operation} failure {detail}".strip())

    def get_password(self, service: str, username: str) -> str | None:
        self._fault("get")
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self._fault("set", password)
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self._fault("delete")
        try:
            del self.entries[(service, username)]
        except KeyError:
            raise PasswordDeleteError("not found") from None


class LockedKeyring(MemoryKeyring):
    """Answers every call with keyring's KeyringLocked, like a locked login keyring."""

    def _fault(self, operation: str, detail: str = "") -> None:
        from keyring.errors import KeyringLocked

        self.calls.append(operation)
        raise KeyringLocked("Failed to unlock the collection!")


class LowPriorityKeyring(MemoryKeyring):
    """Viable but not recommended (priority 0.5), like keyrings.alt's plain-text file backends."""

    @properties.classproperty
    def priority(cls) -> float:
        if not cls.recommended:
            raise RuntimeError("test backend: only used when a test passes it explicitly")
        return 0.5
