"""The environment of every process keylink starts: keylink's own passphrases never go along.

keylink reads passphrases from its environment (``KEYLINK_VAULT_PASSPHRASE`` opens the whole
vault, ``KEYLINK_KEY_PASSPHRASE`` decrypts or encrypts a private key). A child inherits the
environment of its parent by default, so a tmux call, the detached clipboard clearer, the key
check child or ``keylink exec``'s CMD would each carry them, readable in /proc/PID/environ for
as long as they run (the clearer lives for a minute; CMD may be a bot that runs for months). Every
place that starts a process takes its environment from :func:`child_environ` instead.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

#: Every keylink passphrase variable, present and future: ``KEYLINK_VAULT_PASSPHRASE``,
#: ``KEYLINK_KEY_PASSPHRASE``, and ``KEYLINK_API_PASSPHRASE`` (exec's own, left by a parent exec).
_PASSPHRASE_VAR = re.compile(r"KEYLINK_\w*PASSPHRASE\w*\Z")
#: The credentials ``keylink exec`` hands to CMD by default: a helper has no use for them (they are
#: in keylink's environment only when keylink itself runs under an exec).
_CREDENTIAL_VARS = frozenset({"KEYLINK_API_KEY", "KEYLINK_API_SECRET"})


def is_withheld(name: str) -> bool:
    """Whether the variable ``name`` is one keylink never hands to a child."""
    upper = name.upper()  # Windows names are case-blind
    return upper in _CREDENTIAL_VARS or _PASSPHRASE_VAR.match(upper) is not None


def child_environ(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: this process's environment) without keylink's passphrase and credential
    variables: the environment for any process keylink starts."""
    env = os.environ if base is None else base
    return {name: value for name, value in env.items() if not is_withheld(name)}


class _CleanSubprocess:
    """``subprocess`` for a library that starts processes without an ``env`` argument (pyperclip:
    xclip, xsel, wl-copy, pbcopy). Each call gets :func:`child_environ` unless it names one."""

    def __init__(self) -> None:
        import subprocess

        self._real = subprocess

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def _with_env(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        if kwargs.get("env") is None:
            kwargs["env"] = child_environ()
        return kwargs

    def Popen(self, *args: Any, **kwargs: Any) -> Any:
        return self._real.Popen(*args, **self._with_env(kwargs))

    def run(self, *args: Any, **kwargs: Any) -> Any:
        return self._real.run(*args, **self._with_env(kwargs))

    def call(self, *args: Any, **kwargs: Any) -> Any:
        return self._real.call(*args, **self._with_env(kwargs))

    def check_call(self, *args: Any, **kwargs: Any) -> Any:
        return self._real.check_call(*args, **self._with_env(kwargs))

    def check_output(self, *args: Any, **kwargs: Any) -> Any:
        return self._real.check_output(*args, **self._with_env(kwargs))


def clean_library_children(module: Any) -> None:
    """Make ``module`` (imported with ``import subprocess`` at its top) start its processes with
    :func:`child_environ`. Idempotent."""
    if not isinstance(getattr(module, "subprocess", None), _CleanSubprocess):
        module.subprocess = _CleanSubprocess()
