"""`keylink whitelist`: print a terminal's server IPs, list the terminals, refresh a served list."""

from __future__ import annotations

import argparse
import sys

from tui.cli.common import UsageError, stdin_is_terminal
from tui.services.core.text import clean


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "whitelist", help="print a terminal's server IPs for the exchange's IP field"
    )
    p.add_argument(
        "--profile",
        default=None,
        help="list id (default: insilico-general); 'keylink whitelist --list' shows them",
    )
    p.add_argument("--terminal", metavar="NAME", default=None,
                   help="the terminal whose list to print (with --exchange: its list there)")
    p.add_argument("--exchange", default=None,
                   help="with --terminal: the exchange the key is for (default: bybit)")
    p.add_argument("--format", choices=("comma", "lines", "space", "json"), default="comma")
    p.add_argument("--file", default=None,
                   help="read the addresses from this file instead ('-': from stdin)")
    p.add_argument("--list", action="store_true",
                   help="list the terminals, how each binds keys, and their lists with source, "
                   "date and exchanges, then exit")
    p.add_argument("--json", action="store_true", help="with --list: print JSON")
    p.add_argument("--refresh", metavar="TERMINAL", default=None,
                   help="fetch the list TERMINAL serves (3Commas), show what changed, and keep "
                   "it once accepted")
    p.add_argument("--from", dest="source", metavar="URL", default=None,
                   help="with --refresh: fetch from this https address instead")
    p.add_argument("--yes", action="store_true",
                   help="with --refresh: keep the new list without asking")
    p.add_argument("--copy", action="store_true",
                   help="copy the list to the clipboard (OSC 52 and the system clipboard) "
                   "instead of printing it")
    p.set_defaults(handler=_run_whitelist)


def _catalogue_json() -> list[dict[str, object]]:
    from tui.services.exchanges import exchanges
    from tui.services.terminals import catalogue

    items = []
    for item in catalogue.terminals().values():
        items.append({
            "id": item.id, "name": item.name, "aliases": list(item.aliases),
            "binding": {ex: str(item.binding(ex)) for ex in exchanges()},
            "binding_rules": {ex: str(kind) for ex, kind in item.bindings.items()},
            "form": item.form or None, "form_confirmed": item.form_confirmed,
            "fields": dict(item.fields), "notes": list(item.notes),
            "exchange_notes": dict(item.exchange_notes),
            "source": item.source, "checked": item.checked,
            "lists": [{
                "id": entry.id, "name": entry.name,
                "exchanges": list(entry.by_exchange) or list(entry.exchanges),
                "source": entry.source, "source_url": entry.source_url or None,
                "date": entry.date or None, "official": entry.official,
                "provenance": entry.provenance, "endpoint": entry.endpoint or None,
                "addresses": list(entry.addresses_for()),
                "by_exchange": {k: list(v) for k, v in entry.by_exchange.items()},
                "next": list(entry.next), "next_date": entry.next_date or None,
                "previous": list(entry.previous), "previous_until": entry.previous_until or None,
            } for entry in item.lists],
        })
    return items


def _print_list(as_json: bool) -> int:
    import json

    from tui.services.exchanges import exchanges
    from tui.services.terminals import catalogue

    if as_json:
        print(json.dumps(_catalogue_json(), indent=2, ensure_ascii=False))
        return 0
    for item in catalogue.terminals().values():
        ways = ", ".join(f"{ex} {item.binding(ex)}" for ex in exchanges())
        print(f"{item.id}\t{item.name} ({ways})")
        for entry in item.lists:
            count = len(entry.addresses_for())
            where = ", ".join(entry.by_exchange) or ", ".join(entry.exchanges)
            print(f"  {entry.id}\t{count}\t{entry.name}: {entry.provenance}; for {where}")
    return 0


def _terminal_addresses(name: str, exchange_id: str | None) -> tuple[str, ...]:
    from tui.services.exchanges import exchange, exchanges
    from tui.services.terminals import catalogue

    try:
        item = catalogue.terminal(name)
    except catalogue.CatalogueError as exc:
        raise UsageError(clean(str(exc))) from None
    exchange_id = exchange_id or next(iter(exchanges()))
    try:
        label = exchange(exchange_id).label
    except KeyError as exc:
        raise UsageError(clean(exc.args[0])) from None
    kind = item.binding(exchange_id)
    entry = item.list_for(exchange_id)
    addresses = entry.current().addresses_for(exchange_id) if entry else ()
    if addresses:
        return addresses
    if kind is catalogue.Binding.LINK:
        why = f"{label} binds {item.name} keys itself (its link flow); no list to paste"
    elif kind in catalogue.OWN_LIST_BINDINGS:
        why = (f"{item.name} shows each user their own list in its app"
               if kind is catalogue.Binding.PER_USER
               else f"{item.name} runs on your own server: use its public address")
    elif entry is not None and entry.endpoint:
        why = (f"{item.name}'s list is served, not published: fetch it with "
               f"`keylink whitelist --refresh {item.id}`")
    elif kind is catalogue.Binding.NONE:
        why = f"{item.name} keys on {label} take no IP list"
    else:
        why = f"keylink has no list of {item.name}'s addresses for {label}"
    raise UsageError(why)


def _refresh(args: argparse.Namespace) -> int:
    from tui.services.terminals import catalogue, refresh

    try:
        item = catalogue.terminal(args.refresh)
        plan = refresh.plan(item, args.source)
    except (catalogue.CatalogueError, refresh.RefreshError) as exc:
        raise UsageError(f"{clean(str(exc))}; nothing changed") from None
    changes = plan.changes()
    print(f"{clean(item.name)}: fetched from {clean(plan.source)} on {plan.taken}")
    if not changes:
        print("no change: the list in use is the same")
        return 0
    for market, (added, removed) in changes.items():
        print(f"  {clean(market)}: {len(added)} added, {len(removed)} removed")
        for address in added:
            print(f"    + {address}")
        for address in removed:
            print(f"    - {address}")
    if not args.yes:
        if not stdin_is_terminal():
            print("not kept: the list in use is unchanged (add --yes to keep the new one)",
                  file=sys.stderr)
            return 1
        answer = input("Keep the new list? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("not kept: the list in use is unchanged")
            return 1
    try:
        path = refresh.accept(plan)
    except OSError as exc:
        raise UsageError(f"the list could not be saved ({clean(exc.strerror or exc)}); "
                         "the list in use is unchanged") from None
    print(f"kept: {clean(item.name)}'s list as of {plan.taken} ({clean(path)})")
    return 0


def _run_whitelist(args: argparse.Namespace) -> int:
    from tui.services.terminals import whitelist

    if args.json and not args.list:
        raise UsageError("--json goes with --list (for the addresses: --format json)")
    if args.list:
        return _print_list(args.json)
    if args.refresh:
        if args.file or args.profile or args.terminal or args.copy:
            raise UsageError("--refresh goes alone (with --from and --yes)")
        return _refresh(args)
    if args.source or args.yes:
        raise UsageError("--from and --yes go with --refresh")
    if args.exchange and not args.terminal:
        raise UsageError("--exchange goes with --terminal")
    if sum(bool(x) for x in (args.file, args.profile, args.terminal)) > 1:
        raise UsageError("give either --profile, --terminal or --file, not two of them")
    try:
        if args.file:
            # A pipe keylink holds is fine here (`--file -`, /dev/stdin, <(cmd)); a named pipe, a
            # terminal or a device is not: opening or reading one may wait forever.
            addresses = whitelist.load_file(args.file, allow_pipe=True).addresses
        elif args.terminal:
            addresses = _terminal_addresses(args.terminal, args.exchange)
        else:
            addresses = whitelist.profile(args.profile or whitelist.DEFAULT_PROFILE).addresses
    except (whitelist.WhitelistError, KeyError) as exc:
        raise UsageError(exc.args[0] if exc.args else str(exc)) from None
    text = whitelist.format_addresses(addresses, args.format)
    if args.copy:
        from tui.cli.copy import copy_with_clear

        count = len(addresses)
        copy_with_clear(text, f"{count} address{'es' if count != 1 else ''} ({args.format})",
                        clear=False)
        return 0
    print(text)
    return 0
