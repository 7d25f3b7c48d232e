"""keylink's command line: no sub-command starts the TUI; sub-commands serve scripts."""

from __future__ import annotations

import argparse
import os
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
    _add_verify(sub)
    _add_accounts(sub)
    _add_doctor(sub)
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


def _add_verify(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "verify",
        help="check a saved account's key against its exchange and audit its settings",
        description="Exit 0 when the key works (findings allowed), 1 when verification failed, "
        "2 for usage or config errors (unknown account, locked vault).",
    )
    p.add_argument("name", nargs="?", help="account name or id")
    p.add_argument("--all", action="store_true", help="verify every saved account")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--whitelist", metavar="PROFILE", default=None,
                   help="compare the key's IPs with this whitelist profile "
                   "(default: the account's own)")
    p.set_defaults(handler=_run_verify)


_SEVERITY_MARK = {"ok": "[ok]    ", "info": "[info]  ", "warning": "[warn]  ", "danger": "[DANGER]"}


def _report_text(name: str, report) -> str:  # report: KeyReport
    from tui.services.exchanges import exchange

    label = exchange(report.exchange).label
    timing = f"{report.latency_ms} ms" if report.latency_ms is not None else "no answer"
    clock = (f", clock {report.clock_offset_ms / 1000:+.1f} s"
             if report.clock_offset_ms is not None else "")
    lines = [f"{name}: {label} ({report.environment}) at {report.host}, {timing}{clock}"]
    if report.ok:
        perms = ", ".join(p for p in ("read", "trade", "transfer", "withdraw")
                          if p in report.permissions)
        ips = (f"{len(report.ips)} bound" if report.ips else "bound") \
            if report.ip_restricted else "not bound"
        kind = f", {report.key_type} key" if report.key_type else ""
        lines.append(f"  key works: permissions {perms or 'none'}; IPs {ips}{kind}")
    else:
        assert report.error is not None
        lines.append(f"  verification failed ({report.error.code})")
    for finding in report.findings:
        lines.append(f"  {_SEVERITY_MARK[finding.severity]} {finding.code}: {finding.message}")
    return "\n".join(lines)


def _require_known_exchange(account) -> None:  # account: Account
    """An account of an exchange this keylink lacks (a newer keylink's, or a hand edit) is a
    configuration error, not a traceback."""
    from tui.services.exchanges import exchange

    try:
        exchange(account.exchange)
    except KeyError as exc:
        raise UsageError(f"account {account.name!r}: {exc.args[0]}; update keylink or remove "
                         "the account") from None


def _run_verify(args: argparse.Namespace) -> int:
    import asyncio
    import json
    from datetime import UTC, datetime

    from tui.services import whitelist as whitelists
    from tui.services.accounts import AccountError, LastCheck
    from tui.services.secrets import SecretStoreError
    from tui.services.verify import verify_account

    if bool(args.name) == bool(args.all):
        raise UsageError("give an account name, or --all")
    addresses = None
    if args.whitelist:
        try:
            addresses = whitelists.profile(args.whitelist).addresses
        except KeyError as exc:
            raise UsageError(exc.args[0] if exc.args else str(exc)) from None
    store = _account_store(_open_secrets(unlock=True))
    try:
        accounts = store.list() if args.all else [store.get(args.name)]
        for account in accounts:  # before any secret is read or request sent
            _require_known_exchange(account)
        pairs = [(account, store.credentials(account)) for account in accounts]
    except (AccountError, SecretStoreError) as exc:
        raise UsageError(str(exc)) from None
    if not pairs:
        raise UsageError("there are no saved accounts yet")

    async def run_all():  # -> list[KeyReport]
        return await asyncio.gather(*(verify_account(a, c, addresses) for a, c in pairs))

    reports = asyncio.run(run_all())
    for (account, _creds), report in zip(pairs, reports, strict=True):
        check = LastCheck(ok=report.ok,
                          checked_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                          summary=report.summary(), worst=report.worst)
        try:
            store.record_check(account.id, check)
        except AccountError as exc:
            print(f"keylink: could not record the check for {account.name}: {exc}",
                  file=sys.stderr)
    if args.json:
        items = [{"account": a.name, **r.to_json()} for (a, _c), r in zip(pairs, reports,
                                                                          strict=True)]
        print(json.dumps(items if args.all else items[0], indent=2))
    else:
        print("\n\n".join(_report_text(a.name, r) for (a, _c), r in zip(pairs, reports,
                                                                         strict=True)))
    return 0 if all(r.ok for r in reports) else 1


# -- accounts and doctor ---------------------------------------------------------------------------


def _add_accounts(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "accounts",
        help="list, add or remove saved exchange accounts",
        description="Secrets are never taken from the command line: `add` reads the API key, "
        "secret and passphrase from stdin (one per line) or prompts with hidden input.",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="show the saved accounts (no secrets)")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(handler=_run_accounts_list)

    add = actions.add_parser(
        "add",
        help="save an account; key, secret (and passphrase) come from stdin or hidden prompts",
        description="Reads the API key, the API secret and, for exchanges that have one, the API "
        "passphrase: one per line from stdin when it is not a terminal, otherwise from hidden "
        "prompts. When keylink uses its own vault, its passphrase comes from "
        "KEYLINK_VAULT_PASSPHRASE or a prompt.",
    )
    add.add_argument("name", help="display name (1-40 characters, unique)")
    add.add_argument("--exchange", required=True, help="bybit, okx, bitget or binance")
    where = add.add_mutually_exclusive_group()
    where.add_argument("--env", default=None,
                       help="environment id, e.g. mainnet, testnet, demo (default: the first)")
    where.add_argument("--base-url", default=None,
                       help="a custom API URL (https; http only to 127.0.0.1/::1/localhost)")
    add.add_argument("--whitelist", metavar="PROFILE", default=None,
                     help="whitelist profile id (default: the exchange's usual one)")
    add.set_defaults(handler=_run_accounts_add)

    remove = actions.add_parser("remove", help="delete an account and its stored secret")
    remove.add_argument("name", help="account name or id")
    remove.add_argument("--yes", action="store_true",
                        help="do not ask (required when not run in a terminal)")
    remove.add_argument("--force", action="store_true",
                        help="drop the account even if its secret cannot be deleted "
                        "(the secret store is gone for good)")
    remove.set_defaults(handler=_run_accounts_remove)


def _add_doctor(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "doctor",
        help="show where keylink keeps things and what works in this terminal",
        description="Which secret store is in use and why (override with "
        "KEYLINK_SECRET_BACKEND=vault|keyring or keyring's PYTHON_KEYRING_BACKEND), the config "
        "and vault paths, clipboard ways, SSH and terminal details.",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=_run_doctor)


def _stdin_is_terminal() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (AttributeError, ValueError):  # closed or replaced stdin
        return False


def _open_secrets(*, unlock: bool, create: bool = False):  # -> SecretStore
    """The SecretStore; with ``unlock``, a vault is unlocked (or, with ``create``, created).

    The vault passphrase comes from KEYLINK_VAULT_PASSPHRASE, else a hidden prompt when stdin is a
    terminal (never from a piped stdin: that carries the credentials), else a UsageError saying how.
    """
    import getpass
    import os

    from tui.services.secrets import (
        MIN_PASSPHRASE,
        PASSPHRASE_ENV,
        SecretStore,
        SecretStoreError,
        WrongPassphrase,
        passphrase_strength,
    )

    secrets = SecretStore.open()
    if not unlock or not secrets.uses_vault:
        return secrets
    given = os.environ.get(PASSPHRASE_ENV)
    interactive = _stdin_is_terminal()
    try:
        if secrets.needs_new_vault:
            if not create:
                raise UsageError("there is no vault yet: add an account first")
            if given is None and not interactive:
                raise UsageError(f"a new vault passphrase is needed: set {PASSPHRASE_ENV} "
                                 f"(at least {MIN_PASSPHRASE} characters) or run in a terminal")
            if given is not None:
                passphrase = given
            else:
                print(f"keylink keeps secrets in its own encrypted vault here ({secrets.reason}).",
                      file=sys.stderr)
                passphrase = getpass.getpass("New vault passphrase: ")
                score, hint = passphrase_strength(passphrase)
                print(f"strength {score}/4: {hint}", file=sys.stderr)
                if getpass.getpass("Repeat the passphrase: ") != passphrase:
                    raise UsageError("the two passphrases differ; nothing was saved")
            try:
                secrets.create_vault(passphrase)
            except ValueError as exc:
                raise UsageError(str(exc)) from None
        elif secrets.needs_unlock:
            if given is not None:
                secrets.unlock(given)
            elif interactive:
                for attempt in range(3):
                    try:
                        secrets.unlock(getpass.getpass("keylink vault passphrase: "))
                        break
                    except WrongPassphrase as exc:
                        if attempt == 2:
                            raise
                        print(f"keylink: {exc}", file=sys.stderr)
            else:
                raise UsageError(f"the vault is locked: set {PASSPHRASE_ENV} to its "
                                 "passphrase, or run this in a terminal to be asked")
    except SecretStoreError as exc:
        raise UsageError(str(exc)) from None
    return secrets


def _account_store(secrets):  # -> AccountStore
    from tui.services.accounts import AccountStore

    store = AccountStore(secrets)
    if store.load_problem:
        print(f"keylink: warning: {store.load_problem}", file=sys.stderr)
    return store


def _run_accounts_list(args: argparse.Namespace) -> int:
    import json
    from dataclasses import asdict

    from tui.services.accounts import AccountError

    try:
        accounts = _account_store(_open_secrets(unlock=False)).list()
    except AccountError as exc:
        raise UsageError(str(exc)) from None
    if args.json:
        items = [{k: v for k, v in asdict(a).items() if k != "secret_ref"} for a in accounts]
        print(json.dumps(items, indent=2))
        return 0
    if not accounts:
        print("no accounts yet: add one with `keylink accounts add NAME --exchange bybit`")
        return 0
    rows = [("NAME", "EXCHANGE", "ENV", "BASE URL", "LAST CHECK")]
    for a in accounts:
        check = f"{a.last_check.summary} ({a.last_check.checked_at})" if a.last_check else "never"
        rows.append((a.name, a.exchange, a.environment, a.base_url, check))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:4])) + "  " + row[4])
    return 0


#: Longest stdin line taken as a key, secret or passphrase (real ones are under 100 characters).
_MAX_STDIN_LINE = 4096


def _read_credentials(has_passphrase: bool):  # -> Credentials
    """Key, secret (and passphrase): stdin lines when piped, hidden prompts on a terminal."""
    import getpass

    from tui.services.accounts import Credentials, clean_paste

    labels = ["API key", "API secret"] + (["API passphrase"] if has_passphrase else [])
    values: list[str] = []
    interactive = _stdin_is_terminal()
    for label in labels:
        if interactive:
            raw = getpass.getpass(f"{label} (hidden): ")
        else:
            if sys.stdin is None:  # started with stdin closed (`<&-`)
                raise UsageError("stdin is closed: pipe the key and secret in, one per line, "
                                 "or run this in a terminal")
            # Bounded: `< /dev/zero` is one endless line that would fill memory.
            raw = sys.stdin.readline(_MAX_STDIN_LINE + 2)  # room for a "\r\n"
            if len(raw.rstrip("\r\n")) > _MAX_STDIN_LINE:
                raise UsageError(f"the {label} line on stdin is too long (over "
                                 f"{_MAX_STDIN_LINE} characters): is the right input piped in?")
            if not raw:
                expected = ", ".join(labels)
                raise UsageError(f"stdin ended before the {label} (expected one per line: "
                                 f"{expected})")
        try:
            values.append(clean_paste(label, raw))
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    return Credentials(*values) if has_passphrase else Credentials(values[0], values[1])


def _run_accounts_add(args: argparse.Namespace) -> int:
    from tui.services.accounts import (
        CUSTOM_ENV,
        AccountError,
        resolve_base_url,
        validate_name,
    )
    from tui.services.exchanges import exchange
    from tui.services.secrets import SecretStoreError

    # Everything that can be checked without secrets is checked before asking for them.
    try:
        info = exchange(args.exchange)
    except KeyError as exc:
        raise UsageError(exc.args[0]) from None
    environment = CUSTOM_ENV if args.base_url else (args.env or info.environments[0].id)
    try:
        resolve_base_url(info.id, environment, args.base_url)
        validate_name(args.name)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    store = _account_store(_open_secrets(unlock=True, create=True))
    try:
        validate_name(args.name, store.list())
        creds = _read_credentials(info.has_passphrase)
        _check_like_the_form(info, creds)
        account = store.add(args.name, info.id, environment, creds, base_url=args.base_url,
                            whitelist=args.whitelist)
    except (ValueError, AccountError, SecretStoreError) as exc:
        raise UsageError(str(exc)) from None
    print(f"added {account.name}: {info.label}, {account.environment} ({account.base_url}); "
          f"secret saved in {store.secrets.backend_name}")
    print(f"check it with: keylink verify {_quoted(account.name)}")
    return 0


def _check_like_the_form(info, creds) -> None:  # info: ExchangeInfo, creds: Credentials
    """The account form's checks: a key pasted twice stops here; an unusual shape only warns
    (a script cannot "save again to accept" the way the form does)."""
    from tui.services.validation import check_credentials

    check = check_credentials(info, creds.api_key, creds.secret, creds.passphrase)
    for issue in check.errors.values():
        raise UsageError(issue.message)
    for issue in check.warnings.values():
        print(f"keylink: warning: {issue.message}", file=sys.stderr)


def _quoted(text: str) -> str:
    import shlex

    return shlex.quote(text)


def _run_accounts_remove(args: argparse.Namespace) -> int:
    from tui.services.accounts import AccountError
    from tui.services.secrets import SecretStoreError

    interactive = _stdin_is_terminal()
    if not args.yes and not interactive:
        raise UsageError("not run in a terminal: add --yes to remove without asking")
    store = _account_store(_open_secrets(unlock=True))
    try:
        account = store.get(args.name)
        if not args.yes:
            answer = input(f"Remove {account.name} ({account.exchange}, {account.environment}) "
                           "and its stored secret? [y/N] ")
            if answer.strip().lower() not in ("y", "yes"):
                print("kept")
                return 1
        store.remove(account.id, force=args.force)
    except (AccountError, SecretStoreError) as exc:
        raise UsageError(str(exc)) from None
    print(f"removed {account.name}")
    return 0


def _doctor_facts() -> dict[str, object]:
    import os
    import platform

    from tui.services import clipboard, paths
    from tui.services.accounts import ACCOUNTS_FILE, AccountError, AccountStore
    from tui.services.secrets import BACKEND_ENV, PASSPHRASE_ENV, SecretStore, SecretStoreError

    secrets = SecretStore.open()
    vault_path = secrets.vault.path if secrets.vault else paths.data_dir() / "vault.json"
    if secrets.vault is None:
        vault_state = "not used"
    elif secrets.needs_new_vault:
        vault_state = "not created yet (the first saved account creates it)"
    elif PASSPHRASE_ENV in os.environ:
        try:
            secrets.unlock(os.environ[PASSPHRASE_ENV])
            vault_state = f"exists; {PASSPHRASE_ENV} opens it"
        except SecretStoreError as exc:
            vault_state = f"exists; {PASSPHRASE_ENV} does not open it ({exc})"
    else:
        vault_state = "exists, locked (asks for its passphrase)"
    accounts: object
    problem = None
    try:
        store = AccountStore(secrets)
        accounts = len(store.list())
        problem = store.load_problem
    except AccountError as exc:
        accounts, problem = None, str(exc)
    env = os.environ
    local = clipboard.has_local_clipboard()
    ssh = bool(env.get("SSH_CONNECTION") or env.get("SSH_TTY") or env.get("SSH_CLIENT"))
    return {
        "version": __version__,
        "python": platform.python_version(),
        "platform": sys.platform,
        "secret_store": secrets.backend_name,
        "secret_store_reason": secrets.reason,
        "secret_store_override": {k: env.get(k) for k in (BACKEND_ENV, "PYTHON_KEYRING_BACKEND")},
        "vault_passphrase_from_env": PASSPHRASE_ENV in env,
        "vault_path": str(vault_path),
        "vault_state": vault_state,
        "config_dir": str(paths.config_dir()),
        "accounts_file": str(paths.config_dir() / ACCOUNTS_FILE),
        "accounts": accounts,
        "accounts_problem": problem,
        "clipboard": ["OSC 52"] + (["local clipboard (pyperclip)"] if local else []),
        "ssh": ssh,
        "term": env.get("TERM"),
        "term_program": env.get("TERM_PROGRAM"),
        "tmux": bool(env.get("TMUX")),
    }


def _run_doctor(args: argparse.Namespace) -> int:
    import json

    facts = _doctor_facts()
    if args.json:
        print(json.dumps(facts, indent=2))
        return 0
    override = ", ".join(f"{k}={v}" for k, v in facts["secret_store_override"].items() if v)
    local = len(facts["clipboard"]) > 1
    passphrase_source = ("from KEYLINK_VAULT_PASSPHRASE" if facts["vault_passphrase_from_env"]
                         else "asked for when needed")
    ssh = ("yes: secrets stay on this machine; copies travel to your terminal by OSC 52"
           if facts["ssh"] else "no")
    lines = [
        f"keylink {facts['version']} (Python {facts['python']}, {facts['platform']})",
        "",
        f"secret store   {facts['secret_store']}",
        f"  why          {facts['secret_store_reason']}",
        f"  override     {override or 'none'} (KEYLINK_SECRET_BACKEND=vault|keyring, or "
        "keyring's PYTHON_KEYRING_BACKEND)",
        f"  vault        {facts['vault_path']}: {facts['vault_state']}",
        f"  passphrase   {passphrase_source}",
        f"accounts       {facts['accounts_file']} ({facts['accounts']} saved)",
    ]
    if facts["accounts_problem"]:
        lines.append(f"  problem      {facts['accounts_problem']}")
    lines += [
        f"clipboard      OSC 52 (always sent; the terminal must allow it)"
        f"{'; local clipboard via pyperclip' if local else ''}",
        "  local        " + ("available" if local else
                             "none here (no DISPLAY or WAYLAND_DISPLAY): copy relies on OSC 52"),
        f"ssh            {ssh}",
        f"terminal       TERM={facts['term'] or '-'} TERM_PROGRAM={facts['term_program'] or '-'}"
        f" tmux={'yes' if facts['tmux'] else 'no'}",
    ]
    if facts["tmux"]:
        lines.append("  tmux         OSC 52 through tmux needs `set -g set-clipboard on`")
    print("\n".join(lines))
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
    except EOFError:  # ctrl-D at a prompt: input() and getpass raise it
        print("keylink: input ended before an answer was given; stopped", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (`keylink accounts list | head`): stop quietly, as Unix tools do.
        # Point stdout at devnull so the interpreter's final flush does not raise again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
