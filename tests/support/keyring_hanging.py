"""A keyring backend that never answers, for subprocess tests that select it with
``PYTHON_KEYRING_BACKEND=tests.support.keyring_hanging.HangingKeyring``.

It lives in its own module on purpose: keyring registers every backend class it sees, and one that
hangs must never be imported into the pytest process, where keyring's own discovery could pick it.
"""

from __future__ import annotations

import threading

from keyring.backend import KeyringBackend

_NEVER = threading.Event()


class HangingKeyring(KeyringBackend):
    """Like a login keyring waiting on an unlock prompt nobody can see."""

    priority = 1  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        _NEVER.wait()
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        _NEVER.wait()

    def delete_password(self, service: str, username: str) -> None:
        _NEVER.wait()
