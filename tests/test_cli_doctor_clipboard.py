"""`keylink doctor`'s clipboard lines inside a real tmux server (issue 15: it advised
`set-clipboard on` when tmux already had it on)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.e2e.tmux import require_tmux
from tests.test_cli_accounts import Cli, make_cli

pytestmark = pytest.mark.tmux


@pytest.fixture
def tmux_server(tmp_path: Path):
    """A tmux server on a socket of its own: (tmux binary, socket path)."""
    tmux = require_tmux()
    socket = tmp_path / "tmux.sock"
    subprocess.run([tmux, "-S", str(socket), "-f", "/dev/null", "new-session", "-d", "-s", "doc",
                    "sleep 60"], check=True, timeout=30)
    try:
        yield tmux, socket
    finally:
        subprocess.run([tmux, "-S", str(socket), "kill-server"], check=False, timeout=30)


@pytest.mark.parametrize("state", ["on", "external", "off"])
def test_doctor_reads_tmuxs_set_clipboard(tmp_path: Path, tmux_server, state: str):
    tmux, socket = tmux_server
    subprocess.run([tmux, "-S", str(socket), "set", "-g", "set-clipboard", state], check=True,
                   timeout=30)
    cli: Cli = make_cli(tmp_path)
    inside = {"TMUX": f"{socket},1,0"}
    text = cli("doctor", env=inside)
    assert text.returncode == 0, text.stderr
    assert json.loads(cli("doctor", "--json", env=inside).stdout)["tmux_set_clipboard"] == state
    tmux_line = next(line for line in text.stdout.splitlines()
                     if line.startswith("  tmux "))
    if state == "on":
        assert tmux_line == "  tmux         set-clipboard on: OSC 52 goes through tmux"
        assert "set -g set-clipboard on" not in text.stdout  # no advice to do what is done
    else:
        assert tmux_line.startswith(f"  tmux         set-clipboard {state}: tmux drops OSC 52")
        assert "`tmux set -g set-clipboard on`" in tmux_line
