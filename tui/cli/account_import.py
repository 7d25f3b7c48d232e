"""`keylink accounts import`: take keys out of a freqtrade config or a .env file."""

from __future__ import annotations

import argparse
import sys

from tui.cli.common import UsageError, accounts_of, cli_session, quoted, stdin_is_terminal


def add_action(actions: argparse._SubParsersAction) -> None:
    p = actions.add_parser(
        "import",
        help="add the key(s) from a freqtrade config.json or a .env file",
        description="Adds every key found in the file (all or none) and reads each back, then "
        "lists where the file still holds them. The file is not changed unless you add --scrub. "
        "A freqtrade config (comments and trailing commas allowed, as freqtrade reads it) gives "
        "exchange.name, key, secret and password; a .env file the usual names (BYBIT_API_KEY, "
        "OKX_API_SECRET, FREQTRADE__EXCHANGE__KEY, ...) or the ones you give with --map. A key "
        "keylink already holds with another secret or passphrase is updated only when you say "
        "so (asked on a terminal, or --update).",
    )
    p.add_argument("path", help="the config.json or .env file")
    p.add_argument("--name", default=None, help="account name (default: '<Exchange> from <file>')")
    p.add_argument("--exchange", default=None,
                   help="the exchange, when the file does not say (needed with --map)")
    p.add_argument("--env", default=None, help="environment id (default: the exchange's first)")
    p.add_argument("--map", action="append", default=[], metavar="FIELD=VAR",
                   help="read a field from your own variable: key=VAR, secret=VAR, "
                   "passphrase=VAR (repeatable)")
    p.add_argument("--update", action="store_true",
                   help="store the file's secret or passphrase over a stored account's with the "
                   "same API key, without asking")
    p.add_argument("--scrub", action="store_true",
                   help="then rewrite the file without any copy of the stored values "
                   "(atomically; the rest of the file is kept byte for byte)")
    p.add_argument("--backup", action="store_true",
                   help="with --scrub: keep the original as FILE.keylink-backup (0600)")
    p.set_defaults(handler=_run_import)


def _say(line: str) -> None:
    print(f"keylink: {line}", file=sys.stderr)


def _run_import(args: argparse.Namespace) -> int:
    from tui.services.core.text import clean
    from tui.services.exchanges import exchange
    from tui.services.handoff import importer, scrub
    from tui.services.store.errors import SecretStoreError
    from tui.services.store.model import AccountError

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
    store = accounts_of(cli_session(unlock=True, create=True))

    def ask(account, found, differing) -> bool:  # (Account, Found, fields) -> bool
        words = importer.field_words(differing)
        answer = input(f"{clean(account.name)} holds this {exchange(found.exchange).label} API "
                       f"key with another {words}. Store the file's {words} instead? [y/N] ")
        return answer.strip().lower() in ("y", "yes")

    update = True if args.update else ask if stdin_is_terminal() else False
    try:
        done = importer.import_accounts(store, source, name=args.name, environment=args.env,
                                        update=update)
    except (importer.ImportProblem, AccountError, SecretStoreError, ValueError) as exc:
        raise UsageError(f"{exc}; nothing was added") from None
    from tui.cli.log import note_use
    from tui.services.handoff.fields import secret_fields

    for item in done:
        if item.status in (importer.ADDED, importer.UPDATED):
            note_use("import", item.account, secret_fields(item.account),
                     "added" if item.status == importer.ADDED else "updated")
    path = clean(source.path)
    refused = [item for item in done if item.status == importer.REFUSED]
    for item in done:
        account = item.account
        if item.status == importer.STORED:
            print(f"already stored as {clean(account.name)} ({account.exchange}): not added again")
        elif item.status == importer.UPDATED:
            print(f"updated {clean(account.name)}: stored the file's "
                  f"{importer.field_words(item.differing)}; read back from "
                  f"{store.secrets.backend_name}")
        elif item.status == importer.ADDED:
            print(f"added {clean(account.name)}: {exchange(account.exchange).label}, "
                  f"{account.environment}; read back from {store.secrets.backend_name}")
    for item in refused:
        _say(f"{clean(item.account.name)} holds this API key with another "
             f"{importer.field_words(item.differing)}: not changed, and the file keeps these "
             "values; to store the file's, run again on a terminal or add --update")
    if args.scrub:
        try:
            values = scrub.stored_values(store, done)
            result = scrub.scrub(source, values, backup=args.backup)
        except scrub.CannotScrub as exc:
            _say(f"the file was not changed: {exc}")
            return 1
        except (importer.ImportProblem, OSError) as exc:
            raise UsageError(f"the file was not changed: {exc}") from None
        if result.stale_temps:
            print(f"deleted {result.stale_temps} temp file(s) an interrupted scrub of {path} "
                  "left behind")
        if result.places:
            what = "emptied" if source.kind == importer.FREQTRADE else "removed"
            print(f"{path}: {what} {', '.join(result.places)}")
            print(f"checked: {path} holds no copy of a stored key, secret or passphrase")
        elif values:
            print(f"{path} holds no copy of a stored key, secret or passphrase: not changed")
        if result.backup is not None:
            print(f"the backup {clean(result.backup)} still holds the plaintext (mode 0600): "
                  "delete it once everything runs")
    else:
        places = scrub.plaintext_places(source)
        print(f"{path} still holds the plaintext in: {', '.join(places)}")
        print(f"remove them by hand, or run: keylink accounts import {quoted(path)} "
              "--scrub")
    if refused:
        return 1
    first = done[0].account.name
    if source.kind == importer.FREQTRADE:
        print("then run freqtrade with the key from keylink instead:")
        print(f"  keylink exec {quoted(clean(first))} --preset freqtrade -- freqtrade trade "
              f"--config {quoted(path)}")
    else:
        print("a program can get the key in its environment with: "
              f"keylink exec {quoted(clean(first))} -- COMMAND")
    return 0
