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


def assert_quiet(pane: TmuxPane, what: str, window: float = 1.0) -> None:
    """The app first finishes what the keys asked (a section's first mount, the start-up's
    warm-up: within 5 s), then uses under 5 % of a core over ``window``."""
    pid = pane.app_pid()
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:
        before = pane.cpu_seconds(pid)
        time.sleep(0.3)
        if pane.cpu_seconds(pid) - before <= 0.01:
            break
    before = pane.cpu_seconds(pid)
    time.sleep(window)
    used = pane.cpu_seconds(pid) - before
    assert used < IDLE_CPU * window, f"{used:.2f} s of CPU in {window} s after {what}"


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
    assert_quiet(tmux_pane, "'ee'", IDLE_WINDOW)
    written = {fid for fid in seen if fid is not None}
    assert 1 <= len(written) <= 2, f"settings.json written {len(written)} times for 2 changes"
    last = file_id(path)
    time.sleep(0.5)
    assert file_id(path) == last  # and no longer written at all
    assert json.loads(path.read_text())["guide_exchange"] == "bitget"
    assert os.stat(path).st_mode & 0o077 == 0
    tmux_pane.send("C-q")


def test_a_burst_of_each_sections_keys_in_one_write_acts_and_goes_quiet(
    tmux_pane: TmuxPane,
) -> None:
    tmux_pane.size = (80, 24)
    tmux_pane.start([installed_keylink()])
    tmux_pane.wait_for("Set-up guide")
    # Guide: three steps on, one back, one on, three exchanges on (Bybit -> Binance).
    tmux_pane.send("n", "n", "n", "p", "n", "e", "e", "e")
    tmux_pane.wait_for("open the IP list for Binance")
    assert "Step 4 of 10" in tmux_pane.screen()
    assert_quiet(tmux_pane, "the guide's burst")
    # To the whitelist and its keys in the same write: format, profile, format, two rows down.
    tmux_pane.send("3", "f", "s", "f", "j", "j")
    tmux_pane.wait_for("Insilico Terminal — Bitget")
    tmux_pane.wait_for("Preview · space-separated")
    assert_quiet(tmux_pane, "the whitelist's burst")
    # The palette: open it, type, run the first match.
    tmux_pane.send("C-p", "f", "a", "q", "Enter")
    tmux_pane.wait_for("Questions and answers")
    assert_quiet(tmux_pane, "the palette's burst")
    # FAQ: move, open all, then / and words: the words land in the filter / focused.
    tmux_pane.send("j", "j", "a", "/", "k", "e", "y")
    screen = tmux_pane.wait_for("▼ Why restrict a key to IP addresses?")
    assert screen.splitlines()[2].strip() == "key", screen
    assert_quiet(tmux_pane, "the FAQ's burst")
    # Help: Escape leaves the filter; ? opens the help and Down scrolls it, all in one write.
    tmux_pane.send("Escape")
    tmux_pane.wait_for("/ to filter")
    tmux_pane.send("?", "Down", "Down", "Down")
    screen = tmux_pane.wait_for("Keys and help")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and screen.splitlines()[1].strip("│ ") == "keylink":
        time.sleep(0.1)
        screen = tmux_pane.screen()
    assert screen.splitlines()[1].strip("│ ") != "keylink", f"the help did not scroll:\n{screen}"
    assert_quiet(tmux_pane, "the help's burst")
    tmux_pane.send("Escape")
    tmux_pane.wait_for("/ to filter")
    # Accounts and the add form: the vault is made, then the name typed in one write.
    tmux_pane.step("2")
    tmux_pane.wait_for("not created yet")
    tmux_pane.create_vault("correct horse battery staple 42")
    tmux_pane.send("B", "o", "t", "Space", "o", "n", "e", "Tab")
    tmux_pane.wait_for("Bot one")
    assert_quiet(tmux_pane, "the form's burst")
