"""`keylink copy NAME --field secret` in a real tmux: the exact secret lands in tmux's paste
buffer, never on the screen, and the detached helper copies something harmless over it later."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from tests.e2e.tmux import TmuxPane, installed_keylink
from tests.support.clearers import clearer_processes

pytestmark = pytest.mark.tmux

KEY = "AbCdEfGh1234567890"
SECRET = "Zx9" * 12
VAULT_PASSPHRASE = "tmux copy vault passphrase 7"


def add_account(env: dict[str, str]) -> dict[str, str]:
    env = {**env, "KEYLINK_VAULT_PASSPHRASE": VAULT_PASSPHRASE}
    subprocess.run([sys.executable, "-m", "tui", "accounts", "add", "Main", "--exchange", "bybit"],
                   input=f"{KEY}\n{SECRET}\n", capture_output=True, text=True, env=env,
                   timeout=120, check=True)
    return env


def all_buffers(pane: TmuxPane) -> str:
    names = pane._run("list-buffers", "-F", "#{buffer_name}", check=False).stdout.split()
    return "\n".join(pane._run("show-buffer", "-b", name, check=False).stdout for name in names)


def assert_gone_from_every_buffer(pane: TmuxPane, value: str) -> None:
    """The clear deletes tmux's older buffers holding the value just after the new top one."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and value in all_buffers(pane):
        time.sleep(0.1)
    assert value not in all_buffers(pane)


def test_copy_secret_lands_in_tmux_and_is_cleared(tmux_pane: TmuxPane, e2e_env):
    env = add_account(e2e_env)
    tmux_pane.env = {**env, "KEYLINK_CLIP_TIME": "4"}
    tmux_pane.start([installed_keylink(), "copy", "Main", "--field", "secret"])
    screen = tmux_pane.wait_for("cleared in 4 s")
    copied_at = time.monotonic()
    assert "the API secret of Main: sent to your terminal's clipboard (OSC 52)" in screen
    assert tmux_pane.wait_for_buffer() == SECRET
    assert SECRET not in tmux_pane.screen()
    # The helper waiting to clear holds neither the secret nor the vault passphrase where other
    # processes could read them (argv) or inherit them (its environment).
    helpers = clearer_processes(env["HOME"])
    assert len(helpers) == 1
    for blob in helpers[0][1:]:  # its argv and its environment
        assert SECRET.encode() not in blob and VAULT_PASSPHRASE.encode() not in blob

    deadline = copied_at + 20
    while time.monotonic() < deadline and tmux_pane.buffer() == SECRET:
        time.sleep(0.2)
    assert tmux_pane.buffer() == "(cleared by keylink)"
    assert time.monotonic() - copied_at > 3  # not before the clear time
    assert_gone_from_every_buffer(tmux_pane, SECRET)  # not left further down tmux's list
    assert SECRET not in tmux_pane.screen()


def test_an_earlier_copys_clear_leaves_the_later_copy_in_tmux(tmux_pane: TmuxPane, e2e_env):
    """Issue 15: the secret (cleared in 3 s), then the key (cleared in 8 s). At 3 s the secret's
    clearer finds the key is the newer copy: tmux's buffer still holds the key, and only the
    older buffer holding the secret is deleted."""
    import shlex

    env = add_account(e2e_env)
    tmux_pane.env = {**env, "KEYLINK_KEY_PASSPHRASE": "a key passphrase in the env 9"}
    keylink = shlex.quote(installed_keylink())
    tmux_pane.start(["sh", "-c", f"KEYLINK_CLIP_TIME=3 {keylink} copy Main --field secret && "
                     f"KEYLINK_CLIP_TIME=8 {keylink} copy Main --field key"])
    tmux_pane.wait_for("cleared in 8 s")
    copied_at = time.monotonic()
    assert tmux_pane.wait_for_buffer() == KEY
    # The clearers waiting carry none of keylink's passphrases.
    helpers = clearer_processes(env["HOME"])
    assert len(helpers) == 2
    for _pid, _argv, environ in helpers:
        assert b"PASSPHRASE=" not in environ
    assert_gone_from_every_buffer(tmux_pane, SECRET)  # the older buffer: dropped at 3 s
    deadline = copied_at + 10
    while time.monotonic() < deadline and len(clearer_processes(env["HOME"])) > 1:
        time.sleep(0.1)
    assert len(clearer_processes(env["HOME"])) == 1  # the secret's clearer has done its work
    assert tmux_pane.buffer() == KEY  # and left the key there
    deadline = copied_at + 30
    while time.monotonic() < deadline and tmux_pane.buffer() == KEY:
        time.sleep(0.2)
    assert tmux_pane.buffer() == "(cleared by keylink)"
    assert time.monotonic() - copied_at > 6  # by the key's own clearer
    assert_gone_from_every_buffer(tmux_pane, KEY)


def test_copy_in_tmux_with_set_clipboard_off_says_how_to_turn_it_on(tmux_pane: TmuxPane, e2e_env):
    env = add_account(e2e_env)
    tmux_pane.config.write_text(tmux_pane.config.read_text().replace(
        "set -g set-clipboard on", "set -g set-clipboard off"))
    tmux_pane.env = {**env, "KEYLINK_CLIP_TIME": "2"}
    tmux_pane.start([installed_keylink(), "copy", "Main", "--field", "name"])
    screen = tmux_pane.wait_for("tmux.conf")
    unwrapped = "".join(screen.splitlines())  # the pane wraps long lines mid-word
    assert "Nothing reached your terminal's clipboard: tmux here has set-clipboard off, which " \
        "drops a program's OSC 52." in unwrapped
    assert tmux_pane.buffer() is None  # tmux really dropped it


def test_whitelist_copy_lands_the_list_in_tmux(tmux_pane: TmuxPane):
    from tests.services.test_whitelist import GENERAL

    tmux_pane.start([installed_keylink(), "whitelist", "--copy"])
    screen = tmux_pane.wait_for("clipboard (OSC 52)")
    assert "20 addresses (comma): sent to your terminal's clipboard (OSC 52)" in screen
    assert "cleared" not in screen  # addresses are not secret: nothing to clear
    assert tmux_pane.wait_for_buffer() == GENERAL
    assert GENERAL not in screen


def test_app_copy_key_and_the_clear_on_quit(tmux_pane: TmuxPane, e2e_env):
    env = add_account(e2e_env)
    tmux_pane.env = {**env, "KEYLINK_CLIP_TIME": "300", "KEYLINK_SECRET_BACKEND": "vault"}
    tmux_pane.start([installed_keylink()])
    tmux_pane.wait_for("keylink")
    tmux_pane.send("2")
    tmux_pane.wait_for("Copy for the terminal")
    tmux_pane.send("s")
    tmux_pane.wait_for("never checked")  # issue 19: the gate offers a check first
    tmux_pane.send("n")  # copy without
    screen = tmux_pane.wait_for("Cleared in 300 s")
    assert "The API secret of Main: sent to your terminal's clipboard" in screen
    assert tmux_pane.wait_for_buffer() == SECRET
    assert SECRET not in tmux_pane.screen()
    tmux_pane.send("C-q")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and tmux_pane.buffer() == SECRET:
        time.sleep(0.1)
    assert tmux_pane.buffer() == "(cleared by keylink)"
    assert_gone_from_every_buffer(tmux_pane, SECRET)
