"""No secret in any log: with Textual's logging on, keylink does not start, so nothing typed
into it (secret, pasted secret, vault passphrase) can reach a log file."""

from __future__ import annotations

import base64
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.tmux import TmuxPane, installed_keylink
from tui.app import unsafe_logging

pytestmark = pytest.mark.tmux

ROOT = Path(__file__).resolve().parents[2]


def test_textual_log_set_in_a_terminal(tmux_pane: TmuxPane, tmp_path: Path) -> None:
    log = tmp_path / "textual.log"
    secret = secrets.token_hex(24)
    passphrase = "pass " + secrets.token_urlsafe(12)
    tmux_pane.start(["env", f"TEXTUAL_LOG={log}", installed_keylink()])
    screen = tmux_pane.wait_for("TEXTUAL_LOG is set")
    assert "does not start" in " ".join(screen.split())
    # What a user would go on to type and paste: it lands nowhere that keylink logs.
    tmux_pane.send("2", "a")
    tmux_pane.type(passphrase)
    tmux_pane.send("Tab")
    tmux_pane.type(secret)
    tmux_pane._run("set-buffer", secret)
    tmux_pane._run("paste-buffer", "-p", "-t", "e2e")
    # keylink is not running: the terminal echoes what reached it, typed and pasted.
    tmux_pane.wait_until(lambda screen: screen.replace("\n", "").count(secret) >= 2,
                         "the typed and the pasted secret")
    written = log.read_text(errors="replace") if log.exists() else ""
    for value in (secret, passphrase):
        for form in (value, base64.b64encode(value.encode()).decode(), value.encode().hex()):
            assert form not in written
    assert "Traceback" not in tmux_pane.screen()


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("TEXTUAL_LOG", "{log}", "TEXTUAL_LOG is set"),
        ("TEXTUAL", "devtools", "TEXTUAL includes devtools"),
        ("TEXTUAL", "debug,devtools", "TEXTUAL includes devtools"),
        ("TEXTUAL_DEBUG", "1", "debug mode is on"),
    ],
)
def test_each_logging_switch_is_refused_with_one_line(tmp_path: Path, name: str, value: str,
                                                      words: str) -> None:
    import os

    log = tmp_path / "textual.log"
    env = {**os.environ, name: value.format(log=log), "XDG_CONFIG_HOME": str(tmp_path / "c"),
           "XDG_DATA_HOME": str(tmp_path / "d")}
    # A terminal on stdin and stdout, as a user has; stderr captured.
    leader, follower = os.openpty()
    try:
        done = subprocess.run([sys.executable, "-m", "tui"], cwd=ROOT, env=env, stdin=follower,
                              stdout=follower, stderr=subprocess.PIPE, text=True, timeout=60)
    finally:
        os.close(follower)
        os.close(leader)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and words in done.stderr
    assert "Traceback" not in done.stderr
    assert not log.exists() or "Key(" not in log.read_text()


def test_unsafe_logging_reads_only_what_matters() -> None:
    assert unsafe_logging({}) is None
    assert unsafe_logging({"TEXTUAL": "headless", "TEXTUAL_DEBUG": "0"}) is None
    assert unsafe_logging({"TEXTUAL_LOG": ""}) is None
    assert unsafe_logging({"TEXTUAL_LOG": "/tmp/x"}) is not None
