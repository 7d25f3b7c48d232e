"""`keylink verify`: check saved keys against their exchanges."""

from __future__ import annotations

import argparse
import sys

from tui.cli.common import (
    UsageError,
    accounts_of,
    cli_session,
    require_usable,
    unlock_vault,
    warn_days_argument,
)
from tui.services.core.status import CheckStatus, Severity


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "verify",
        help="check a saved account's key against its exchange and audit its settings",
        description="Exit 0 when the key works or is locked to other addresses (as a key "
        "linked to a terminal is when checked from here), 1 when the check failed, 2 for usage "
        "or config errors (unknown account, locked vault). With --strict, also 1 when any "
        "finding is a warning or worse.",
    )
    p.add_argument("name", nargs="?", help="account name or id")
    p.add_argument("--all", action="store_true", help="verify every saved account")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--strict", action="store_true",
                   help="also exit 1 when any finding is a warning or a danger (for cron and CI)")
    p.add_argument("--whitelist", metavar="PROFILE", default=None,
                   help="compare the key's IPs with this whitelist profile "
                   "(default: the account's own)")
    p.add_argument("--warn-days", type=warn_days_argument, default=None, metavar="N",
                   help="an expiry within N days is a warning (default 14; 3 or less, or "
                   "past, is a danger)")
    p.add_argument("--on-change", metavar="CMD", default=None,
                   help="run CMD (by the shell) with JSON of what changed since the last "
                   "check, and of expiries within the warning days, on its stdin; only when "
                   "there is any. Its failure is reported and changes no exit code")
    p.add_argument("--quiet", action="store_true",
                   help="print only problems: failed checks, warnings, dangers and changes "
                   "(text output; --json prints every account)")
    p.add_argument("--no-probe", dest="probe", action="store_false",
                   help="when the exchange does not know the key, do not ask its other "
                   "environments (testnet, demo, regional sites) where the key belongs")
    p.set_defaults(handler=_run_verify)


_SEVERITY_MARK = {Severity.OK: "[ok]    ", Severity.INFO: "[info]  ", Severity.WARNING: "[warn]  ",
                  Severity.ERROR: "[error] ", Severity.DANGER: "[DANGER]"}


def _report_text(name: str, report, quiet: bool = False) -> str:  # report: KeyReport
    from tui.services.core.text import clean, plural
    from tui.services.exchanges import exchange
    from tui.services.exchanges.base import PERMISSIONS
    from tui.services.verify.report import status_words

    if quiet and not _is_problem(report):
        return ""
    label = exchange(report.exchange).label
    timing = f"{report.latency_ms} ms" if report.latency_ms is not None else "no answer"
    clock = (f", clock {report.clock_offset_ms / 1000:+.1f} s"
             if report.clock_offset_ms is not None else "")
    lines = [f"{clean(name)}: {label} ({clean(report.environment)}) at {clean(report.host)}, "
             f"{timing}{clock}"]
    if report.status == CheckStatus.WORKS:
        perms = ", ".join(p for p in PERMISSIONS if p in report.permissions)
        ips = (f"{len(report.ips)} bound" if report.ips else "bound") \
            if report.ip_restricted else "not bound"
        kind = f", {report.key_type} key" if report.key_type else ""
        lines.append(f"  works: permissions {perms or 'none'}; IPs {ips}{kind}")
    else:
        assert report.error is not None
        lines.append(f"  {report.status}: {status_words(report.error)}")
        if report.error.exchange_message:
            lines.append(f"  the exchange said: {clean(report.error.exchange_message)}")
    if report.previous_checked_at is not None:
        count = len(report.changes)
        lines.append(f"  since last check ({report.previous_checked_at}): "
                     f"{plural(count, 'change') if count else 'no changes'}")
    for finding in report.findings:
        if quiet and finding.severity not in (Severity.WARNING, Severity.ERROR, Severity.DANGER):
            continue
        lines.append(f"  {_SEVERITY_MARK[finding.severity]} {finding.code}: "
                     f"{clean(finding.message)}")
    if report.probe is not None:
        lines.extend(_probe_lines(name, report))
    return "\n".join(lines)


def _probe_lines(name: str, report) -> list[str]:  # report: KeyReport with a probe
    """Which hosts the probe asked, and the command that moves the account where the key works."""
    from tui.services.core.text import clean
    from tui.services.verify.probe import switch_command

    probe = report.probe
    asked = ", ".join(answer.host for answer in probe.asked) or "none"
    lines = [f"  hosts asked: {clean(asked)}"]
    if probe.belongs_to is not None:
        lines.append(f"  belongs to: {clean(probe.belongs_to)} at {clean(probe.belongs_host)}")
        lines.append(f"  fix: {clean(switch_command(name, probe.belongs_to))}")
    elif probe.asked:
        lines.append("  belongs to: no other environment asked knows this key")
    return lines


def exit_code(reports, strict: bool) -> int:  # reports: Sequence[KeyReport]
    """0 works or locked, 1 failed; with ``strict`` also 1 for any warning, error or danger."""
    if any(r.status == CheckStatus.FAILED for r in reports):
        return 1
    if strict and any(f.severity in (Severity.WARNING, Severity.ERROR, Severity.DANGER)
                      for r in reports for f in r.findings):
        return 1
    return 0


def _run_verify(args: argparse.Namespace) -> int:
    import asyncio
    import json

    from tui.services.core.text import clean
    from tui.services.session.unlock import SessionError
    from tui.services.store.errors import SecretStoreError
    from tui.services.store.model import AccountError, removal_note
    from tui.services.terminals import whitelist as whitelists

    if bool(args.name) == bool(args.all):
        raise UsageError("give an account name, or --all")
    addresses = None
    if args.whitelist:
        try:
            addresses = whitelists.profile(args.whitelist).addresses
        except KeyError as exc:
            raise UsageError(exc.args[0] if exc.args else str(exc)) from None
    session = cli_session()
    store = accounts_of(session)
    try:
        # Names, cut-short removals and unknown exchanges are checked before any passphrase is
        # asked for: a typo costs no unlock.
        accounts = store.list() if args.all else [store.get(args.name)]
        if args.all:
            for account in accounts:
                if account.removing is not None:
                    print(f"keylink: skipped: {removal_note(account)}", file=sys.stderr)
            usable = [a for a in accounts if a.removing is None]
            if accounts and not usable:
                raise UsageError("no account to check: every saved account's removal was cut "
                                 "short (see above)")
            accounts = usable
        for account in accounts:  # before any secret is read or request sent
            require_usable(account)
    except (AccountError, SecretStoreError) as exc:
        raise UsageError(str(exc)) from None
    # Here, in the main thread (where a prompt can be interrupted), not in a check's thread;
    # only when an account's secret is in the session's store (pass asks its own agent).
    unlock_vault(session, accounts=accounts)
    if not accounts:
        raise UsageError("there are no saved accounts yet")

    async def run_all():  # -> list[CheckFinished]
        # Several checks at once: no connections opened beforehand to the other environments
        # (each exchange's other hosts would get a burst of time calls); a refusal still probes.
        return await asyncio.gather(*(session.check_and_record(account, whitelist=addresses,
                                                               warn_days=args.warn_days,
                                                               probe=args.probe,
                                                               warm_up=len(accounts) == 1)
                                      for account in accounts))

    try:
        finished = asyncio.run(run_all())
    except (SessionError, AccountError, SecretStoreError) as exc:
        raise UsageError(str(exc)) from None
    said: set[str] = set()
    for done in finished:
        if done.not_saved:
            print(f"keylink: could not record the check for {clean(done.account.name)}: "
                  f"{done.not_saved}", file=sys.stderr)
        if done.history_problem and done.history_problem not in said:
            said.add(done.history_problem)  # a damaged history is said once, not per account
            print(f"keylink: warning: {clean(done.history_problem)}", file=sys.stderr)
    reports = [done.report for done in finished]
    if args.json:
        items = [{"account": a.name, **r.to_json()} for a, r in zip(accounts, reports,
                                                                    strict=True)]
        print(json.dumps(items if args.all else items[0], indent=2))
    else:
        texts = [_report_text(a.name, r, quiet=args.quiet)
                 for a, r in zip(accounts, reports, strict=True)]
        texts = [t for t in texts if t]
        if texts:
            print("\n\n".join(texts))
    code = exit_code(reports, args.strict)
    if args.on_change:
        _notify(args.on_change, accounts, reports)
    return code


def _is_problem(report) -> bool:  # report: KeyReport
    return (report.status == CheckStatus.FAILED or bool(report.changes)
            or report.worst in (Severity.WARNING, Severity.ERROR, Severity.DANGER))


def change_document(accounts, reports) -> dict | None:
    """What ``--on-change`` gets: each account with changes or an expiry within the warning
    days (None when there is none, and CMD is not run)."""
    from datetime import UTC, datetime

    from tui.services.core.status import SEVERITY_ORDER

    items = []
    for account, report in zip(accounts, reports, strict=True):
        expiry = report.expiry_json()
        near = expiry is not None and (SEVERITY_ORDER.index(expiry["severity"])
                                       >= SEVERITY_ORDER.index(Severity.WARNING))
        if report.changes or near:
            items.append({"account": account.name, "exchange": report.exchange,
                          "status": report.status, "worst": report.worst,
                          "checked_at": report.checked_at.isoformat(),
                          "previous_checked_at": report.previous_checked_at,
                          "changes": [c.to_json() for c in report.changes],
                          "expiry": expiry if near else None})
    if not items:
        return None
    return {"keylink": "changes", "at": datetime.now(UTC).isoformat(), "accounts": items}


#: How long ``--on-change`` CMD may run before it is stopped (a mail or chat command).
ON_CHANGE_TIMEOUT = 60.0


def _notify(command: str, accounts, reports) -> None:
    """Run ``command`` with the change document on stdin; a failure is one line on stderr and
    never changes the result or the exit code (the check already happened and was printed)."""
    import json
    import subprocess

    from tui.services.core.child_env import child_environ
    from tui.services.core.text import clean

    document = change_document(accounts, reports)
    if document is None:
        return
    shown = clean(command)[:60]
    try:
        done = subprocess.run(command, shell=True, input=json.dumps(document, indent=2) + "\n",
                              text=True, env=child_environ(), timeout=ON_CHANGE_TIMEOUT,
                              stdout=subprocess.PIPE, check=False)
    except subprocess.TimeoutExpired:
        print(f"keylink: --on-change command did not finish within {ON_CHANGE_TIMEOUT:g} s "
              f"and was stopped: {shown}", file=sys.stderr)
        return
    except OSError as exc:
        print(f"keylink: --on-change command could not start ({exc.strerror or exc}): {shown}",
              file=sys.stderr)
        return
    if done.stdout:  # to stderr: stdout is keylink's own report (maybe JSON)
        sys.stderr.write(done.stdout if done.stdout.endswith("\n") else done.stdout + "\n")
    if done.returncode != 0:
        how = (f"was killed by signal {-done.returncode}" if done.returncode < 0
               else f"exited {done.returncode}")
        print(f"keylink: --on-change command {how}: {shown}; the checks above stand",
              file=sys.stderr)
