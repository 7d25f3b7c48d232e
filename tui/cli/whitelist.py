"""`keylink whitelist`: print a terminal's server IPs."""

from __future__ import annotations

import argparse

from tui.cli.common import UsageError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "whitelist", help="print a terminal's server IPs for the exchange's IP field"
    )
    p.add_argument(
        "--profile",
        default=None,
        help="profile id (default: insilico-general); 'keylink whitelist --list' shows them",
    )
    p.add_argument("--format", choices=("comma", "lines", "space", "json"), default="comma")
    p.add_argument("--file", default=None,
                   help="read the addresses from this file instead ('-': from stdin)")
    p.add_argument("--list", action="store_true", help="list the shipped profiles and exit")
    p.add_argument("--copy", action="store_true",
                   help="copy the list to the clipboard (OSC 52 and the system clipboard) "
                   "instead of printing it")
    p.set_defaults(handler=_run_whitelist)


def _run_whitelist(args: argparse.Namespace) -> int:
    from tui.services.terminals import whitelist

    if args.list:
        for profile in whitelist.profiles().values():
            print(
                f"{profile.id}\t{len(profile.addresses)}\t{profile.name} ({profile.source}, "
                f"{profile.date})"
            )
        return 0
    if args.file and args.profile:
        raise UsageError("give either --profile or --file, not both")
    try:
        if args.file:
            # A pipe keylink holds is fine here (`--file -`, /dev/stdin, <(cmd)); a named pipe, a
            # terminal or a device is not: opening or reading one may wait forever.
            addresses = whitelist.load_file(args.file, allow_pipe=True).addresses
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
