"""Fixtures for the end-to-end tests: an isolated HOME and a tmux pane."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.tmux import TmuxPane
from tests.support import netguard


@pytest.fixture
def e2e_env(tmp_path: Path) -> dict[str, str]:
    """An environment whose HOME, config and data dirs are all under the test's tmp dir."""
    home = tmp_path / "home"
    home.mkdir()
    # Not COLUMNS/LINES: pytest-xdist's workers have COLUMNS=80 LINES=24, and Textual takes them
    # over the pane's real size (the 100x30 pane then showed an 80x24 app, cut short).
    # The network guard's record (tests/support/netguard.py) stays: the app in the pane is
    # held to loopback too.
    env = {k: v for k, v in os.environ.items()
           if (not k.startswith(("KEYLINK_", "XDG_", "TMUX")) or k == netguard.LOG_ENV)
           and k not in ("COLUMNS", "LINES")}
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_RUNTIME_DIR=str(tmp_path),
        TERM="xterm-256color",
    )
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    return env


@pytest.fixture
def tmux_pane(tmp_path: Path, e2e_env: dict[str, str]) -> Iterator[TmuxPane]:
    pane = TmuxPane(tmp_path, e2e_env)
    try:
        yield pane
    finally:
        pane.close()
