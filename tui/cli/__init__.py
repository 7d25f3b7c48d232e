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
from tui.cli import accounts, doctor, verify, whitelist
from tui.cli.common import UsageError
from tui.cli.safe_output import clean_streams

__all__ = ["UsageError", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="keylink",
        description="Create an exchange API key and link it safely to a trading terminal. "
        "Run with no arguments for the interactive app.",
    )
    parser.add_argument("--version", action="version", version=f"keylink {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for group in (whitelist, verify, accounts, doctor):
        group.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `keylink` command and of `python -m tui`."""
    if argv is None:
        argv = sys.argv[1:]
    if not argv:
        from tui.app import KeylinkApp, UnsafeLogging

        try:
            KeylinkApp().run()
        except UnsafeLogging as exc:
            print(f"keylink: {exc}", file=sys.stderr)
            return 2
        return 0
    # Outside text (names, paths, exchange answers, argv echoed by argparse) never reaches the
    # terminal raw: see safe_output.
    with clean_streams():
        return _run(argv)


def _run(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(argv)
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
