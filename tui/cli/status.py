"""`keylink status`: every account's last check at a glance, from disk only (no network)."""

from __future__ import annotations

import argparse
import sys

from tui.cli.common import warn_days_argument


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "status",
        help="every account's last check, expiry and changes, without contacting anyone",
        description="One line per account: status, worst finding, days to expiry, age of the "
        "last check and what changed at it, read from keylink's files (no network, no secret). "
        "With --strict, exit 1 when any account failed, found a danger, lapses within the "
        "warning days, or was last checked longer ago than KEYLINK_CHECK_MAX_AGE (default 7 "
        "days; 36h, 90m, 600s and 2w work too).",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--strict", action="store_true",
                   help="exit 1 when any account has a problem (for cron and monitoring)")
    p.add_argument("--warn-days", type=warn_days_argument, default=None, metavar="N",
                   help="an expiry within N days is a problem (default 14)")
    p.set_defaults(handler=_run_status)


def _line(standing) -> str:  # standing: verify.standing.Standing
    from tui.services.core.text import clean, plural
    from tui.services.core.times import age_words

    if standing.expired:
        expiry = "expired"
    elif standing.days_left is not None:
        expiry = f"{standing.days_left} d left"
    else:
        expiry = "-"
    changes = plural(len(standing.changes), "change") if standing.changes else ""
    stale = " (stale)" if standing.stale and standing.checked_at is not None else ""
    age = age_words(standing.age, ago=True)  # "3 h ago", "never"
    return (f"{clean(standing.account.name)[:24]:<24} {standing.status:<9} "
            f"{standing.worst or '-':<8} {expiry:<10} {age + stale:<16} {changes}").rstrip()


def _run_status(args: argparse.Namespace) -> int:
    import json
    from datetime import UTC, datetime

    from tui.cli.common import UsageError, accounts_of, cli_session
    from tui.services.core.check_age import check_max_age
    from tui.services.store.history import HistoryStore
    from tui.services.store.model import AccountError
    from tui.services.verify.expiry import WARN_DAYS
    from tui.services.verify.standing import standings

    try:
        max_age = check_max_age()
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    session = cli_session()
    store = accounts_of(session)
    try:
        accounts = store.list()
    except AccountError as exc:
        raise UsageError(str(exc)) from None
    latest, problem = HistoryStore(store.dir).latest()  # the newest entries only: fast
    history = {key: [entry] for key, entry in latest.items()}
    if problem:
        print(f"keylink: warning: {problem}; showing the last check kept with each account",
              file=sys.stderr)
    warn_days = WARN_DAYS if args.warn_days is None else args.warn_days
    rows = standings(accounts, history, datetime.now(UTC), warn_days=warn_days,
                     max_age=max_age)
    if args.json:
        print(json.dumps([row.to_json() for row in rows], indent=2))
    elif not rows:
        print("no saved accounts")
    else:
        print(f"{'ACCOUNT':<24} {'STATUS':<9} {'WORST':<8} {'EXPIRES':<10} {'CHECKED':<16} "
              "CHANGES")
        print("\n".join(_line(row) for row in rows))
    if args.strict and any(row.problems for row in rows):
        if not args.json:
            for row in rows:
                for why in row.problems:
                    from tui.services.core.text import clean

                    print(f"keylink: {clean(row.account.name)}: {why}", file=sys.stderr)
        return 1
    return 0
