"""What every keylink command shares: the one-line usage error, opening the stores, prompts."""

from __future__ import annotations

import sys


class UsageError(Exception):
    """A bad argument, file or config: one line on stderr and exit code 2."""


def stdin_is_terminal() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (AttributeError, ValueError):  # closed or replaced stdin
        return False


def open_secrets(*, unlock: bool, create: bool = False):  # -> SecretStore
    """The SecretStore; with ``unlock``, a vault is unlocked (or, with ``create``, created)."""
    from tui.services.store.secrets import SecretStore

    secrets = SecretStore.open()
    if unlock:
        unlock_secrets(secrets, create=create)
    return secrets


def unlock_secrets(secrets, *, create: bool = False) -> None:  # secrets: SecretStore
    """Unlock the vault of ``secrets`` if it uses one (or, with ``create``, create it).

    The vault passphrase comes from KEYLINK_VAULT_PASSPHRASE, else a hidden prompt when stdin is a
    terminal (never from a piped stdin: that carries the credentials), else a UsageError saying how.
    """
    import getpass
    import os

    from tui.services.store.secrets import (
        MIN_PASSPHRASE,
        PASSPHRASE_ENV,
        SecretStoreError,
        WrongPassphrase,
        passphrase_strength,
    )

    if not secrets.uses_vault:
        return
    given = os.environ.get(PASSPHRASE_ENV)
    interactive = stdin_is_terminal()
    try:
        if secrets.needs_new_vault:
            if not create:
                raise UsageError(_elsewhere(secrets)
                                 or "there is no vault yet: add an account first")
            if given is None and not interactive:
                raise UsageError(f"a new vault passphrase is needed: set {PASSPHRASE_ENV} "
                                 f"(at least {MIN_PASSPHRASE} characters) or run in a terminal")
            if given is not None:
                passphrase = given
            else:
                print(f"keylink keeps secrets in its own encrypted vault here ({secrets.reason}).",
                      file=sys.stderr)
                passphrase = getpass.getpass("New vault passphrase: ")
                score, hint = passphrase_strength(passphrase)
                print(f"strength {score}/4: {hint}", file=sys.stderr)
                if getpass.getpass("Repeat the passphrase: ") != passphrase:
                    raise UsageError("the two passphrases differ; nothing was saved")
            try:
                secrets.create_vault(passphrase)
            except ValueError as exc:
                raise UsageError(str(exc)) from None
        elif secrets.needs_unlock:
            if given is not None:
                secrets.unlock(given)
            elif interactive:
                for attempt in range(3):
                    try:
                        secrets.unlock(getpass.getpass("keylink vault passphrase: "))
                        break
                    except WrongPassphrase as exc:
                        if attempt == 2:
                            raise
                        print(f"keylink: {exc}", file=sys.stderr)
            else:
                raise UsageError(f"the vault is locked: set {PASSPHRASE_ENV} to its "
                                 "passphrase, or run this in a terminal to be asked")
    except SecretStoreError as exc:
        raise UsageError(str(exc)) from None


def _elsewhere(secrets) -> str | None:  # secrets: SecretStore
    """When there is no vault here but the accounts' secrets are in another store (a desktop
    keyring seen over SSH), say that instead of "no vault yet"."""
    from tui.services.store.accounts import AccountStore
    from tui.services.store.model import AccountError
    from tui.services.store.secrets import store_label

    try:
        accounts = AccountStore(secrets).list()
    except AccountError:
        return None
    stores = sorted({store_label(a.secret_store) for a in accounts
                     if a.secret_store and a.secret_store != secrets.store_id})
    if not stores:
        return None
    return (f"your accounts keep their secrets in {' and '.join(stores)}, which keylink cannot "
            f"use now ({secrets.reason}); make it reachable and retry")


def account_store(secrets):  # -> AccountStore
    from tui.services.store.accounts import AccountStore

    store = AccountStore(secrets)
    if store.load_problem:
        print(f"keylink: warning: {store.load_problem}", file=sys.stderr)
    return store


def quoted(text: str) -> str:
    import shlex

    return shlex.quote(text)


def require_usable(account) -> None:  # account: Account
    """Refuse, before any passphrase is asked for, an account whose removal was cut short, and
    one of an exchange this keylink lacks (a newer keylink's, or a hand edit): a configuration
    error, not a traceback."""
    from tui.services.exchanges import exchange
    from tui.services.store.model import removal_note

    if account.removing is not None:
        raise UsageError(removal_note(account))

    try:
        exchange(account.exchange)
    except KeyError as exc:
        raise UsageError(f"account {account.name!r}: {exc.args[0]}; update keylink or remove "
                         "the account") from None
