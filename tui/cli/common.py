"""What every keylink command shares: the one-line usage error, the process's session, prompts.

The session (``tui.services.session``) is the one place that opens the secret store and
accounts.json and applies the unlock policy; the app makes one with a dialog for the passphrase,
a command makes one here with the environment and a hidden prompt. What it refuses is one line,
which a command prints as a usage error (exit 2).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

    from tui.services.session.session import Session
    from tui.services.session.unlock import UnlockPolicy
    from tui.services.store.accounts import Account, AccountStore


class UsageError(Exception):
    """A bad argument, file or config: one line on stderr and exit code 2."""


def stdin_is_terminal() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (AttributeError, ValueError):  # closed or replaced stdin
        return False


def _ask_hidden(prompt: str) -> str:
    import getpass

    return getpass.getpass(prompt)  # looked up per call: tests stand in for the terminal


def _can_prompt() -> bool:
    """A person can be asked, and from the main thread only: that is where Ctrl-C lands, so a
    prompt in a worker thread (a check's secret read) could not be interrupted."""
    import threading

    return threading.current_thread() is threading.main_thread() and stdin_is_terminal()


def unlock_policy() -> UnlockPolicy:
    """The CLI's unlock policy: KEYLINK_VAULT_PASSPHRASE (strict: a wrong one is an error, and it
    creates a vault), else a hidden prompt when stdin is a terminal (never a piped stdin: that
    carries the credentials), else a refusal that says how."""
    from tui.services.session.unlock import EnvPassphrase, PromptPassphrase, UnlockPolicy

    return UnlockPolicy(EnvPassphrase(), PromptPassphrase(_ask_hidden, interactive=_can_prompt))


def open_session(store: str | None = None) -> Session:
    """The process's session, opened: the secret store is usable, accounts.json maybe not (then
    the state is FAILED and ``reason`` says why; `doctor` reports that rather than stopping).

    ``store`` names the store instead of KEYLINK_SECRET_BACKEND (``accounts add --store``).
    UsageError when the secret store cannot be opened. Anything else that went wrong while
    opening it (an OSError, a bug) is raised as it was, for ``main`` to report as before.
    """
    from tui.services.session.session import Session, SessionState
    from tui.services.store.errors import SecretStoreError
    from tui.services.store.secrets import SecretStore

    unexpected: list[Exception] = []

    def open_secrets() -> SecretStore:
        try:
            return SecretStore.open(choice=store)
        except SecretStoreError:
            raise
        except Exception as exc:  # the session keeps only its type name
            unexpected.append(exc)
            raise

    session = Session(unlock=unlock_policy(), open_secrets=open_secrets)
    if session.open() is SessionState.UNAVAILABLE:
        if unexpected:
            raise unexpected[0]
        raise UsageError(session.reason)
    return session


def cli_session(*, unlock: bool = False, create: bool = False,
                store: str | None = None) -> Session:
    """The process's session with its accounts readable; a problem the read found (a damaged file
    moved aside, a newer format) is printed as a warning. With ``unlock``, the vault is unlocked
    too (with ``create``, made when missing); ``store`` names the store (see ``open_session``).
    UsageError otherwise."""
    from tui.services.session.session import SessionState

    session = open_session(store)
    if session.state is not SessionState.OPEN:
        raise UsageError(session.reason)
    if session.load_problem:
        print(f"keylink: warning: {session.load_problem}", file=sys.stderr)
    if session.secrets is not None:
        for line in session.secrets.warnings():  # secret files other users can read
            print(f"keylink: warning: {line}", file=sys.stderr)
    if unlock:
        unlock_vault(session, create=create)
    return session


def accounts_of(session: Session) -> AccountStore:
    """The accounts of a session from ``cli_session`` (which opened them, or said why not)."""
    if session.accounts is None:
        raise UsageError(session.reason)
    return session.accounts


def unlock_vault(session: Session, *, create: bool = False,
                 accounts: Iterable[Account] | None = None,
                 count_unreachable: bool = True, leftovers: bool = False) -> None:
    """Apply the unlock policy now (a vault is unlocked, or with ``create`` made); UsageError with
    the policy's one line when it refuses. Nothing to do for a keyring. With ``accounts``, only
    when one of them needs the vault (``Session.needs_vault_for``: a secret kept in pass needs no
    vault passphrase)."""
    from tui.services.session.unlock import SessionError

    try:
        if accounts is None:
            session.ensure_unlocked(create=create)
        else:
            session.ensure_unlocked_for(accounts, create=create,
                                        count_unreachable=count_unreachable, leftovers=leftovers)
    except SessionError as exc:
        raise UsageError(str(exc)) from None


def quoted(text: str) -> str:
    import shlex

    return shlex.quote(text)


def require_usable(account: Account) -> None:
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


def warn_days_argument(text: str) -> int:
    """``--warn-days N``: a whole number of days from 0 to 3650 (argparse says what is wrong)."""
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of days") from None
    if not 0 <= value <= 3650:
        raise argparse.ArgumentTypeError("give between 0 and 3650 days")
    return value
