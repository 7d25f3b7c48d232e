"""`keylink accounts move NAME --to STORE`, and the store choice `accounts add --store` uses.

A store is named as ``KEYLINK_SECRET_BACKEND`` names it: vault, keyring, pass, files, or a keyring
backend (``keylink doctor`` lists those usable here). A move copies the secret to the new store,
reads it back, switches the account (one write of accounts.json) and then deletes the old copy;
``AccountStore.move`` says how an interrupted move stays safe.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from tui.cli.common import (
    UsageError,
    accounts_of,
    cli_session,
    quoted,
    require_usable,
    unlock_vault,
)
from tui.services.core.text import clean

if TYPE_CHECKING:
    from tui.services.session.session import Session
    from tui.services.store.secrets import SecretStore

STORE_HELP = ("vault, keyring, pass, or a keyring backend as keyring names it (`keylink doctor` "
              "lists the stores usable here)")


def add_move_action(actions: argparse._SubParsersAction) -> None:
    move = actions.add_parser(
        "move",
        help="move an account's secret to another store (copy, read back, switch, delete the "
        "old copy)",
        description="Copies the secret to STORE, reads it back, switches the account to it and "
        "deletes the old copy. Interrupted at any point, the account still works from one store; "
        "a copy it does not use is named in accounts.json and deleted by running the move again "
        "or `keylink doctor --repair`.",
    )
    move.add_argument("name", help="account name or id")
    move.add_argument("--to", required=True, metavar="STORE", help=STORE_HELP)
    move.set_defaults(handler=_run_accounts_move)


def open_target(session: Session, name: str) -> SecretStore:
    """The store ``name`` names, made usable (a vault unlocked, or created); UsageError."""
    from tui.services.session.unlock import SessionError
    from tui.services.store.errors import SecretStoreError
    from tui.services.store.secrets import SecretStore

    current = session.secrets
    try:
        target = SecretStore.open(choice=name)
    except SecretStoreError as exc:
        raise UsageError(str(exc)) from None
    if current is not None and target.store_id == current.store_id:
        target = current  # the same vault object: unlocked once, its generation recorded
        unlock_vault(session, create=True)
        return target
    try:
        session.unlock_policy.apply(target, create=True, elsewhere=lambda: None)
    except SessionError as exc:
        raise UsageError(str(exc)) from None
    return target


def _run_accounts_move(args: argparse.Namespace) -> int:
    from tui.services.store.errors import SecretStoreError
    from tui.services.store.model import AccountError

    session = cli_session()
    store = accounts_of(session)
    try:
        account = store.get(args.name)
        require_usable(account)
        source = store.secrets_for(account)  # reachable, before anything is asked
        if source is store.secrets:
            unlock_vault(session)
        target = open_target(session, args.to)
        if store.store_of(account) == target.store_id and account.other_copy is None:
            print(f"{clean(account.name)} is in {clean(target.backend_name)} already")
            return 0
        moved, left = store.move(account.id, target)
    except (AccountError, SecretStoreError) as exc:
        raise UsageError(clean(str(exc))) from None
    print(f"moved {clean(moved.name)} to {clean(target.backend_name)}; check it with: keylink "
          f"verify {quoted(moved.name)}")
    if left:
        print(f"keylink: warning: {clean(left)}")
        return 1
    return 0

