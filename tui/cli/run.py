"""`keylink exec`: run a command with an account's credentials in its environment only."""

from __future__ import annotations

import argparse
import os
import sys

from tui.cli.common import UsageError, accounts_of, cli_session, require_usable
from tui.cli.gate import Refused, add_gate_options, pass_gate, say_refused, warn
from tui.cli.log import note_use


def add_parser(sub: argparse._SubParsersAction) -> None:
    from tui.services.handoff.fields import DEFAULT_ENV, PRESETS, public_names

    p = sub.add_parser(
        "exec",
        help="run a command with an account's key in its environment (e.g. a bot)",
        description="Runs CMD with the credentials in its environment only: nothing is written "
        f"to disk or put on a command line. By default: {', '.join(DEFAULT_ENV)} (the "
        "passphrase only where the exchange has one). CMD's output passes through a masker that "
        "replaces the secret, passphrase and API key with <concealed by keylink> (--no-masking: "
        "keylink becomes CMD). CMD's exit code and signals pass through; keylink's own messages "
        "go to stderr.",
        usage="keylink exec NAME [--preset PRESET] [--env VAR=FIELD ...] [--check] [--allow-risky] "
        "[--no-masking] -- CMD [ARGS...]",
    )
    p.add_argument("name", help="account name or id")
    p.add_argument("--preset", choices=tuple(PRESETS), default=None,
                   help="the variables a tool reads instead of the default set "
                   "(freqtrade: FREQTRADE__EXCHANGE__KEY, __SECRET, __PASSWORD, __NAME)")
    p.add_argument("--env", action="append", default=[], metavar="VAR=FIELD",
                   help=f"also set VAR to a field ({', '.join(public_names())}); repeatable")
    add_gate_options(p)
    p.add_argument("--no-masking", action="store_true",
                   help="let CMD's output through unmasked: keylink becomes CMD (exec), as before")
    p.add_argument("command", nargs=argparse.REMAINDER, metavar="-- CMD [ARGS...]")
    p.set_defaults(handler=_run_exec, exec_parser=p)


def _run_exec(args: argparse.Namespace) -> int:
    from tui.cli import _is_keylink_process
    from tui.services.core.text import clean
    from tui.services.handoff.fields import (
        SECRET_FIELDS,
        HandoffError,
        child_environment,
        exec_with_env,
        find_command,
        plan_environment,
    )
    from tui.services.handoff.masked_exec import mask_values, run_masked
    from tui.services.session.unlock import SessionError
    from tui.services.store.errors import SecretStoreError
    from tui.services.store.model import AccountError

    # argparse gives everything after NAME to the command, so options written between NAME and
    # "--" (the usual order) are parsed here, with the same parser, options first.
    command = list(args.command)
    if "--" in command:
        cut = command.index("--")
        head, command = command[:cut], command[cut + 1:]
        if head:
            more = args.exec_parser.parse_args([*head, args.name])
            args.preset = more.preset or args.preset
            args.env = [*args.env, *more.env]
            args.check = args.check or more.check
            args.allow_risky = args.allow_risky or more.allow_risky
            args.no_masking = args.no_masking or more.no_masking
    elif command and command[0].startswith("-"):
        raise UsageError("put -- between keylink's options and the command: "
                         "keylink exec NAME [--preset P] [--env VAR=FIELD] -- CMD [ARGS...]")
    if not command:
        raise UsageError("no command to run: keylink exec NAME -- CMD [ARGS...]")
    try:
        # The command is looked for before the vault is opened: a typo costs no passphrase.
        find_command(command[0], os.environ)
        session = cli_session()
        account = accounts_of(session).get(args.name)
        require_usable(account)
        plan = plan_environment(account, args.preset, args.env)  # a bad --env before a check
        used = sorted({f for f in plan.variables.values() if f in SECRET_FIELDS})
        try:
            warning = pass_gate(session, account, args)
        except Refused:
            note_use("exec", account, used, "refused")
            raise
        creds = session.credentials_for(account) if plan.needs_secrets() else None
        if used:
            note_use("exec", account, used, f"ok: {clean(command[0], limit=60)}")
        env = child_environment(plan, account, creds, os.environ)
        values = mask_values(creds, env) if creds is not None else []
        del creds
        warn(warning)  # before CMD's own output
        if values and not args.no_masking and not hasattr(os, "openpty"):
            print("keylink: warning: masking CMD's output needs a POSIX system (Linux, macOS); "
                  "it runs unmasked here", file=sys.stderr)
            values = []
        if args.no_masking or not values:
            exec_with_env(command, env)  # replaces this process: nothing in between
        program = find_command(command[0], env)
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            ended = run_masked(command, program, env, values,
                               stdout=_fd(sys.stdout, 1), stderr=_fd(sys.stderr, 2))
        except OSError as exc:
            raise HandoffError(f"cannot run '{clean(command[0])}': {exc.strerror}") from None
        finally:
            del env, values
    except Refused as exc:
        return say_refused(exc)
    except (AccountError, SecretStoreError, SessionError, HandoffError) as exc:
        raise UsageError(str(exc)) from None
    if ended.signal is not None and _is_keylink_process():
        _die_like(ended.signal)
    return ended.shell_code


def _fd(stream: object, default: int) -> int:
    """The file descriptor under a text stream (a test's stand-in has none: the process's)."""
    try:
        return stream.fileno()  # type: ignore[attr-defined]
    except (AttributeError, ValueError, OSError):  # io.UnsupportedOperation is both
        return default


def _die_like(signum: int) -> None:
    """End keylink by the signal that ended CMD, so the caller sees what it would have seen
    without keylink (a shell shows 128+N; a supervisor sees the signal itself)."""
    import signal

    sys.stdout.flush()
    sys.stderr.flush()
    import contextlib

    with contextlib.suppress(OSError, ValueError):  # SIGKILL's action cannot be set: no need
        signal.signal(signum, signal.SIG_DFL)
    with contextlib.suppress(OSError, ValueError):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signum})
        os.kill(os.getpid(), signum)
    # Still here: a signal whose default is not to end a process; the caller returns 128+N.
