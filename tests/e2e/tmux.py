"""A real tmux server on a private socket, driving the installed `keylink` like a person would."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest


def require_tmux() -> str:
    """The tmux binary; skip without it, unless CI says tmux tests must run."""
    tmux = shutil.which("tmux")
    if tmux is None:
        if os.environ.get("KEYLINK_REQUIRE_TMUX") == "1":
            pytest.fail("tmux is required here (KEYLINK_REQUIRE_TMUX=1) but is not installed")
        pytest.skip("tmux is not installed")
    return tmux


def installed_keylink() -> str:
    """The `keylink` console script installed beside this Python (the venv's)."""
    beside = Path(sys.executable).parent / "keylink"
    found = str(beside) if beside.exists() else shutil.which("keylink")
    if found is None:
        pytest.fail("the keylink command is not installed (run: python3 dev.py test)")
    return found


class TmuxPane:
    """One tmux session with one pane running a command, on a socket of its own."""

    def __init__(
        self, tmp: Path, env: Mapping[str, str], size: tuple[int, int] = (100, 30)
    ) -> None:
        self.tmux = require_tmux()
        self.socket = tmp / "tmux.sock"
        self.config = tmp / "tmux.conf"
        # set-clipboard on: tmux takes an app's OSC 52 into its paste buffer, as it would for a
        # user on SSH; history/escape settings keep key presses immediate.
        self.config.write_text(
            "set -g set-clipboard on\n"
            "set -g escape-time 0\n"
            "set -g default-terminal screen-256color\n"
            "set -g status off\n"
        )
        self.env = dict(env)
        self.size = size

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.tmux, "-S", str(self.socket), "-f", str(self.config), *args],
            capture_output=True,
            text=True,
            check=check,
            env=self.env,
            timeout=30,
        )

    def start(self, command: list[str]) -> None:
        width, height = self.size
        env_prefix = " ".join(
            f"{k}={shlex.quote(v)}"
            for k, v in self.env.items()
            if k.startswith(("KEYLINK_", "XDG_", "HOME", "PYTHON_KEYRING"))
        )
        shell = f"env {env_prefix} {shlex.join(command)}; sleep 30"
        self._run("new-session", "-d", "-s", "e2e", "-x", str(width), "-y", str(height), shell)

    def send(self, *keys: str) -> None:
        self._run("send-keys", "-t", "e2e", *keys)

    def type(self, text: str) -> None:
        self._run("send-keys", "-t", "e2e", "-l", text)

    def screen(self) -> str:
        return self._run("capture-pane", "-p", "-t", "e2e").stdout

    def frame(self) -> str:
        """The pane with its colours and styles: a focus change shows here, not in ``screen``."""
        return self._run("capture-pane", "-p", "-e", "-t", "e2e").stdout

    def wait_for(self, text: str, timeout: float = 20.0) -> str:
        return self.wait_until(lambda screen: text in screen, f"{text!r}", timeout)

    def wait_until(self, condition: Callable[[str], object], what: str,
                   timeout: float = 20.0) -> str:
        """The screen once ``condition(screen)`` holds; AssertionError naming ``what`` after
        ``timeout`` s."""
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if condition(screen):
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{what} did not appear on screen within {timeout}s:\n{screen}")

    def buffer(self) -> str | None:
        result = self._run("show-buffer", check=False)
        return result.stdout if result.returncode == 0 else None

    def wait_for_buffer(self, timeout: float = 10.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.buffer()
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(f"tmux's paste buffer stayed empty; screen:\n{self.screen()}")

    def close(self) -> None:
        self._run("kill-server", check=False)

    # -- the app's process ------------------------------------------------------------------------

    def app_pid(self) -> int:
        """The pid of the command started in the pane (the shell's child; Linux /proc)."""
        shell = int(self._run("display-message", "-p", "-t", "e2e", "#{pane_pid}").stdout)
        children = Path(f"/proc/{shell}/task/{shell}/children").read_text().split()
        if not children:
            raise AssertionError(f"the pane's shell {shell} has no child; screen:\n{self.screen()}")
        return int(children[0])

    @staticmethod
    def cpu_seconds(pid: int) -> float:
        """CPU time (user + system) process ``pid`` has used so far."""
        stat = Path(f"/proc/{pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2:].split()
        # utime and stime are fields 14 and 15 of proc(5); fields[0] here is field 3.
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    # -- a person's steps -------------------------------------------------------------------------

    #: Longest wait (s) for a step's keys to show: one that changes nothing drawn waits this long.
    step_limit = 1.0

    def step(self, *keys: str, text: str | None = None) -> None:
        """Type ``text`` (if any), press ``keys``, then wait until the pane shows what they did
        and is still, as a person sees the echo (over ssh too) before typing on. The keys act
        in order anyway (keylink routes each once the one before it is handled)."""
        before = self.frame()
        if text is not None:
            self.type(text)
        if keys:
            self.send(*keys)
        self.settle(before)

    def settle(self, before: str) -> str:
        """The pane once it differs from ``before`` and two looks in a row agree (a key handled
        and drawn); as it is after ``step_limit`` s when nothing changes."""
        deadline = time.monotonic() + self.step_limit
        last, changed = before, False
        while time.monotonic() < deadline:
            time.sleep(0.02)
            now = self.frame()
            if changed and now == last:
                return now
            changed = changed or now != before
            last = now
        return last

    def start_on_empty_accounts(self, command: list[str], timeout: float = 20.0) -> None:
        """Start the app (no accounts yet), go to Accounts, wait until its store is open."""
        self.start(command)
        self.wait_for("Set-up guide", timeout)
        self.step("2")
        self.wait_for("No accounts yet", timeout)
        self.wait_for("Secrets: keylink vault", timeout)  # the store has been opened

    def create_vault(self, passphrase: str, timeout: float = 20.0) -> None:
        """From the empty accounts screen: press a, create the vault (the add form opens)."""
        self.step("a")
        self.wait_for("Create keylink's vault", timeout)
        self.step("Tab", text=passphrase)
        self.step("Enter", text=passphrase)
        self.wait_for("Add an account", timeout)

    def fill_add_form(self, name: str, base_url: str, exchange_prefix: str | None = None,
                      expect_host: str | None = None) -> None:
        """In the add form: name, exchange (typed prefix; the default when None), the custom
        environment at ``base_url``; leaves focus on the key-kind field."""
        self.step("Tab", text=name)  # -> exchange
        if exchange_prefix is not None:
            self.step("Enter")
            self.step("Enter", text=exchange_prefix)
            if expect_host:
                self.wait_for(expect_host)
        self.step("Tab")  # -> environment
        self.step("Enter")
        self.step("End")  # "Custom URL…" is the last choice
        self.step("Enter")
        self.wait_for("Base URL")
        self.step("Tab")  # -> base URL
        self.step("Tab", text=base_url)  # -> terminal
        self.step("Tab")  # -> whitelist
        self.step("Tab")  # -> key kind
