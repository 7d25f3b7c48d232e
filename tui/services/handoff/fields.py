"""Handing a stored key to what uses it: one field on request, or all of them in a child's env.

The patterns users know: `pass -c` / `gh auth token` (one secret, on request) and
`aws-vault exec PROFILE -- CMD` / `op run -- CMD` (credentials only in the child's environment,
never on disk, never on a command line). Nothing here prints or logs a value.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tui.services.terminals.catalogue import FIELD_ITEMS

if TYPE_CHECKING:
    from tui.services.keys.credentials import Credentials
    from tui.services.store.model import Account

#: The fields a user can hand over, in the order a terminal's account form asks for them (the
#: catalogue's list of a form's items). The secret ones are named as ``Credentials`` names them
#: (``api_key``, ``secret``, ``passphrase``).
FIELDS = FIELD_ITEMS
#: Fields an environment variable may carry (the exchange id too: freqtrade wants it).
ENV_FIELDS = (*FIELDS, "exchange")
FIELD_LABELS = {"name": "display name", "api_key": "API key", "secret": "API secret",
                "passphrase": "API passphrase", "exchange": "exchange id"}
#: Fields that are secret: the ones the clipboard clears after a while.
SECRET_FIELDS = frozenset({"api_key", "secret", "passphrase"})

#: The one table of names a user types (``copy --field``, ``exec --env VAR=FIELD``,
#: ``import --map FIELD=VAR``) that differ from keylink's own: the short ``key`` was public first.
PUBLIC_NAMES = {"api_key": "key"}
_BY_PUBLIC_NAME = {PUBLIC_NAMES.get(field, field): field for field in ENV_FIELDS}


def public_name(field: str) -> str:
    """The name a user types for ``field`` (``api_key`` -> ``key``)."""
    return PUBLIC_NAMES.get(field, field)


def field_named(name: str) -> str | None:
    """The field a user's ``name`` stands for (``key`` -> ``api_key``); None for a name that is
    not public (``api_key`` itself too: one spelling per field)."""
    return _BY_PUBLIC_NAME.get(name)


def public_names(fields: Sequence[str] = ENV_FIELDS) -> tuple[str, ...]:
    """What a user may type for ``fields``, in order (for choices and messages)."""
    return tuple(public_name(field) for field in fields)


DEFAULT_ENV = {
    "KEYLINK_API_KEY": "api_key",
    "KEYLINK_API_SECRET": "secret",
    "KEYLINK_API_PASSPHRASE": "passphrase",
    "KEYLINK_EXCHANGE": "exchange",
    "KEYLINK_ACCOUNT": "name",
}
#: freqtrade reads these over its config file (it and ccxt call the passphrase "password").
PRESETS: dict[str, dict[str, str]] = {
    "freqtrade": {
        "FREQTRADE__EXCHANGE__NAME": "exchange",
        "FREQTRADE__EXCHANGE__KEY": "api_key",
        "FREQTRADE__EXCHANGE__SECRET": "secret",
        "FREQTRADE__EXCHANGE__PASSWORD": "passphrase",
    },
}

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class HandoffError(Exception):
    """A field or mapping that cannot be handed over; the message is one line, never a value."""


def has_passphrase(account: Account) -> bool:
    from tui.services.exchanges import exchange

    return exchange(account.exchange).has_passphrase


def secret_fields(account: Account) -> list[str]:
    """The secret fields ``account`` keeps (what the access log names for a use of all of
    them: a check, a rotation, an import): the passphrase only where the exchange has one."""
    return ["api_key", "secret", "passphrase"] if has_passphrase(account) else ["api_key", "secret"]


def field_value(account: Account, creds: Credentials | None, field: str) -> str:
    """One field's value; HandoffError for an unknown field or a passphrase the exchange lacks.

    ``creds`` may be None for the fields that are not secret (name, exchange)."""
    if field == "name":
        return account.name
    if field == "exchange":
        return account.exchange
    if field not in SECRET_FIELDS:
        from tui.services.core.text import clean

        raise HandoffError(f"unknown field '{clean(field)}' "
                           f"(one of: {', '.join(public_names())})")
    if field == "passphrase" and not has_passphrase(account):
        from tui.services.exchanges import exchange

        raise HandoffError(f"{exchange(account.exchange).label} keys have no passphrase: leave "
                           "the terminal's passphrase field empty")
    if creds is None:
        raise HandoffError("the credentials were not read")
    return str(getattr(creds, field))


def parse_env_mapping(text: str) -> tuple[str, str]:
    """``VAR=field`` (the field by its public name) -> (VAR, field); HandoffError saying what is
    wrong otherwise."""
    from tui.services.core.text import clean

    var, sep, name = text.partition("=")
    if not sep or not _ENV_NAME.match(var):
        raise HandoffError(f"--env wants VAR=FIELD with a variable name, got '{clean(text)}'")
    field = field_named(name)
    if field is None:
        raise HandoffError(f"--env {clean(var)}: unknown field '{clean(name)}' "
                           f"(one of: {', '.join(public_names())})")
    return var, field


@dataclass(frozen=True)
class EnvPlan:
    """Which variables the child gets, and from which field (no values)."""

    variables: dict[str, str]

    def needs_secrets(self) -> bool:
        return any(field in SECRET_FIELDS for field in self.variables.values())


def plan_environment(account: Account, preset: str | None,
                     mappings: Sequence[str] = ()) -> EnvPlan:
    """The variables for ``keylink exec``: the default set, or a preset's; ``--env`` on top.

    The passphrase is left out of the default set and presets on exchanges without one; asked for
    by name with --env, it is an error (the user expects a value)."""
    if preset is not None and preset not in PRESETS:
        raise HandoffError(f"unknown preset {preset!r} (known: {', '.join(PRESETS)})")
    base = PRESETS[preset] if preset else DEFAULT_ENV
    passphrase = has_passphrase(account)
    variables = {var: field for var, field in base.items()
                 if field != "passphrase" or passphrase}
    for text in mappings:
        var, field = parse_env_mapping(text)
        if field == "passphrase" and not passphrase:
            field_value(account, None, field)  # raises the "no passphrase" error
        variables[var] = field
    return EnvPlan(variables)


def child_environment(plan: EnvPlan, account: Account, creds: Credentials | None,
                      base: Mapping[str, str]) -> dict[str, str]:
    """``base`` (keylink's own environment) with the credentials added.

    Every keylink passphrase variable is taken out first (the vault's, a private key's): the child
    gets this account's key, not the whole vault."""
    from tui.services.core.child_env import child_environ

    env = child_environ(base)
    for var, field in plan.variables.items():
        env[var] = field_value(account, creds, field)
    return env


def find_command(command: str, env: Mapping[str, str]) -> str:
    """The program to run, found on the child's PATH; HandoffError when there is none."""
    from tui.services.core.text import clean

    if os.sep in command:
        if os.path.isfile(command) and os.access(command, os.X_OK):
            return command
        raise HandoffError(f"cannot run '{clean(command)}': no such executable file")
    found = shutil.which(command, path=env.get("PATH", os.defpath))
    if found is None:
        raise HandoffError(f"command not found: '{clean(command)}'")
    return found


def exec_with_env(command: Sequence[str], env: Mapping[str, str]) -> None:
    """Replace this process with ``command`` (found on PATH first). Never returns on success.

    Replacing rather than waiting is what lets the exit code and every signal pass straight
    through (a child killed by signal N shows as 128+N to the shell) with no keylink in between,
    and leaves no keylink process holding the secrets."""
    import sys

    program = find_command(command[0], env)
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execve(program, list(command), dict(env))
    except OSError as exc:
        from tui.services.core.text import clean

        raise HandoffError(f"cannot run '{clean(command[0])}': {exc.strerror}") from None
