"""`keylink exec`: run a command with an account's credentials in its environment only."""

from __future__ import annotations

import argparse
import os

from tui.cli.common import UsageError, accounts_of, cli_session, require_usable


def add_parser(sub: argparse._SubParsersAction) -> None:
    from tui.services.handoff.fields import DEFAULT_ENV, PRESETS, public_names

    p = sub.add_parser(
        "exec",
        help="run a command with an account's key in its environment (e.g. a bot)",
        description="Runs CMD with the credentials in its environment only: nothing is written "
        f"to disk or put on a command line. By default: {', '.join(DEFAULT_ENV)} (the "
        "passphrase only where the exchange has one). CMD's exit code and signals pass through; "
        "keylink's own messages go to stderr.",
        usage="keylink exec NAME [--preset PRESET] [--env VAR=FIELD ...] -- CMD [ARGS...]",
    )
    p.add_argument("name", help="account name or id")
    p.add_argument("--preset", choices=tuple(PRESETS), default=None,
                   help="the variables a tool reads instead of the default set "
                   "(freqtrade: FREQTRADE__EXCHANGE__KEY, __SECRET, __PASSWORD, __NAME)")
    p.add_argument("--env", action="append", default=[], metavar="VAR=FIELD",
                   help=f"also set VAR to a field ({', '.join(public_names())}); repeatable")
    p.add_argument("command", nargs=argparse.REMAINDER, metavar="-- CMD [ARGS...]")
    p.set_defaults(handler=_run_exec, exec_parser=p)


def _run_exec(args: argparse.Namespace) -> int:
    from tui.services.handoff.fields import (
        HandoffError,
        child_environment,
        exec_with_env,
        find_command,
        plan_environment,
    )
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
        plan = plan_environment(account, args.preset, args.env)
        creds = session.credentials_for(account) if plan.needs_secrets() else None
        env = child_environment(plan, account, creds, os.environ)
        del creds
        exec_with_env(command, env)
    except (AccountError, SecretStoreError, SessionError, HandoffError) as exc:
        raise UsageError(str(exc)) from None
    return 0  # not reached: exec_with_env replaces this process
