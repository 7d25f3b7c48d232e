"""`keylink accounts import`: take keys out of a freqtrade config or a .env file."""

from __future__ import annotations

import argparse

from tui.cli.common import UsageError, account_store, open_secrets, quoted


def add_action(actions: argparse._SubParsersAction) -> None:
    p = actions.add_parser(
        "import",
        help="add the key(s) from a freqtrade config.json or a .env file",
        description="Adds every key found in the file (all or none) and reads each back, then "
        "lists the fields that still hold the plaintext. The file is not changed unless you add "
        "--scrub. A freqtrade config's exchange.name, key, secret and password are read; in a "
        ".env file, the usual names (BYBIT_API_KEY, OKX_API_SECRET, FREQTRADE__EXCHANGE__KEY, ...) "
        "or the ones you give with --map.",
    )
    p.add_argument("path", help="the config.json or .env file")
    p.add_argument("--name", default=None, help="account name (default: '<Exchange> from <file>')")
    p.add_argument("--exchange", default=None,
                   help="the exchange, when the file does not say (needed with --map)")
    p.add_argument("--env", default=None, help="environment id (default: the exchange's first)")
    p.add_argument("--map", action="append", default=[], metavar="FIELD=VAR",
                   help="read a field from your own variable: key=VAR, secret=VAR, "
                   "passphrase=VAR (repeatable)")
    p.add_argument("--scrub", action="store_true",
                   help="then rewrite the file without the credentials (atomically)")
    p.add_argument("--backup", action="store_true",
                   help="with --scrub: keep the original as FILE.keylink-backup (0600)")
    p.set_defaults(handler=_run_import)


def _run_import(args: argparse.Namespace) -> int:
    from tui.services import importer
    from tui.services.accounts import AccountError
    from tui.services.exchanges import exchange
    from tui.services.secrets import SecretStoreError
    from tui.services.text import clean

    if args.backup and not args.scrub:
        raise UsageError("--backup only goes with --scrub")
    try:
        mapping = importer.parse_mapping(args.map)
        source = importer.read_source(args.path, mapping=mapping, exchange=args.exchange)
        if args.env is not None:
            for found in source.found:
                exchange(found.exchange).environment(args.env)
    except importer.ImportProblem as exc:
        raise UsageError(str(exc)) from None
    except KeyError as exc:
        raise UsageError(str(exc.args[0])) from None
    store = account_store(open_secrets(unlock=True, create=True))
    try:
        done = importer.import_accounts(store, source, name=args.name, environment=args.env)
    except (importer.ImportProblem, AccountError, SecretStoreError, ValueError) as exc:
        raise UsageError(f"{exc}; nothing was added") from None
    path = clean(source.path)
    for item in done:
        account = item.account
        if item.already_stored:
            print(f"already stored as {clean(account.name)} ({account.exchange}): not added again")
        else:
            print(f"added {clean(account.name)}: {exchange(account.exchange).label}, "
                  f"{account.environment}; read back from {store.secrets.backend_name}")
    places = importer.plaintext_places(source)
    if args.scrub:
        try:
            backup = importer.scrub(source, backup=args.backup)
        except (importer.ImportProblem, OSError) as exc:
            raise UsageError(f"the file was not changed: {exc}") from None
        what = "emptied" if source.kind == importer.FREQTRADE else "removed"
        print(f"{path}: {what} {', '.join(places)}")
        if backup is not None:
            print(f"the backup {clean(backup)} still holds the plaintext (mode 0600): delete it "
                  "once everything runs")
    else:
        print(f"{path} still holds the plaintext in: {', '.join(places)}")
        print(f"remove them by hand, or run: keylink accounts import {quoted(path)} "
              "--scrub")
    first = done[0].account.name
    if source.kind == importer.FREQTRADE:
        print("then run freqtrade with the key from keylink instead:")
        print(f"  keylink exec {quoted(clean(first))} --preset freqtrade -- freqtrade trade "
              f"--config {quoted(path)}")
    else:
        print("a program can get the key in its environment with: "
              f"keylink exec {quoted(clean(first))} -- COMMAND")
    return 0
