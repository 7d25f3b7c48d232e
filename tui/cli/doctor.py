"""`keylink doctor`: where keylink keeps things and what works in this terminal."""

from __future__ import annotations

import argparse
import shlex
import sys

from tui import __version__
from tui.services.core.text import plural


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "doctor",
        help="show where keylink keeps things and what works in this terminal",
        description="Which secret store is in use and why (override with "
        "KEYLINK_SECRET_BACKEND=vault|keyring|pass|files|<keyring backend> or keyring's "
        "PYTHON_KEYRING_BACKEND), every store usable here and why any is not, the config "
        "and vault paths, clipboard ways, SSH and terminal details.",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--repair", action="store_true",
                   help="finish cut-short removals, delete orphaned secrets and leftover temp "
                   "files (asks first)")
    p.add_argument("--yes", action="store_true",
                   help="with --repair: do not ask (required when not run in a terminal)")
    p.add_argument("--restore", metavar="FILE",
                   help="put the accounts of a moved-aside accounts file (accounts.json.damaged-…, "
                   "listed by doctor) back into accounts.json")
    p.set_defaults(handler=_run_doctor)


def _safety_warnings() -> list[str]:
    """Unsafe owners and modes of keylink's dirs and files (nothing is changed)."""
    from tui.services.core import paths
    from tui.services.core.private_files import safety_problems
    from tui.services.store.accounts import ACCOUNTS_FILE
    from tui.services.store.vault import VAULT_FILE

    warnings: list[str] = []
    for directory, file in ((paths.config_dir(), ACCOUNTS_FILE), (paths.data_dir(), VAULT_FILE)):
        # The parent (e.g. ~/.config) may be readable by others, but nobody else may change it.
        warnings += safety_problems(directory.parent, private=False)
        warnings += safety_problems(directory)
        warnings += safety_problems(directory / file)
    return list(dict.fromkeys(warnings))


def _health(store, *, repair: bool, yes: bool) -> dict[str, object]:  # store: AccountStore
    """Loose ends (and, with ``repair``, their removal after a confirmation)."""
    from tui.cli.common import UsageError, stdin_is_terminal
    from tui.services.store import doctor
    from tui.services.store.errors import SecretStoreError
    from tui.services.store.model import AccountError

    try:
        health = doctor.audit(store)
    except (AccountError, SecretStoreError) as exc:
        return {"accounts_without_secret": None, "orphaned_secrets": None, "temp_files": None,
                "unfinished_removals": None, "unchecked": [str(exc)], "repaired": None,
                "moved_aside": _aside_facts(store)}
    result: dict[str, object] = {
        "accounts_without_secret": health.accounts_without_secret,
        "orphaned_secrets": (len(health.orphaned_secrets)
                             if health.orphaned_secrets is not None else None),
        "temp_files": len(health.temp_files),
        "unfinished_removals": health.unfinished_removals,
        "unchecked": health.unchecked,
        "repaired": None,
        "moved_aside": [_aside_fact(f) for f in health.moved_aside],
        "cut_short_moves": health.cut_short_moves,
        "orphaned_histories": (len(health.orphaned_histories)
                               if health.orphaned_histories is not None else None),
    }
    removals = len(health.unfinished_removals)
    histories = len(health.orphaned_histories or [])
    loose = (len(health.orphaned_secrets or []) + len(health.temp_files) + removals
             + len(health.cut_short_moves) + histories)
    if not repair or not loose:
        return result
    if not yes:
        if not stdin_is_terminal():
            raise UsageError("not run in a terminal: add --yes to repair without asking")
        moves = len(health.cut_short_moves)
        cut = [plural(n, word) for n, word in ((removals, "cut-short removal"),
                                               (moves, "cut-short move")) if n]
        finish = f"Finish {' and '.join(cut)}, delete " if cut else "Delete "
        gone = (f", the check history of {plural(histories, 'removed account')}" if histories
                else "")
        answer = input(f"{finish}{plural(len(health.orphaned_secrets or []), 'orphaned secret')}"
                       f"{gone} and {plural(len(health.temp_files), 'temp file')}? [y/N] ",)
        if answer.strip().lower() not in ("y", "yes"):
            return result
    try:
        done = doctor.repair(store)
    except (AccountError, SecretStoreError) as exc:
        raise UsageError(f"repair stopped: {exc}") from None
    result["repaired"] = {"orphaned_secrets": done.orphaned_secrets, "temp_files": done.temp_files,
                          "removals_finished": done.removals_finished,
                          "removals_left": done.removals_left,
                          "secrets_kept": done.secrets_kept,
                          "moves_finished": done.moves_finished, "moves_left": done.moves_left,
                          "histories_deleted": done.histories_deleted}
    return result


def _aside_fact(aside) -> dict[str, object]:  # aside: store.doctor.AsideFile
    return {"path": str(aside.path), "accounts": aside.names, "problem": aside.problem}


def _aside_facts(store) -> list[dict[str, object]]:  # store: AccountStore
    from tui.services.store import doctor

    try:
        return [_aside_fact(f) for f in doctor.moved_aside(store)]
    except Exception:  # only advice: the error already reported says what is wrong
        return []


def _stores(vault_path: str) -> list[dict[str, object]]:
    """Every store keylink could use here and why it can or cannot (issue 21)."""
    from tui.services.store.choice import store_options

    return [{"name": o.name, "usable": o.usable, "detail": o.detail}
            for o in store_options(vault_path)]


def _doctor_facts(*, repair: bool = False, yes: bool = False) -> dict[str, object]:
    import os
    import platform

    from tui.cli.common import UsageError, open_session, unlock_vault
    from tui.services.core import paths
    from tui.services.handoff import clipboard
    from tui.services.session.unlock import SessionError
    from tui.services.store.accounts import ACCOUNTS_FILE
    from tui.services.store.backends import BACKEND_ENV, PASSPHRASE_ENV
    from tui.services.store.model import AccountError
    from tui.services.store.vault import default_path as default_vault_path

    # Opened even when accounts.json cannot be used: that is one of the things doctor reports.
    session = open_session()
    secrets = session.secrets
    if secrets is None:  # open_session raises first; this keeps a type checker sure of it
        raise UsageError(session.reason)
    vault_path = secrets.vault.path if secrets.vault else default_vault_path()
    if secrets.vault is None:
        vault_state = "not used"
    elif secrets.needs_new_vault:
        vault_state = "not created yet (the first saved account creates it)"
    elif PASSPHRASE_ENV in os.environ:
        # The policy takes the variable first, and a wrong one ends the attempt: its refusal
        # is the store's own words.
        try:
            session.ensure_unlocked()
            vault_state = f"exists; {PASSPHRASE_ENV} opens it"
        except SessionError as exc:
            vault_state = f"exists; {PASSPHRASE_ENV} does not open it ({exc})"
    elif repair:
        unlock_vault(session)  # asks in a terminal: repairing needs to see the vault's entries
        vault_state = "exists; unlocked"
    else:
        vault_state = "exists, locked (asks for its passphrase)"
    accounts: object
    problem = None
    health: dict[str, object] = {}
    try:
        store = session.accounts
        if store is None:  # accounts.json could not be used: the session says why
            raise AccountError(session.reason)
        accounts = len(store.list())
        problem = store.load_problem
        if store.legacy_note:
            problem = f"{problem}; {store.legacy_note}" if problem else store.legacy_note
        health = _health(store, repair=repair, yes=yes)
    except AccountError as exc:
        accounts, problem = None, str(exc)
        health = {"accounts_without_secret": None, "orphaned_secrets": None, "temp_files": None,
                  "unfinished_removals": None, "unchecked": [str(exc)], "repaired": None,
                  "moved_aside": []}
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
        "stores": _stores(str(vault_path)),
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
        # tmux's set-clipboard ("on", "external", "off"); None outside tmux or when tmux cannot
        # be asked.
        "tmux_set_clipboard": clipboard.tmux_set_clipboard(),
        **health,
        "warnings": _safety_warnings(),
    }


def _run_doctor(args: argparse.Namespace) -> int:
    import json

    from tui.services.core.text import clean

    if args.restore is not None:
        if args.repair:
            from tui.cli.common import UsageError

            raise UsageError("--restore and --repair are separate steps: restore first, then "
                             "run `keylink doctor --repair` if it still finds loose ends")
        return _restore(args.restore)
    facts = _doctor_facts(repair=args.repair, yes=args.yes)
    if args.json:
        print(json.dumps(facts, indent=2))
        return 0
    override = ", ".join(f"{k}={v}" for k, v in facts["secret_store_override"].items() if v)
    local = len(facts["clipboard"]) > 1
    passphrase_source = ("from KEYLINK_VAULT_PASSPHRASE" if facts["vault_passphrase_from_env"]
                         else "asked for when needed")
    ssh = ("yes: secrets stay on this machine; copies travel to your terminal by OSC 52, and "
           "keylink's clear reaches only this machine's tmux and clipboard"
           if facts["ssh"] else "no")
    lines = [
        f"keylink {facts['version']} (Python {facts['python']}, {facts['platform']})",
        "",
        f"secret store   {facts['secret_store']}",
        f"  why          {facts['secret_store_reason']}",
        f"  override     {override or 'none'} (KEYLINK_SECRET_BACKEND=vault|keyring|pass|files"
        "|<keyring backend>, or keyring's PYTHON_KEYRING_BACKEND)",
        f"  vault        {facts['vault_path']}: {facts['vault_state']}",
        f"  passphrase   {passphrase_source}",
        f"accounts       {facts['accounts_file']} ({facts['accounts']} saved)",
    ]
    lines += [f"{'stores here' if n == 0 else '':<15}{o['name']}: "
              f"{'usable' if o['usable'] else 'not usable'}; {o['detail']}"
              for n, o in enumerate(facts["stores"])]
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
        state = facts["tmux_set_clipboard"]
        if state == "on":
            lines.append("  tmux         set-clipboard on: OSC 52 goes through tmux")
        elif state is None:
            lines.append("  tmux         set-clipboard could not be read; OSC 52 goes through "
                         "tmux only with `set -g set-clipboard on`")
        else:
            lines.append(f"  tmux         set-clipboard {state}: tmux drops OSC 52; turn it on "
                         "with `tmux set -g set-clipboard on` (and in ~/.tmux.conf)")
    lines += _health_lines(facts)
    print("\n".join(clean(line) for line in lines))
    return 0


def _restore(file: str) -> int:
    """`doctor --restore FILE`: one commit, read back, then the file is renamed out of the way."""
    from pathlib import Path

    from tui.cli.common import UsageError, open_session
    from tui.services.core.text import clean
    from tui.services.store import doctor
    from tui.services.store.model import AccountError

    session = open_session()
    store = session.accounts
    if store is None:  # accounts.json cannot be used at all (a damaged one was moved aside)
        raise UsageError(session.reason)
    try:
        done = doctor.restore(store, Path(file).expanduser().absolute())
    except AccountError as exc:
        raise UsageError(str(exc)) from None
    lines = []
    if done.restored:
        lines.append(f"restored {len(done.restored)} account"
                     f"{'' if len(done.restored) == 1 else 's'}: {', '.join(done.restored)}")
    if done.already:
        lines.append(f"already in {store.path}: {', '.join(done.already)}")
    lines.append(f"the moved-aside file is kept as {done.kept_as}")
    lines.append("run `keylink doctor` to check that their secrets are there")
    print("\n".join(clean(line) for line in lines))
    return 0


def _health_lines(facts: dict) -> list[str]:
    without = facts["accounts_without_secret"]
    orphans = facts["orphaned_secrets"]
    temps = facts["temp_files"]
    lines = [""]
    if without is None:
        lines.append("loose ends     not checked")
    else:
        lines.append("without secret " + (", ".join(without) + " (remove and add the key again)"
                                          if without else "none"))
        lines.append("orphaned       " + ("not checked" if orphans is None else
                                          plural(orphans, "secret") + " no account points at"))
        lines.append(f"temp files     {temps} left by interrupted writes")
        moves = facts.get("cut_short_moves") or []
        if moves:
            lines.append("cut short      move of " + ", ".join(moves) + " (a second copy is left "
                         "in the old or new store; move again or repair to delete it)")
        histories = facts.get("orphaned_histories")
        if histories:
            lines.append(f"old history    {plural(histories, 'removed account')} still "
                         f"{'has' if histories == 1 else 'have'} check history (rights and bound "
                         "addresses)")
        removals = facts["unfinished_removals"] or []
        if removals:
            lines.append("cut short      removal of " + ", ".join(removals)
                         + " (the secret may be gone; remove again to finish)")
    for why in facts["unchecked"] or []:
        lines.append(f"  not checked  {why}")
    for aside in facts.get("moved_aside") or []:
        if aside["accounts"] is not None:
            named = ", ".join(aside["accounts"]) or "no accounts"
            lines.append(f"moved aside    {aside['path']}: {named}; their secrets are kept")
            lines.append(f"  restore      keylink doctor --restore {shlex.quote(aside['path'])}")
        else:
            lines.append(f"moved aside    {aside['path']}: cannot be read ({aside['problem']})")
            lines.append("  restore      fix it in an editor, then keylink doctor --restore "
                         f"{shlex.quote(aside['path'])}")
    repaired = facts.get("repaired")
    if repaired:
        finished = repaired["removals_finished"]
        lines.append("repaired       "
                     + (f"finished removing {', '.join(finished)}; " if finished else "")
                     + f"deleted {plural(repaired['orphaned_secrets'], 'secret')} "
                     f"and {plural(repaired['temp_files'], 'temp file')}")
        for why in repaired["removals_left"] + repaired.get("moves_left", []):
            lines.append(f"  not finished {why}")
        if repaired.get("histories_deleted"):
            lines.append("  history      deleted the check history of "
                         + plural(repaired["histories_deleted"], "removed account"))
        if repaired.get("moves_finished"):
            lines.append("  moves        the leftover copy is gone for "
                         + ", ".join(repaired["moves_finished"]))
        if repaired.get("secrets_kept"):
            lines.append("  kept         no secret was deleted: " + repaired["secrets_kept"])
    elif (orphans or temps or facts["unfinished_removals"]
          or facts.get("cut_short_moves") or facts.get("orphaned_histories")) and not repaired:
        lines.append("  repair       run `keylink doctor --repair` to finish and delete them")
    for warning in facts["warnings"]:
        lines.append(f"warning        {warning}")
    return lines
