"""Bursts of keys in one write to the real app in tmux (what a laggy ssh link delivers): the screen
settles on what the keys ask for, the process then uses next to no CPU, and settings.json is
written at most once per real change."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from tests.e2e.tmux import TmuxPane, installed_keylink

pytestmark = pytest.mark.tmux

#: Over this window after the screen settled, the app may use at most 5 % of a core.
IDLE_WINDOW = 2.0
IDLE_CPU = 0.05


def settings_file(env: dict[str, str]) -> Path:
    return Path(env["XDG_CONFIG_HOME"]) / "keylink" / "settings.json"


def file_id(path: Path) -> tuple[int, int] | None:
    """(inode, mtime) of ``path``: every atomic write of it makes a new inode."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    return info.st_ino, info.st_mtime_ns


def cpu_while_idle(pane: TmuxPane) -> float:
    pid = pane.app_pid()
    before = pane.cpu_seconds(pid)
    time.sleep(IDLE_WINDOW)
    return pane.cpu_seconds(pid) - before


def test_ee_in_one_write_ends_on_bitget_and_the_app_goes_quiet(
    tmux_pane: TmuxPane, e2e_env: dict[str, str]
) -> None:
    tmux_pane.size = (80, 24)
    tmux_pane.start([installed_keylink()])
    tmux_pane.wait_for("Set-up guide")
    tmux_pane.wait_for("Step 1 of 10")  # Bybit, the first exchange, has no passphrase step
    path = settings_file(e2e_env)
    assert file_id(path) is None
    tmux_pane.send("e", "e")  # one send-keys: one write to the pane, one read for the app
    tmux_pane.wait_for("Sign in to Bitget")
    # Every write of settings.json replaces the file (a new inode): count the ones seen.
    seen = {file_id(path)}
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        seen.add(file_id(path))
        time.sleep(0.005)
    screen = tmux_pane.screen()
    assert "Sign in to Bitget" in screen and "Step 1 of 11" in screen, screen
    used = cpu_while_idle(tmux_pane)
    assert used < IDLE_CPU * IDLE_WINDOW, f"{used:.2f} s of CPU in {IDLE_WINDOW} s after 'ee'"
    written = {fid for fid in seen if fid is not None}
    assert 1 <= len(written) <= 2, f"settings.json written {len(written)} times for 2 changes"
    last = file_id(path)
    time.sleep(0.5)
    assert file_id(path) == last  # and no longer written at all
    assert json.loads(path.read_text())["guide_exchange"] == "bitget"
    assert os.stat(path).st_mode & 0o077 == 0
    tmux_pane.send("C-q")
