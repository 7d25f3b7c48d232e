"""`keylink copy`: one field of a saved account to the clipboard (or, asked, to a pipe)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from tui.cli.common import UsageError, accounts_of, cli_session, require_usable
from tui.cli.gate import Refused, add_gate_options, pass_gate, say_refused, warn
from tui.cli.log import note_use

if TYPE_CHECKING:
    from tui.services.store.model import Account


def add_parser(sub: argparse._SubParsersAction) -> None:
    from tui.services.handoff.clipboard import CLIP_TIME_ENV, DEFAULT_CLIP_TIME
    from tui.services.handoff.fields import FIELDS, public_names

    p = sub.add_parser(
        "copy",
        help="copy an account's name, key, secret or passphrase to the clipboard",
        description="Sends the value to your terminal's clipboard (OSC 52) and the system "
        "clipboard where there is one, and never prints it. A detached helper copies something "
        f"harmless over it after {CLIP_TIME_ENV} seconds (default {DEFAULT_CLIP_TIME}).",
    )
    p.add_argument("name", help="account name or id")
    p.add_argument("--field", required=True, choices=public_names(FIELDS))
    p.add_argument("--print", action="store_true", dest="print_value",
                   help="write the value to stdout for a pipe instead (no clipboard)")
    p.add_argument("--force", action="store_true",
                   help="with --print: print even when stdout is a terminal")
    add_gate_options(p)
    p.set_defaults(handler=_run_copy)


def read_field(name: str, field: str,
               gate: argparse.Namespace | None = None) -> tuple[Account, str, str]:
    """(account, value, warning) of one field of a saved account; UsageError when it cannot
    be read. With ``gate`` (the command's options), the account's last check is judged first,
    before any passphrase is asked for: Refused, or the warning to print after the hand-off."""
    from tui.services.handoff.fields import SECRET_FIELDS, HandoffError, field_value, has_passphrase
    from tui.services.session.unlock import SessionError
    from tui.services.store.errors import SecretStoreError
    from tui.services.store.model import AccountError

    session = cli_session()
    try:
        account = accounts_of(session).get(name)
        require_usable(account)
        # Refused before the vault is unlocked: Bybit and Binance keys have no passphrase.
        if field == "passphrase" and not has_passphrase(account):
            field_value(account, None, field)
        action = "print" if gate is not None and gate.print_value else "copy"
        try:
            warning = pass_gate(session, account, gate) if gate is not None else ""
        except Refused:
            if field in SECRET_FIELDS:
                note_use(action, account, [field], "refused")
            raise
        creds = None
        if field in SECRET_FIELDS:
            try:
                creds = session.credentials_for(account)
            except (SecretStoreError, SessionError, AccountError) as exc:
                note_use(action, account, [field], f"failed: {type(exc).__name__}")
                raise
        return account, field_value(account, creds, field), warning
    except (AccountError, SecretStoreError, SessionError, HandoffError) as exc:
        raise UsageError(str(exc)) from None


def copy_with_clear(value: str, what: str, *, clear: bool = True) -> None:
    """Copy ``value`` by OSC 52 and the local clipboard, start the detached clearer (unless
    ``clear`` is False: nothing secret), and say so on stdout (never the value)."""
    from tui.services.core.text import clean
    from tui.services.handoff import clipboard

    seconds = 0
    if clear:
        try:
            seconds = clipboard.clip_time()
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    tmux = clipboard.tmux_set_clipboard()
    tty: str | None = None

    def osc52(text: str) -> None:
        nonlocal tty
        tty = clipboard.send_to_tty(text)
        if tty is None:
            raise OSError("no controlling terminal")

    result = clipboard.copy_text(value, osc52)
    if not result.ways:
        raise UsageError("there is no terminal or clipboard to copy to here; "
                         "use --print to write the value to a pipe")
    if clear:
        clipboard.spawn_clearer(clipboard.digest(value), seconds, tty or None, result.copy_id)
    remote = clipboard.remote_session()
    when = f"; cleared in {seconds} s" if clear else ""
    print(f"{clean(what)}: {result.describe()}{when}")
    advice = clipboard.tmux_advice(tmux, remote) if clipboard.OSC52 in result.ways else ""
    if advice:
        print(f"keylink: {advice}", file=sys.stderr)
    elif clear and clipboard.OSC52 in result.ways:
        # The value left this machine: what keylink's clear cannot reach (issue 15).
        note = clipboard.remote_copy_note(remote)
        if note:
            print(note)


def _run_copy(args: argparse.Namespace) -> int:
    from tui.services.handoff.fields import FIELD_LABELS, field_named

    if args.force and not args.print_value:
        raise UsageError("--force only goes with --print")
    if args.print_value and sys.stdout.isatty() and not args.force:
        raise UsageError("stdout is a terminal: --print is for pipes "
                         "(add --force to show the value on screen)")
    if not args.print_value:
        from tui.services.handoff import clipboard

        try:
            clipboard.clip_time()  # a bad KEYLINK_CLIP_TIME is said before anything else
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    from tui.services.handoff.fields import SECRET_FIELDS

    field = field_named(args.field)
    assert field is not None  # argparse took one of the public names
    try:
        account, value, warning = read_field(args.name, field, gate=args)
    except Refused as exc:
        return say_refused(exc)
    secret = field in SECRET_FIELDS
    if args.print_value:
        sys.stdout.write(value + "\n")
        sys.stdout.flush()
    else:
        try:
            copy_with_clear(value, f"the {FIELD_LABELS[field]} of {account.name}")
        except UsageError:
            if secret:
                note_use("copy", account, [field], "failed: nothing to copy to")
            raise
    if secret:
        note_use("print" if args.print_value else "copy", account, [field])
    warn(warning)
    return 0
