"""Running the `keylink` command in tests: as a real process, or in this process.

A real process (``python -m tui``) costs about 0.35 s of wall time and 0.15 s of CPU a call, and
the CLI tests make a few hundred calls. Most of them are about what a command does with its
arguments, input and files, not about being a process, so they call ``tui.cli.main(argv)`` here
with the same environment, stdin and captured output. The tests that are about the process
(signals, exit by signal, ttys, bytes in the inherited environment, closed or endless stdin, a
keyring call that hangs in a thread) keep the real process: mark them ``cli_process``.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

VAULT_PASSPHRASE = "cli test vault passphrase"
REPO = Path(__file__).resolve().parents[2]


@contextlib.contextmanager
def _environment(env: dict[str, str]) -> Iterator[None]:
    """os.environ is exactly ``env`` for the duration (what a child process would inherit)."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@dataclass
class Cli:
    """Runs `python -m tui` with config/data dirs under tmp and no session bus or keyring config;
    ``in_process`` runs ``tui.cli.main`` in this process instead (see the module's docstring)."""

    root: Path
    env: dict[str, str]
    in_process: bool = False

    @property
    def config(self) -> Path:
        return self.root / "config" / "keylink"

    @property
    def data(self) -> Path:
        return self.root / "data" / "keylink"

    def __call__(
        self, *args: str, stdin: str = "", env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        full_env = {**self.env, **(env or {})}
        if self.in_process:
            return self._run_here(list(args), stdin, full_env)
        return subprocess.run(
            [sys.executable, "-m", "tui", *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=full_env,
            timeout=60,
        )

    @staticmethod
    def _run_here(
        args: list[str], stdin: str, env: dict[str, str]
    ) -> subprocess.CompletedProcess[str]:
        """``main(args)`` with this environment, ``stdin`` as a pipe's text and output captured.

        argparse's --help, --version and usage errors end with SystemExit: its code is the exit
        code, as for the process.
        """
        from tui.cli import main

        out, err = io.StringIO(), io.StringIO()
        saved = sys.stdin, sys.stdout, sys.stderr
        sys.stdin, sys.stdout, sys.stderr = io.StringIO(stdin), out, err
        try:
            with _environment(env):
                try:
                    code = main(args)
                except SystemExit as exc:
                    code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
                    if not isinstance(exc.code, int | None):
                        print(exc.code, file=err)
        finally:
            sys.stdin, sys.stdout, sys.stderr = saved
        return subprocess.CompletedProcess(
            ["keylink", *args], code, out.getvalue(), err.getvalue()
        )


def make_cli(root: Path, *, cheap_vault: bool = True, in_process: bool = False) -> Cli:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("KEYLINK_", "XDG_", "DBUS_", "PYTHON_KEYRING", "SSH_", "TMUX"))
        and k not in ("DISPLAY", "WAYLAND_DISPLAY", "TERM_PROGRAM")
    }
    env.update(
        HOME=str(root / "home"),
        XDG_CONFIG_HOME=str(root / "config"),
        XDG_DATA_HOME=str(root / "data"),
        XDG_CACHE_HOME=str(root / "cache"),
        XDG_STATE_HOME=str(root / "state"),
        KEYLINK_VAULT_PASSPHRASE=VAULT_PASSPHRASE,
        PYTHONPATH=str(REPO),
    )
    cli = Cli(root, env, in_process)
    if cheap_vault:
        # A vault with a cheap KDF keeps each CLI run fast; its header carries the parameters.
        from tui.services.store.vault import ScryptParams, Vault

        Vault(cli.data / "vault.json", kdf=ScryptParams(8, 8, 1)).create(VAULT_PASSPHRASE)
    return cli
