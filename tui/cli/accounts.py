"""`keylink accounts`: list, add and remove saved accounts."""

from __future__ import annotations

import argparse
import sys

from tui.cli import account_import
from tui.cli.common import (
    UsageError,
    account_store,
    open_secrets,
    quoted,
    stdin_is_terminal,
    unlock_secrets,
)
from tui.services.text import clean


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "accounts",
        help="list, add or remove saved exchange accounts",
        description="Secrets are never taken from the command line: `add` reads the API key, "
        "secret and passphrase from stdin (one per line) or prompts with hidden input.",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="show the saved accounts (no secrets)")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(handler=_run_accounts_list)

    add = actions.add_parser(
        "add",
        help="save an account; key, secret (and passphrase) come from stdin or hidden prompts",
        description="Reads the API key, the API secret and, for exchanges that have one, the API "
        "passphrase: one per line from stdin when it is not a terminal, otherwise from hidden "
        "prompts. When keylink uses its own vault, its passphrase comes from "
        "KEYLINK_VAULT_PASSPHRASE or a prompt.",
    )
    add.add_argument("name", help="display name (1-40 characters, unique)")
    add.add_argument("--exchange", required=True, help="bybit, okx, bitget or binance")
    where = add.add_mutually_exclusive_group()
    where.add_argument("--env", default=None,
                       help="environment id, e.g. mainnet, testnet, demo (default: the first)")
    where.add_argument("--base-url", default=None,
                       help="a custom API URL (https; http only to 127.0.0.1/::1/localhost)")
    add.add_argument("--whitelist", metavar="PROFILE", default=None,
                     help="whitelist profile id (default: the exchange's usual one)")
    add.set_defaults(handler=_run_accounts_add)

    rotate = actions.add_parser(
        "rotate",
        help="replace an account's key; the new key, secret (and passphrase) come from stdin "
        "or hidden prompts",
        description="Saves the new key under a new entry, switches the account to it, then deletes "
        "the old secret. Input as for `add`.",
    )
    rotate.add_argument("name", help="account name or id")
    rotate.set_defaults(handler=_run_accounts_rotate)

    remove = actions.add_parser("remove", help="delete an account and its stored secret")
    remove.add_argument("name", help="account name or id")
    remove.add_argument("--yes", action="store_true",
                        help="do not ask (required when not run in a terminal)")
    remove.add_argument("--forget", "--force", dest="forget", action="store_true",
                        help="drop only the account even if its secret store cannot confirm the "
                        "secret is deleted (the store is gone for good); says what stays behind")
    remove.set_defaults(handler=_run_accounts_remove)

    account_import.add_action(actions)


def _run_accounts_list(args: argparse.Namespace) -> int:
    import json
    from dataclasses import asdict

    from tui.services.accounts import AccountError

    try:
        store = account_store(open_secrets(unlock=False))
        accounts = store.list()
    except AccountError as exc:
        raise UsageError(str(exc)) from None
    if store.legacy_note:
        print(f"keylink: note: {store.legacy_note}", file=sys.stderr)
    if args.json:
        items = [{k: v for k, v in asdict(a).items() if k != "secret_ref"} for a in accounts]
        print(json.dumps(items, indent=2))
        return 0
    if not accounts:
        print("no accounts yet: add one with `keylink accounts add NAME --exchange bybit`")
        return 0
    rows = [("NAME", "EXCHANGE", "ENV", "BASE URL", "LAST CHECK")]
    for a in accounts:
        check = f"{a.last_check.summary} ({a.last_check.checked_at})" if a.last_check else "never"
        # Cleaned before measuring, so the columns line up with what is printed.
        rows.append(tuple(clean(cell) for cell in (a.name, a.exchange, a.environment,
                                                   a.base_url, check)))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:4])) + "  " + row[4])
    return 0


#: Longest stdin line taken as a key, secret or passphrase (real ones are under 100 characters).
_MAX_STDIN_LINE = 4096


def _read_credentials(has_passphrase: bool):  # -> Credentials
    """Key, secret (and passphrase): stdin lines when piped, hidden prompts on a terminal."""
    import getpass

    from tui.services.accounts import Credentials, clean_paste

    labels = ["API key", "API secret"] + (["API passphrase"] if has_passphrase else [])
    values: list[str] = []
    interactive = stdin_is_terminal()
    for label in labels:
        if interactive:
            raw = getpass.getpass(f"{label} (hidden): ")
        else:
            if sys.stdin is None:  # started with stdin closed (`<&-`)
                raise UsageError("stdin is closed: pipe the key and secret in, one per line, "
                                 "or run this in a terminal")
            # Bounded: `< /dev/zero` is one endless line that would fill memory.
            raw = sys.stdin.readline(_MAX_STDIN_LINE + 2)  # room for a "\r\n"
            if len(raw.rstrip("\r\n")) > _MAX_STDIN_LINE:
                raise UsageError(f"the {label} line on stdin is too long (over "
                                 f"{_MAX_STDIN_LINE} characters): is the right input piped in?")
            if not raw:
                expected = ", ".join(labels)
                raise UsageError(f"stdin ended before the {label} (expected one per line: "
                                 f"{expected})")
        try:
            values.append(clean_paste(label, raw))
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    return Credentials(*values) if has_passphrase else Credentials(values[0], values[1])


def _run_accounts_add(args: argparse.Namespace) -> int:
    from tui.services.accounts import (
        CUSTOM_ENV,
        AccountError,
        resolve_base_url,
        validate_name,
    )
    from tui.services.exchanges import exchange
    from tui.services.secrets import SecretStoreError

    # Everything that can be checked without secrets is checked before asking for them.
    try:
        info = exchange(args.exchange)
    except KeyError as exc:
        raise UsageError(exc.args[0]) from None
    environment = CUSTOM_ENV if args.base_url else (args.env or info.environments[0].id)
    try:
        resolve_base_url(info.id, environment, args.base_url)
        validate_name(args.name)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    store = account_store(open_secrets(unlock=False))
    try:
        # Before a vault is created or unlocked for it: the accounts' own store may be elsewhere.
        store.check_new_account_store()
        unlock_secrets(store.secrets, create=True)
        validate_name(args.name, store.list())
        creds = _read_credentials(info.has_passphrase)
        _check_like_the_form(info, creds)
        account = store.add(args.name, info.id, environment, creds, base_url=args.base_url,
                            whitelist=args.whitelist)
    except (ValueError, AccountError, SecretStoreError) as exc:
        raise UsageError(str(exc)) from None
    print(f"added {account.name}: {info.label}, {account.environment} ({account.base_url}); "
          f"secret saved in {store.secrets.backend_name}")
    print(f"check it with: keylink verify {quoted(account.name)}")
    return 0


def _run_accounts_rotate(args: argparse.Namespace) -> int:
    from tui.services.accounts import AccountError
    from tui.services.exchanges import exchange
    from tui.services.secrets import SecretStoreError

    store = account_store(open_secrets(unlock=False))
    try:
        account = store.get(args.name)
        store.check_store(account)  # a secret in an unreachable keyring: say so before asking
    except (AccountError, SecretStoreError) as exc:
        raise UsageError(clean(str(exc))) from None
    try:
        info = exchange(account.exchange)
    except KeyError as exc:
        raise UsageError(clean(exc.args[0])) from None
    try:
        unlock_secrets(store.secrets)
        creds = _read_credentials(info.has_passphrase)
        _check_like_the_form(info, creds)
        store.rotate(account.id, creds)
    except (ValueError, AccountError, SecretStoreError) as exc:
        raise UsageError(clean(str(exc))) from None
    print(f"rotated {clean(account.name)}: the new key is saved and the old secret deleted")
    print(f"check it with: keylink verify {quoted(account.name)}")
    return 0


def _check_like_the_form(info, creds) -> None:  # info: ExchangeInfo, creds: Credentials
    """The account form's checks: a key pasted twice stops here; an unusual shape only warns
    (a script cannot "save again to accept" the way the form does)."""
    from tui.services.validation import check_credentials

    check = check_credentials(info, creds.api_key, creds.secret, creds.passphrase)
    for issue in check.errors.values():
        raise UsageError(issue.message)
    for issue in check.warnings.values():
        print(f"keylink: warning: {issue.message}", file=sys.stderr)


def _run_accounts_remove(args: argparse.Namespace) -> int:
    from tui.services.accounts import AccountError
    from tui.services.secrets import SecretStoreError

    interactive = stdin_is_terminal()
    if not args.yes and not interactive:
        raise UsageError("not run in a terminal: add --yes to remove without asking")
    # The account and its store first: a secret in an unreachable keyring is reported as that,
    # not as a vault passphrase prompt.
    store = account_store(open_secrets(unlock=False))
    try:
        account = store.get(args.name)
        same_store = store.store_of(account) == store.secrets.store_id
        if not args.forget:
            store.check_store(account)
        if same_store:
            unlock_secrets(store.secrets)
        if not args.yes:
            what = ("from keylink (its secret is not touched)" if args.forget and not same_store
                    else "and its stored secret")
            answer = input(f"Remove {clean(account.name)} ({clean(account.exchange)}, "
                           f"{clean(account.environment)}) {what}? [y/N] ")
            if answer.strip().lower() not in ("y", "yes"):
                print("kept")
                return 1
        left = store.remove(account.id, force=args.forget)
    except (AccountError, SecretStoreError) as exc:
        raise UsageError(clean(str(exc))) from None
    if left:
        print(f"forgot {clean(account.name)}; {clean(left)}")
    else:
        print(f"removed {clean(account.name)} and its secret")
    return 0
