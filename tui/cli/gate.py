"""The verdict on the command line: `copy`, `exec` and `accounts export-key` look at the last check.

A key whose last check failed or found a danger is refused (exit 1, one line naming the finding
and ``--allow-risky``); one never checked, or not within ``KEYLINK_CHECK_MAX_AGE``, is handed over
with a warning on stderr. ``--check`` runs a fresh check first (through the session, which records
it) and judges that, so a bot's start can be ``keylink exec NAME --check -- CMD``.
The rules themselves are ``tui.services.handoff.gate``.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from tui.cli.common import UsageError, quoted, unlock_vault

if TYPE_CHECKING:
    from tui.services.session.session import Session
    from tui.services.store.model import Account

#: The exit code of a refused hand-off (as for a failed check).
REFUSED = 1


def add_gate_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--check", action="store_true",
                        help="check the key with the exchange first, and judge that check")
    parser.add_argument("--allow-risky", action="store_true",
                        help="hand the key over even when its last check failed or found a "
                        "danger (a key that can withdraw)")


def fresh_check(session: Session, account: Account) -> Account:
    """Check ``account``'s key now and return it with that check as its last one (also when the
    result could not be saved: the check itself still counts)."""
    import asyncio
    from dataclasses import replace

    from tui.services.core.text import clean
    from tui.services.store.model import LastCheck

    # In the main thread, where a prompt can be interrupted; only when the secret is in the
    # session's own store, as `keylink verify` does (pass asks its own agent).
    unlock_vault(session, accounts=[account])
    finished = asyncio.run(session.check_and_record(account))
    checked = finished.account
    if finished.not_saved:
        print(f"keylink: could not record the check for {clean(account.name)}: "
              f"{finished.not_saved}", file=sys.stderr)
        checked = replace(account, last_check=LastCheck.of(finished.report))
    print(f"keylink: checked {clean(account.name)}: {clean(finished.report.summary())}",
          file=sys.stderr)
    return checked


class Refused(Exception):
    """The hand-off is refused; the message is the one line to print (exit ``REFUSED``)."""


def say_refused(exc: Refused) -> int:
    print(f"keylink: refused: {exc}", file=sys.stderr)
    return REFUSED


def pass_gate(session: Session, account: Account, args: argparse.Namespace) -> str:
    """Judge ``account`` (after a fresh check with ``--check``): the warning to print once the
    key is handed over ("" for none; printed after, so a usage error stays one line). Refused
    when the hand-off must not happen; UsageError for a bad KEYLINK_CHECK_MAX_AGE."""
    from tui.services.core.check_age import check_max_age
    from tui.services.handoff.gate import Gate, judge

    try:
        max_age = check_max_age()
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if getattr(args, "check", False):
        account = fresh_check(session, account)
    from tui.services.core.text import clean

    name = quoted(clean(account.name))
    verdict = judge(account, max_age)
    if verdict.gate is Gate.RISKY:
        if not getattr(args, "allow_risky", False):
            raise Refused(f"{verdict.line(account.name)}; fix the key and run "
                          f"`keylink verify {name}`, or add --allow-risky")
        return f"keylink: warning: {verdict.line(account.name)}; handed over (--allow-risky)"
    if verdict.gate is Gate.STALE:
        return (f"keylink: warning: {verdict.line(account.name)}; `keylink verify {name}` "
                "checks it (or add --check)")
    return ""


def warn(text: str) -> None:
    """Print ``pass_gate``'s warning (nothing for "")."""
    if text:
        print(text, file=sys.stderr)
