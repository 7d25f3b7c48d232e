"""The address-swap attack in a real terminal: an exchange whose key-info answer carries OSC 52
(write the clipboard) and OSC 0 (set the window title), and account names holding the same and
markup. tmux takes OSC 52 into its paste buffer and OSC 0/2 into the pane title, so both would
show if a single sequence got through, from the app or from the CLI."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.e2e.tmux import TmuxPane, installed_keylink
from tests.fakes.exchange import FakeExchange

pytestmark = pytest.mark.tmux

VAULT_PASSPHRASE = "tmux injection vault passphrase"
OSC52 = "\x1b]52;c;MWV2aWxBZGRyZXNz\x07"
TITLE = "\x1b]0;PWNED-TITLE\x07"


def _pane_title(pane: TmuxPane) -> str:
    return pane._run("display-message", "-p", "-t", "e2e", "#{pane_title}").stdout.strip()


def test_hostile_names_and_exchange_answers_reach_no_terminal(tmux_pane: TmuxPane,
                                                              e2e_env: dict[str, str]) -> None:
    env = {**e2e_env, "KEYLINK_SECRET_BACKEND": "vault",
           "KEYLINK_VAULT_PASSPHRASE": VAULT_PASSPHRASE}
    tmux_pane.env.update(env)
    with FakeExchange() as fake:
        key = fake.key("bybit")
        subprocess.run([installed_keylink(), "accounts", "add", "plain", "--exchange", "bybit",
                        "--base-url", fake.url], input=f"{key.api_key}\n{key.secret}\n",
                       env=env, text=True, capture_output=True, timeout=60, check=True)
        accounts = Path(env["XDG_CONFIG_HOME"]) / "keylink" / "accounts.json"
        doc = json.loads(accounts.read_text())
        doc["accounts"][0]["name"] = f"Bybit [main] {TITLE}[/]{OSC52}"
        accounts.write_text(json.dumps(doc))
        key.ips = ("127.0.0.1", f"18.0.0.1{OSC52}", f"{TITLE}[@click=app.quit]")
        key.label = OSC52 + TITLE

        tmux_pane.start(["sh", "-c", f"{installed_keylink()} accounts list; "
                         f"{installed_keylink()} verify plain; "
                         f"{installed_keylink()} verify \"$(printf 'x\\033]0;T\\007')\"; "
                         f"exec {installed_keylink()}"])
        tmux_pane.wait_for("Set-up guide")
        title_before = _pane_title(tmux_pane)
        tmux_pane.send("2")
        tmux_pane.wait_for("Bybit [main]")
        tmux_pane.send("v")
        tmux_pane.wait_for("no terminal address", timeout=30)
        screen = tmux_pane.wait_until(
            lambda screen: "18.0.0.1\\x1b]52;c;MWV2aWxBZGRyZXNz\\x07" in screen.replace("\n", ""),
            "the escaped whitelist entry")
        flat = screen.replace("\n", "")
        assert "18.0.0.1\\x1b]52;c;MWV2aWxBZGRyZXNz\\x07" in flat  # shown, escaped
        assert "Bybit [main] \\x1b]0;PWNED-TITLE\\x07[/]" in flat
        assert tmux_pane.buffer() in (None, "")  # no OSC 52 reached the terminal
        title = _pane_title(tmux_pane)
        assert "PWNED" not in title and title == title_before
        assert "Traceback" not in screen
        tmux_pane.send("C-q")
