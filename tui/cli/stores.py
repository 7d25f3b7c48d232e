"""`keylink accounts move NAME --to STORE`, and the store choice `accounts add --store` uses.

A store is named as ``KEYLINK_SECRET_BACKEND`` names it: vault, keyring, pass, files, or a keyring
backend (``keylink doctor`` lists those usable here). A move copies the secret to the new store,
reads it back, switches the account (one write of accounts.json) and then deletes the old copy;
``AccountStore.move`` says how an interrupted move stays safe.
"""

from __future__ import annotations

import argparse

from tui.cli.common import (
    UsageError,
    accounts_of,
    cli_session,
    quoted,
    require_usable,
)
from tui.services.core.text import clean

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


def _run_accounts_move(args: argparse.Namespace) -> int:
    from tui.services.session.unlock import SessionError
    from tui.services.store.backends import store_label
    from tui.services.store.errors import SecretStoreError
    from tui.services.store.model import AccountError

    session = cli_session()
    store = accounts_of(session)
    try:
        account = store.get(args.name)
        require_usable(account)
        store.secrets_for(account)  # its own store is reachable, before anything is asked
        before = store.store_of(account)
        moved, left = session.move_account(account, args.to)
    except (AccountError, SecretStoreError, SessionError) as exc:
        raise UsageError(clean(str(exc))) from None
    where = store_label(moved.secret_store or before)
    if before == moved.secret_store:
        # Only a name of another copy than the one in use meant a leftover to delete.
        leftover = account.other_copy not in (None, (before, account.secret_ref))
        done = "; the copy a cut-short move left elsewhere is gone" if leftover else ""
        print(f"{clean(moved.name)} is in {clean(where)} already{done}")
        return 0
    print(f"moved {clean(moved.name)} to {clean(where)}; check it with: keylink "
          f"verify {quoted(moved.name)}")
    if left:
        print(f"keylink: warning: {clean(left)}")
        return 1
    return 0

