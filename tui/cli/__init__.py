"""keylink's command line: no sub-command starts the TUI; sub-commands serve scripts.

One module per command group (whitelist, verify, accounts, doctor); `common` holds the one-line
usage error and the shared way of opening the stores and prompting.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from tui import __version__
from tui.cli import accounts, copy, doctor, run, verify, whitelist
from tui.cli.common import UsageError

__all__ = ["UsageError", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="keylink",
        description="Create an exchange API key and link it safely to a trading terminal. "
        "Run with no arguments for the interactive app.",
    )
    parser.add_argument("--version", action="version", version=f"keylink {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for group in (whitelist, verify, accounts, copy, run, doctor):
        group.add_parser(sub)
    return parser


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
    except EOFError:  # ctrl-D at a prompt: input() and getpass raise it
        print("keylink: input ended before an answer was given; stopped", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (`keylink accounts list | head`): stop quietly, as Unix tools do.
        # Point stdout at devnull so the interpreter's final flush does not raise again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
