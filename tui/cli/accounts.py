"""`keylink accounts`: list, add and remove saved accounts."""

from __future__ import annotations

import argparse
import sys

from tui.cli import account_import, stores
from tui.cli.common import (
    UsageError,
    accounts_of,
    cli_session,
    quoted,
    require_usable,
    stdin_is_terminal,
    unlock_vault,
)
from tui.cli.gate import Refused, add_gate_options, pass_gate, say_refused, warn
from tui.cli.log import note_use
from tui.services.core.text import clean, plural


def add_parser(sub: argparse._SubParsersAction) -> None:
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
                       help="environment id, e.g. mainnet, testnet, demo (default: the first; "
                       "`keylink environments` lists them)")
    where.add_argument("--base-url", default=None,
                       help="a custom API URL (https; http only to 127.0.0.1/::1/localhost)")
    add.add_argument("--terminal", metavar="NAME", default=None,
                     help="the trading terminal the key is for ('keylink whitelist --list' "
                     "names them); sets the whitelist verify compares with")
    add.add_argument("--whitelist", metavar="PROFILE", default=None,
                     help="whitelist id, 'linked' or 'none' (default: the terminal's, else the "
                     "exchange's usual one)")
    _own_list_options(add)
    add.add_argument("--store", metavar="STORE", default=None,
                     help="where the secret goes instead of KEYLINK_SECRET_BACKEND's choice: "
                     "vault, keyring, pass, or a keyring backend (see `keylink doctor`)")
    add.add_argument("--allow-duplicate", action="store_true",
                     help="store the API key even when another account holds it already")
    _generate_options(add, "make a key pair here: prints the public key to register on the "
                      "exchange, keeps the private key as the secret, then reads the API key the "
                      "exchange assigns (and the passphrase, where there is one)")
    add.set_defaults(handler=_run_accounts_add)

    rotate = actions.add_parser(
        "rotate",
        help="replace an account's key; the new key, secret (and passphrase) come from stdin "
        "or hidden prompts",
        description="Saves the new key under a new entry, switches the account to it, then deletes "
        "the old secret. Input as for `add`.",
    )
    rotate.add_argument("name", help="account name or id")
    _generate_options(rotate, "make a new key pair here: prints its public key to register on "
                      "the exchange, reads the new API key, and switches only once a signed check "
                      "with the new key works (the old key is kept until then)")
    rotate.add_argument("--accept-locked", action="store_true",
                        help="with --generate: also switch when the exchange refuses this "
                        "machine's address (a key bound to the terminal's addresses), which "
                        "cannot prove the new pair matches; on a terminal keylink asks instead")
    rotate.set_defaults(handler=_run_accounts_rotate)

    ips = actions.add_parser(
        "ips", help="keep an account's own server addresses (a per-user list, or your server's)",
        description="For a terminal that shows each user their own list, or a bot on your own "
        "server: the addresses are kept with the account, dated, and verify compares the key "
        "with them. Without --ips or --ips-file, prints the list kept.")
    ips.add_argument("name", help="account name or id")
    _own_list_options(ips)
    ips.set_defaults(handler=_run_accounts_ips)

    export = actions.add_parser(
        "export-key",
        help="write a self-generated private key to a file, encrypted (PKCS#8, mode 0600)",
        description="Only on request, and only encrypted: the passphrase comes from "
        "KEYLINK_KEY_PASSPHRASE or a hidden prompt (asked twice). An existing file is never "
        "overwritten.",
    )
    export.add_argument("name", help="account name or id")
    export.add_argument("file", help="where to write the encrypted PEM")
    add_gate_options(export)
    export.set_defaults(handler=_run_accounts_export_key)

    remove = actions.add_parser("remove", help="delete an account and its stored secret")
    remove.add_argument("name", help="account name or id")
    remove.add_argument("--yes", action="store_true",
                        help="do not ask (required when not run in a terminal)")
    remove.add_argument("--forget", "--force", dest="forget", action="store_true",
                        help="drop only the account even if its secret store cannot confirm the "
                        "secret is deleted (the store is gone for good); says what stays behind")
    remove.set_defaults(handler=_run_accounts_remove)

    moved = actions.add_parser(
        "environment", help="move an account to another environment of its exchange",
        description="Point the account at another environment of its exchange (mainnet, "
        "testnet, demo, a regional site: see `keylink environments`), for a key that belongs "
        "there; `keylink verify` names it. The key and secret stay as they are.")
    moved.add_argument("name", help="account name or id")
    moved.add_argument("environment", help="environment id, e.g. testnet")
    moved.set_defaults(handler=_run_accounts_environment)

    account_import.add_action(actions)
    stores.add_move_action(actions)


def _own_list_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--ips", metavar="LIST", default=None,
                       help="the account's own addresses (commas or spaces): the list the "
                       "terminal shows you, or your server's public address")
    group.add_argument("--ips-file", metavar="PATH", default=None,
                       help="read the account's own addresses from this file")


def _own_list_of(args: argparse.Namespace):  # -> OwnList | None
    """The --ips / --ips-file list, checked; UsageError (one line) for a bad one."""
    from tui.services.terminals import own, whitelist

    try:
        if args.ips is not None:
            return own.own_list_from_text(args.ips, "typed on the command line")
        if args.ips_file is not None:
            return own.own_list_from_file(args.ips_file)
    except whitelist.WhitelistError as exc:
        raise UsageError(clean(str(exc))) from None
    return None


def _run_accounts_ips(args: argparse.Namespace) -> int:
    from tui.services.store.model import AccountError
    from tui.services.terminals.catalogue import OWN_LIST

    own_list = _own_list_of(args)
    store = accounts_of(cli_session())
    try:
        account = store.get(args.name)
        if own_list is None:
            kept = account.own_list
            if kept is None:
                print(f"{clean(account.name)} keeps no list of its own")
            else:
                print(f"{','.join(kept.addresses)}\t({clean(kept.source)}, {kept.taken})")
            return 0
        require_usable(account)
        store.update(account.id, own_list=own_list, whitelist=OWN_LIST)
    except AccountError as exc:
        raise UsageError(clean(str(exc))) from None
    count = len(own_list.addresses)
    print(f"kept {plural(count, 'address', 'addresses')} with {clean(account.name)} "
          f"({own_list.taken}); verify compares its key with them")
    return 0


def _generate_options(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--generate", choices=("ed25519", "rsa"), default=None, help=what)
    parser.add_argument("--rsa-bits", type=int, choices=(2048, 4096), default=2048,
                        help="size of a generated RSA key (default 2048)")


def _run_accounts_list(args: argparse.Namespace) -> int:
    import json
    from dataclasses import asdict

    from tui.services.store.model import AccountError

    store = accounts_of(cli_session())
    try:
        accounts = store.list()
    except AccountError as exc:
        raise UsageError(str(exc)) from None
    if store.legacy_note:
        print(f"keylink: note: {store.legacy_note}", file=sys.stderr)
    if args.json:
        items = [{k: v for k, v in asdict(a).items() if k != "secret_ref"} for a in accounts]
        print(json.dumps(items, indent=2))
        return 0
    if not accounts:
        print("no accounts yet: add one with `keylink accounts add NAME --exchange bybit`")
        return 0
    rows = [("NAME", "EXCHANGE", "ENV", "BASE URL", "LAST CHECK")]
    for a in accounts:
        if a.removing is not None:
            check = f"REMOVAL CUT SHORT ({a.removing}): run `keylink accounts remove` again"
        elif a.last_check:
            check = f"{a.last_check.summary} ({a.last_check.checked_at})"
        else:
            check = "never"
        # Cleaned before measuring, so the columns line up with what is printed.
        rows.append(tuple(clean(cell) for cell in (a.name, a.exchange, a.environment,
                                                   a.base_url, check)))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:4])) + "  " + row[4])
    return 0


#: Longest stdin line taken as a key, secret or passphrase (real ones are under 100 characters).
_MAX_STDIN_LINE = 4096


#: Most lines a PEM private key on stdin may have (an RSA-4096 PKCS#8 PEM has about 54).
_MAX_PEM_LINES = 120


def _read_pem_rest(first: str, interactive: bool) -> str:
    """A secret whose first line is ``-----BEGIN``: the lines up to ``-----END`` as one value."""
    import getpass

    lines = [first]
    while "-----END" not in lines[-1]:
        if len(lines) > _MAX_PEM_LINES:
            raise UsageError("the private key on stdin has no -----END line: copy it whole")
        # A pasted PEM arrives line by line; each hidden read takes the next one.
        raw = getpass.getpass("") if interactive else sys.stdin.readline(_MAX_STDIN_LINE + 2)
        if not raw:
            raise UsageError("stdin ended inside the private key: it has no -----END line")
        lines.append(raw.rstrip("\r\n"))
    return "\n".join(lines)


def _read_credentials(has_passphrase: bool, secret: str | None = None):  # -> Credentials
    """Key, secret (and passphrase): stdin lines when piped, hidden prompts on a terminal.

    ``secret`` given (a generated private key) is not asked for. A secret starting with a
    ``-----BEGIN`` line is a PEM private key and is read up to its ``-----END`` line."""
    import getpass

    from tui.services.keys.credentials import Credentials
    from tui.services.store.model import clean_paste

    labels = ["API key"] + (["API secret"] if secret is None else []) + (
        ["API passphrase"] if has_passphrase else [])
    values: list[str] = []
    interactive = stdin_is_terminal()
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
        if label == "API secret" and raw.strip().startswith("-----BEGIN"):
            raw = _read_pem_rest(raw.strip(), interactive)
        try:
            values.append(clean_paste(label, raw))
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    if secret is not None:
        values.insert(1, secret)
    return Credentials(*values) if has_passphrase else Credentials(values[0], values[1])


def _generate_and_show(info, kind: str, bits: int):  # -> keypairs.ParsedKey
    """Make the pair, print the public key for the exchange's page (and copy it on a terminal)."""
    from tui.services.keys import keypairs

    problem = info.kind_problem(kind, bits if kind == keypairs.RSA else None)
    if problem:
        raise UsageError(problem)
    pair = keypairs.generate(kind, bits)
    print(f"Generated {pair.kind.a_label} key pair. Register this public key on {info.label}'s "
          "API page; the private key stays in keylink's secret store:", file=sys.stderr)
    print(pair.public_pem, flush=True)
    if sys.stdout.isatty():
        _copy_on_terminal(pair.public_pem)
    print(f"Then enter the API key {info.label} shows for it.", file=sys.stderr)
    return pair


def _copy_on_terminal(text: str) -> None:
    """Copy through the usual path: OSC 52 to this terminal, plus a local clipboard if any."""
    import base64

    from tui.services.handoff.clipboard import copy_text

    def osc52(value: str) -> None:
        sys.stdout.write(f"\x1b]52;c;{base64.b64encode(value.encode()).decode()}\x07")
        sys.stdout.flush()

    result = copy_text(text, osc52)
    print(f"(the public key: {result.describe()})", file=sys.stderr)


def _run_accounts_add(args: argparse.Namespace) -> int:
    from tui.services.exchanges import exchange
    from tui.services.store.errors import SecretStoreError
    from tui.services.store.model import CUSTOM_ENV, AccountError, resolve_base_url, validate_name

    # Everything that can be checked without secrets is checked before asking for them.
    try:
        info = exchange(args.exchange)
    except KeyError as exc:
        raise UsageError(exc.args[0]) from None
    environment = CUSTOM_ENV if args.base_url else (args.env or info.default_environment())
    try:
        resolve_base_url(info.id, environment, args.base_url)
        validate_name(args.name)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    terminal_id, whitelist_id = _terminal_choice(args.terminal, args.whitelist, info.id)
    own_list = _own_list_of(args)
    if own_list is not None and args.whitelist is None:  # the list typed is the one to compare
        from tui.services.terminals.catalogue import OWN_LIST

        whitelist_id = OWN_LIST
    session = cli_session(store=args.store)
    store = accounts_of(session)
    try:
        # Before a vault is created or unlocked for it: the accounts' own store may be elsewhere.
        store.check_new_account_store()
        unlock_vault(session, create=True)
        validate_name(args.name, store.list())
        generated = (_generate_and_show(info, args.generate, args.rsa_bits)
                     if args.generate else None)
        creds = _read_credentials(info.has_passphrase,
                                  generated.private_pem if generated else None)
        creds = _check_like_the_form(info, creds, show_key=generated is None)
        others = [] if args.allow_duplicate else store.names_with_key(info.id, creds.api_key)
        if others:
            named = ", ".join(quoted(clean(name)) for name in others)
            raise UsageError(f"this API key is stored already, as {named}; to store it under "
                             f"{quoted(args.name)} too, add --allow-duplicate")
        account = store.add(args.name, info.id, environment, creds, base_url=args.base_url,
                            whitelist=whitelist_id, terminal=terminal_id, own_list=own_list)
    except (ValueError, AccountError, SecretStoreError) as exc:
        raise UsageError(str(exc)) from None
    print(f"added {account.name}: {info.label}, {account.environment} ({account.base_url}); "
          f"secret saved in {store.secrets.backend_name}")
    print(f"check it with: keylink verify {quoted(account.name)}")
    return 0


def _terminal_choice(name: str | None, whitelist: str | None,
                     exchange_id: str) -> tuple[str | None, str | None]:
    """The terminal id and the whitelist for ``accounts add``: a terminal's name or alias (the
    old profile ids among them) resolved, its usual whitelist on this exchange unless one is
    given. UsageError naming the known terminals for an unknown one."""
    from tui.services.terminals import catalogue

    if name is None:
        return None, whitelist
    try:
        item = catalogue.terminal(name)
    except catalogue.CatalogueError as exc:
        raise UsageError(clean(str(exc))) from None
    if whitelist is None:
        whitelist = catalogue.default_whitelist(item, exchange_id)
    elif whitelist not in (catalogue.LINKED, catalogue.NO_LIST, catalogue.OWN_LIST):
        try:
            catalogue.find_list(whitelist)
        except catalogue.CatalogueError as exc:
            raise UsageError(clean(str(exc))) from None
    return item.id, whitelist


def _run_accounts_rotate(args: argparse.Namespace) -> int:
    from tui.services.exchanges import exchange
    from tui.services.handoff.fields import secret_fields
    from tui.services.store.errors import SecretStoreError
    from tui.services.store.model import AccountError

    session = cli_session()
    store = accounts_of(session)
    try:
        account = store.get(args.name)
        store.check_store(account)  # a secret in an unreachable keyring: say so before asking
    except (AccountError, SecretStoreError) as exc:
        raise UsageError(clean(str(exc))) from None
    try:
        info = exchange(account.exchange)
    except KeyError as exc:
        raise UsageError(clean(exc.args[0])) from None
    try:
        require_usable(account)
        unlock_vault(session, accounts=[account])  # a secret in pass needs no vault passphrase
        if args.generate:
            return _rotate_to_generated(store, account, info, args.generate, args.rsa_bits,
                                        accept_locked=args.accept_locked)
        if args.accept_locked:
            raise UsageError("--accept-locked goes with --generate")
        creds = _read_credentials(info.has_passphrase)
        creds = _check_like_the_form(info, creds)
        store.rotate(account.id, creds)
    except (ValueError, AccountError, SecretStoreError) as exc:
        raise UsageError(clean(str(exc))) from None
    note_use("rotate", account, secret_fields(account))
    print(f"rotated {clean(account.name)}: the new key is saved and the old secret deleted")
    print(f"check it with: keylink verify {quoted(account.name)}")
    return 0


def _rotate_to_generated(store, account, info, kind: str, bits: int, *,
                         accept_locked: bool) -> int:
    """Generate, show the public key, read the new API key, check it, and switch only when the
    check works (or is locked and the user accepts that: tui.services.session.rotation). 1 when
    the new key is dropped."""
    import asyncio

    from tui.cli.verify import _report_text
    from tui.services.session.rotation import (
        NewKeyFailed,
        NewKeyUnproven,
        check_new_key,
        switch_if_verified,
    )

    pair = _generate_and_show(info, kind, bits)
    creds = _check_like_the_form(
        info, _read_credentials(info.has_passphrase, pair.private_pem), show_key=False)
    interactive = stdin_is_terminal()
    shown = False
    while True:
        print(f"checking the new key with {info.label} ({clean(account.base_url)}); "
              f"{clean(account.name)} keeps its old key until this works…", file=sys.stderr)
        report = asyncio.run(check_new_key(account, creds))
        try:
            try:
                rotated = switch_if_verified(store, account, creds, report,
                                             accept_locked=accept_locked)
            except NewKeyUnproven as exc:
                print(_report_text(f"{account.name} (new key)", report), file=sys.stderr)
                shown = True
                print(f"keylink: {exc}", file=sys.stderr)
                if not interactive:
                    print("keylink: the new key pair was dropped (it was never saved); to switch "
                          "to a key bound to the terminal's addresses without asking, add "
                          "--accept-locked", file=sys.stderr)
                    return 1
                answer = input("Switch to the new key anyway? Only if the public key shown above "
                               f"is the one registered on {info.label}. [y/N] ")
                if answer.strip().lower() not in ("y", "yes"):
                    print(f"keylink: the new key pair was dropped (it was never saved); "
                          f"{clean(account.name)} keeps its old key", file=sys.stderr)
                    return 1
                rotated = switch_if_verified(store, account, creds, report, accept_locked=True)
        except NewKeyFailed as exc:
            print(_report_text(f"{account.name} (new key)", report), file=sys.stderr)
            print(f"keylink: {exc}", file=sys.stderr)
            if interactive:
                answer = input("Check again (after fixing it on the exchange)? [Y/n] ")
                if answer.strip().lower() in ("", "y", "yes"):
                    continue
            print(f"keylink: the new key pair was dropped (it was never saved): delete the API "
                  f"key made for it on {info.label}, and rotate again", file=sys.stderr)
            return 1
        break
    note_use("rotate", account, ["api_key", "secret"], f"ok: new {pair.kind.label} key")
    if not shown:
        print(_report_text(f"{account.name} (new key)", report), file=sys.stderr)
    print(f"rotated {clean(rotated.account.name)} to the new {pair.kind.label} key "
          f"({report.status}); the old secret is deleted from keylink: delete the old API key on "
          f"{info.label} too")
    return 0


def _check_like_the_form(info, creds, show_key: bool = True):  # -> Credentials
    """The account form's checks: a key pasted twice stops here; an unusual shape only warns
    (a script cannot "save again to accept" the way the form does).

    A PEM secret is read: an encrypted one is opened with its passphrase (asked once, hidden, or
    KEYLINK_KEY_PASSPHRASE when not on a terminal) and kept decrypted in the secret store; the
    recognised kind and public key are printed to compare with the exchange's page."""
    import os
    from dataclasses import replace

    from tui.services.store.validation import SECRET, check_credentials

    check = check_credentials(info, creds.api_key, creds.secret, creds.passphrase)
    if check.needs_key_passphrase:
        if stdin_is_terminal():
            import getpass

            key_pass = getpass.getpass("Private key passphrase (hidden): ")
        else:
            key_pass = os.environ.get("KEYLINK_KEY_PASSPHRASE", "")
            if not key_pass:
                raise UsageError("the private key is encrypted: set KEYLINK_KEY_PASSPHRASE or run "
                                 "this in a terminal to enter its passphrase")
        check = check_credentials(info, creds.api_key, creds.secret, creds.passphrase, key_pass)
    for issue in check.errors.values():
        raise UsageError(issue.message)
    for issue in check.warnings.values():
        print(f"keylink: warning: {issue.message}", file=sys.stderr)
    if check.key is None:
        return creds
    if show_key:
        print(f"Recognised {check.key.kind.a_label} private key. Its public key (compare it with "
              f"the one {info.label} shows):", file=sys.stderr)
        print(check.key.public_pem)
    return replace(creds, secret=check.values[SECRET])


def _export_passphrase() -> str:
    import getpass
    import os

    from tui.services.keys.keypairs import EXPORT_PASSPHRASE_ENV

    passphrase = os.environ.get(EXPORT_PASSPHRASE_ENV, "")
    if passphrase:
        return passphrase
    if not stdin_is_terminal():
        raise UsageError(f"set {EXPORT_PASSPHRASE_ENV} or run this in a terminal to choose the "
                         "export passphrase")
    first = getpass.getpass("Export passphrase (hidden): ")
    if getpass.getpass("Type it again: ") != first:
        raise UsageError("the two passphrases differ: nothing was written")
    return first


def _run_accounts_export_key(args: argparse.Namespace) -> int:
    import os
    from pathlib import Path

    from tui.services.core.text import clean
    from tui.services.keys import keypairs
    from tui.services.session.unlock import SessionError
    from tui.services.store.errors import SecretStoreError
    from tui.services.store.model import AccountError

    session = cli_session()
    try:
        # The name and the account's state first: a typo or a cut-short removal costs no unlock.
        account = accounts_of(session).get(args.name)
        require_usable(account)
        accounts_of(session).check_store(account)  # an unreachable store is said first
        if not os.environ.get(keypairs.EXPORT_PASSPHRASE_ENV) and not stdin_is_terminal():
            _export_passphrase()  # says how to give one, before the gate's words
        try:
            warning = pass_gate(session, account, args)
        except Refused:
            note_use("export-key", account, ["secret"], "refused")
            raise
        secret = session.credentials_for(account).secret
        if not keypairs.is_pem_secret(secret):
            raise UsageError(f"{account.name} has an HMAC secret, not a key pair: there is no "
                             "private key to export")
        keypairs.export_encrypted(secret, Path(args.file), _export_passphrase())
        note_use("export-key", account, ["secret"])
    except Refused as exc:
        return say_refused(exc)
    except (AccountError, SecretStoreError, SessionError, keypairs.KeyPemError) as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(f"cannot write {clean(args.file)}: {exc.strerror}") from None
    print(f"wrote {clean(args.file)}: {account.name}'s private key, encrypted (mode 0600)")
    warn(warning)
    return 0


def _run_accounts_remove(args: argparse.Namespace) -> int:
    from tui.services.store.errors import SecretStoreError
    from tui.services.store.model import AccountError

    interactive = stdin_is_terminal()
    if not args.yes and not interactive:
        raise UsageError("not run in a terminal: add --yes to remove without asking")
    # The account and its store first: a secret in an unreachable keyring is reported as that,
    # not as a vault passphrase prompt.
    session = cli_session()
    store = accounts_of(session)
    try:
        account = store.get(args.name)
        what = "and its stored secret"
        try:
            store.check_store(account)
        except SecretStoreError:
            if not args.forget:
                raise
            # Forget deletes the secret too wherever its store answers: only one it cannot
            # reach keeps the secret, and the question says so.
            what = "from keylink (its secret's store cannot be reached: the secret stays there)"
        # Forgetting an account of a store keylink cannot reach reads no secret: no passphrase.
        # A copy a cut-short move left in the vault is deleted too: leftovers count.
        unlock_vault(session, accounts=[account], count_unreachable=False, leftovers=True)
        if not args.yes:
            answer = input(f"Remove {clean(account.name)} ({clean(account.exchange)}, "
                           f"{clean(account.environment)}) {what}? [y/N] ")
            if answer.strip().lower() not in ("y", "yes"):
                print("kept")
                return 1
        removed = session.remove_account(account, force=args.forget)
    except (AccountError, SecretStoreError) as exc:
        raise UsageError(clean(str(exc))) from None  # nothing removed: nothing to record
    left = removed.left
    note_use("remove", account, ["secret"], "forgot" if left else "ok")
    if left:
        print(f"forgot {clean(account.name)}; {clean(left)}")
    else:
        print(f"removed {clean(account.name)} and its secret")
    if removed.history_left:
        print(f"keylink: warning: {clean(removed.history_left)}", file=sys.stderr)
    return 0


def _run_accounts_environment(args: argparse.Namespace) -> int:
    """`keylink accounts environment NAME ENV`: the CLI's form of the app's one-key fix."""
    from tui.services.store.errors import SecretStoreError
    from tui.services.store.model import AccountError

    session = cli_session()
    store = accounts_of(session)
    try:
        account = store.get(args.name)
        updated = session.switch_environment(account, args.environment)
    except (AccountError, SecretStoreError) as exc:  # SecretStoreError: a cut-short removal
        raise UsageError(clean(str(exc))) from None
    print(f"{clean(updated.name)}: {clean(updated.exchange)} {clean(updated.environment)} "
          f"({clean(updated.base_url)}); check it with: keylink verify {quoted(updated.name)}")
    return 0
