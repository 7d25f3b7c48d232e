"""`keylink doctor`: where keylink keeps things and what works in this terminal."""

from __future__ import annotations

import argparse
import sys

from tui import __version__


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "doctor",
        help="show where keylink keeps things and what works in this terminal",
        description="Which secret store is in use and why (override with "
        "KEYLINK_SECRET_BACKEND=vault|keyring or keyring's PYTHON_KEYRING_BACKEND), the config "
        "and vault paths, clipboard ways, SSH and terminal details.",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=_run_doctor)


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
