"""The unlock policy: when the vault is opened or created, and who is asked for its passphrase.

There is one policy and several places a passphrase can come from: the environment
(``KEYLINK_VAULT_PASSPHRASE``, for scripts and scripted sessions), a hidden prompt on a terminal
(the CLI) and a dialog (the app, which implements ``PassphraseSource`` itself, since the service
layer imports no Textual). ``UnlockPolicy`` asks its sources in order; the first one that has
something to offer decides. Every refusal is an ``UnlockRefused`` with one line saying what to do,
which the CLI prints as a usage error.
"""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from tui.services.store.backends import PASSPHRASE_ENV
from tui.services.store.errors import SecretStoreError, WrongPassphrase
from tui.services.store.secrets import MIN_PASSPHRASE, passphrase_strength

if TYPE_CHECKING:
    from tui.services.store.secrets import SecretStore


class SessionError(Exception):
    """A session operation was refused; the message is one user-facing line without secrets."""


class UnlockRefused(SessionError):
    """The vault could not be opened or created (wrong passphrase, nobody to ask, no vault)."""


class UnlockCancelled(UnlockRefused):
    """The person asked backed out (a dialog's Cancel): nothing to report."""


class PassphraseSource(Protocol):
    """One place a vault passphrase can come from. Both methods block until they are done.

    They return False when this source has nothing to offer (then the next source is asked), True
    once the vault is open, and raise (``SecretStoreError``, ``ValueError`` for a new passphrase
    that is too weak, ``UnlockRefused``) to end the attempt.
    """

    def unlock(self, secrets: SecretStore) -> bool:
        """Open the existing vault of ``secrets``."""
        ...

    def create(self, secrets: SecretStore) -> bool:
        """Create the vault of ``secrets`` with a new passphrase."""
        ...


class EnvPassphrase:
    """``KEYLINK_VAULT_PASSPHRASE``.

    Strict (the CLI): a value that is set, even empty, is used, and a wrong one ends the attempt;
    it also creates a vault. ``quiet`` (the app): an empty or wrong value is passed over so the
    next source (the dialog) asks, and it never creates a vault (the dialog rates the new one).
    """

    def __init__(self, *, quiet: bool = False) -> None:
        self.quiet = quiet

    def unlock(self, secrets: SecretStore) -> bool:
        given = os.environ.get(PASSPHRASE_ENV)
        if given is None or (self.quiet and not given):
            return False
        if not self.quiet:
            secrets.unlock(given)
            return True
        try:
            secrets.unlock(given)
        except SecretStoreError:
            return False
        return True

    def create(self, secrets: SecretStore) -> bool:
        given = os.environ.get(PASSPHRASE_ENV)
        if given is None or self.quiet:
            return False
        secrets.create_vault(given)
        return True


def stdin_is_terminal() -> bool:
    """True when a person can be asked on stdin (never a pipe: that carries the credentials)."""
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (AttributeError, ValueError):  # closed or replaced stdin
        return False


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr)


class PromptPassphrase:
    """A hidden prompt on the terminal: three tries to unlock; a new passphrase is rated and
    typed twice. Passes when stdin is not a terminal."""

    def __init__(
        self,
        ask: Callable[[str], str] = getpass.getpass,
        *,
        interactive: Callable[[], bool] = stdin_is_terminal,
        say: Callable[[str], None] = _to_stderr,
        tries: int = 3,
    ) -> None:
        self.ask, self.interactive, self.say, self.tries = ask, interactive, say, tries

    def unlock(self, secrets: SecretStore) -> bool:
        if not self.interactive():
            return False
        for attempt in range(self.tries):
            try:
                secrets.unlock(self.ask("keylink vault passphrase: "))
                return True
            except WrongPassphrase as exc:
                if attempt == self.tries - 1:
                    raise
                self.say(f"keylink: {exc}")
        return False  # tries=0: nothing was asked

    def create(self, secrets: SecretStore) -> bool:
        if not self.interactive():
            return False
        self.say(f"keylink keeps secrets in its own encrypted vault here ({secrets.reason}).")
        passphrase = self.ask("New vault passphrase: ")
        score, hint = passphrase_strength(passphrase)
        self.say(f"strength {score}/4: {hint}")
        if self.ask("Repeat the passphrase: ") != passphrase:
            raise UnlockRefused("the two passphrases differ; nothing was saved")
        secrets.create_vault(passphrase)
        return True


class UnlockPolicy:
    """Makes a vault usable by asking ``sources`` in order. A keyring needs nothing from us."""

    def __init__(self, *sources: PassphraseSource) -> None:
        self.sources = sources

    def apply(
        self, secrets: SecretStore, *, create: bool, elsewhere: Callable[[], str | None]
    ) -> None:
        """Unlock the vault (or, with ``create``, create a missing one); UnlockRefused otherwise.

        ``elsewhere`` says, when there is no vault here, that the accounts' secrets are in
        another store (a desktop keyring seen over SSH): a better answer than "no vault yet".
        """
        if not secrets.uses_vault:
            return
        try:
            if secrets.needs_new_vault:
                if not create:
                    raise UnlockRefused(elsewhere()
                                        or "there is no vault yet: add an account first")
                try:
                    if any(source.create(secrets) for source in self.sources):
                        return
                except ValueError as exc:  # too short or too easy to guess
                    raise UnlockRefused(str(exc)) from None
                raise UnlockRefused(f"a new vault passphrase is needed: set {PASSPHRASE_ENV} "
                                    f"(at least {MIN_PASSPHRASE} characters) or run in a terminal")
            if secrets.needs_unlock:
                if any(source.unlock(secrets) for source in self.sources):
                    return
                raise UnlockRefused(f"the vault is locked: set {PASSPHRASE_ENV} to its "
                                    "passphrase, or run this in a terminal to be asked")
        except SecretStoreError as exc:
            raise UnlockRefused(str(exc)) from exc
