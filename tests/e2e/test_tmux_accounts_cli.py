"""`keylink accounts add/remove` in a real terminal: hidden prompts, a vault created with a
passphrase typed twice, and nothing secret ever drawn on the screen."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.e2e.tmux import TmuxPane, installed_keylink

pytestmark = pytest.mark.tmux

SECRET = "0123456789ABCDEF0123456789ABCDEF"
PASSPHRASE = "Okx-Pass-7731"
VAULT_PASSPHRASE = "tmux vault passphrase 42"


def test_hidden_prompts_create_the_vault_and_save_the_account(tmux_pane: TmuxPane, e2e_env):
    tmux_pane.start([installed_keylink(), "accounts", "add", "Tty", "--exchange", "okx"])
    tmux_pane.wait_for("New vault passphrase:")
    tmux_pane.type(VAULT_PASSPHRASE)
    tmux_pane.send("Enter")
    tmux_pane.wait_for("Repeat the passphrase:")
    tmux_pane.type(VAULT_PASSPHRASE)
    tmux_pane.send("Enter")
    tmux_pane.wait_for("API key (hidden):")
    tmux_pane.type("12345678-abcd-abcd-abcd-1234567890ab")
    tmux_pane.send("Enter")
    tmux_pane.wait_for("API secret (hidden):")
    tmux_pane.type(SECRET)
    tmux_pane.send("Enter")
    tmux_pane.wait_for("API passphrase (hidden):")
    tmux_pane.type(PASSPHRASE)
    tmux_pane.send("Enter")
    screen = tmux_pane.wait_for("added Tty")
    assert "strength" in screen
    for secret in (SECRET, PASSPHRASE, VAULT_PASSPHRASE, "12345678-abcd"):
        assert secret not in screen

    listed = subprocess.run(
        [sys.executable, "-m", "tui", "accounts", "list", "--json"],
        capture_output=True,
        text=True,
        env=e2e_env,
        timeout=60,
        check=True,
    )
    assert [a["name"] for a in json.loads(listed.stdout)] == ["Tty"]


def test_remove_asks_in_a_terminal(tmux_pane: TmuxPane, e2e_env):
    env = {**e2e_env, "KEYLINK_VAULT_PASSPHRASE": VAULT_PASSPHRASE}
    subprocess.run(
        [sys.executable, "-m", "tui", "accounts", "add", "Gone", "--exchange", "bybit"],
        input="AbCdEfGh1234567890\n" + "S" * 36 + "\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    tmux_pane.start([installed_keylink(), "accounts", "remove", "Gone"])
    tmux_pane.wait_for("keylink vault passphrase:")
    tmux_pane.type(VAULT_PASSPHRASE)
    tmux_pane.send("Enter")
    tmux_pane.wait_for("and its stored secret? [y/N]")
    tmux_pane.type("y")
    tmux_pane.send("Enter")
    tmux_pane.wait_for("removed Gone")
