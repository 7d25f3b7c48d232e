"""keylink's command line: no sub-command starts the TUI; sub-commands serve scripts."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from tui import __version__


class UsageError(Exception):
    """A bad argument, file or config: one line on stderr and exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="keylink",
        description="Create an exchange API key and link it safely to a trading terminal. "
        "Run with no arguments for the interactive app.",
    )
    parser.add_argument("--version", action="version", version=f"keylink {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_whitelist(sub)
    return parser


def _add_whitelist(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "whitelist", help="print a terminal's server IPs for the exchange's IP field"
    )
    p.add_argument(
        "--profile",
        default=None,
        help="profile id (default: insilico-general); 'keylink whitelist --list' shows them",
    )
    p.add_argument("--format", choices=("comma", "lines", "space", "json"), default="comma")
    p.add_argument("--file", default=None, help="read the addresses from this file instead")
    p.add_argument("--list", action="store_true", help="list the shipped profiles and exit")
    p.set_defaults(handler=_run_whitelist)


def _run_whitelist(args: argparse.Namespace) -> int:
    from tui.services import whitelist

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
            addresses = whitelist.load_file(args.file).addresses
        else:
            addresses = whitelist.profile(args.profile or whitelist.DEFAULT_PROFILE).addresses
    except (whitelist.WhitelistError, KeyError) as exc:
        raise UsageError(exc.args[0] if exc.args else str(exc)) from None
    print(whitelist.format_addresses(addresses, args.format))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `keylink` command and of `python -m tui`."""
    args = build_parser().parse_args(argv)
    if args.command is None:
        from tui.app import KeylinkApp

        KeylinkApp().run()
        return 0
    try:
        return args.handler(args)
    except UsageError as exc:
        print(f"keylink: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("keylink: interrupted", file=sys.stderr)
        return 130
