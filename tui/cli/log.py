"""`keylink log`: the access log of stored secrets' uses, and the check of its chain (issue 19)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from tui.cli.common import UsageError

if TYPE_CHECKING:
    from datetime import datetime


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "log",
        help="every use of a stored secret: copy, print, exec, verify, rotate, import, remove",
        description="Shows the access log in keylink's state dir (one line per use, never a "
        "value). Each line carries the hash of the line before it: --check finds a line that "
        "was edited, removed or moved.",
    )
    p.add_argument("name", nargs="?", help="only this account (name or id)")
    p.add_argument("--json", action="store_true", help="the entries as a JSON list")
    p.add_argument("--since", metavar="DATE",
                   help="only uses from DATE on (2026-12-01, or 2026-12-01T08:00, UTC)")
    p.add_argument("--check", action="store_true",
                   help="check the chain of hashes; exit 1 when it is broken")
    p.set_defaults(handler=_run_log)


def note_use(action: str, account: Any, fields: Any = (), outcome: str = "ok") -> None:
    """Record one use of a stored secret in the access log; a problem with the log is one line
    on stderr (said once), never a reason to stop the command."""
    from tui.services.core import access_log

    problem = access_log.AccessLog().record(action, account, list(fields), outcome)
    if problem:
        print(f"keylink: warning: {problem}", file=sys.stderr)


def say_pending() -> None:
    """Problems the log met in a layer that cannot print (a check recorded by the session)."""
    from tui.services.core import access_log

    for problem in access_log.take_pending():
        print(f"keylink: warning: {problem}", file=sys.stderr)


def parse_since(text: str) -> datetime:
    """DATE or DATE-TIME (UTC unless it says otherwise); UsageError for anything else."""
    from tui.services.core.text import clean
    from tui.services.core.times import parse_utc

    when = parse_utc(text.strip())
    if when is None:
        raise UsageError(f"--since wants a date such as 2026-12-01 or 2026-12-01T08:00, got "
                         f"{clean(text[:40])!r}")
    return when


def _run_log(args: argparse.Namespace) -> int:
    import json

    from tui.services.core.access_log import AccessLog, describe
    from tui.services.core.text import clean, plural
    from tui.services.core.times import parse_utc

    log = AccessLog()
    if args.check:
        if args.name or args.since or args.json:
            raise UsageError("--check goes alone: it checks the whole log")
        report = log.check()
        for problem in report.breaks:
            print(f"keylink: {problem}", file=sys.stderr)
        if report.breaks:
            print(f"the chain is broken in {plural(len(report.breaks), 'place')} "
                  f"({report.lines} lines in {plural(report.files, 'file')})")
            return 1
        print(f"the chain is whole: {report.lines} lines in {plural(report.files, 'file')}")
        return 0
    since = parse_since(args.since) if args.since else None
    entries, problems = log.entries()
    for problem in problems:
        print(f"keylink: warning: {problem}", file=sys.stderr)
    if args.name:
        wanted = args.name.casefold()
        entries = [e for e in entries if str(e.get("account") or "").casefold() == wanted
                   or e.get("account_id") == args.name]
    if since is not None:
        entries = [e for e in entries
                   if (when := parse_utc(e.get("time"))) is not None and when >= since]
    if args.json:
        keep = ("time", "action", "account", "account_id", "fields", "outcome", "tty", "ssh",
                "parent")
        print(json.dumps([{key: e.get(key) for key in keep} for e in entries], indent=2))
        return 0
    if not entries:
        what = f" for {clean(args.name)}" if args.name else ""
        print(f"no uses recorded{what}")
        return 0
    for entry in entries:
        print(describe(entry))
    return 0
