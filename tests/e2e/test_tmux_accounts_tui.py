"""The installed keylink in a real tmux pane, keyboard only: create the vault, add a Bybit account
pointing at the fake exchange on 127.0.0.1, verify it, and read the findings."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.e2e.tmux import TmuxPane, installed_keylink
from tests.fakes.exchange import FakeExchange

pytestmark = pytest.mark.tmux

VAULT_PASSPHRASE = "correct horse battery e2e"


def _step(pane: TmuxPane, *keys: str, text: str | None = None) -> None:
    """One action, then a short pause: Textual moves focus after a key is handled, and a
    person never types the next field within the same millisecond."""
    if text is not None:
        pane.type(text)
    if keys:
        pane.send(*keys)
    time.sleep(0.3)


def test_add_and_verify_an_account_from_the_keyboard(tmux_pane: TmuxPane, e2e_env) -> None:
    with FakeExchange() as fake:
        key = fake.key("bybit")
        key.permissions = frozenset({"read", "trade", "withdraw"})
        key.ips = ()

        tmux_pane.start([installed_keylink()])
        tmux_pane.wait_for("Set-up guide")
        _step(tmux_pane, "2")
        tmux_pane.wait_for("No accounts yet")
        tmux_pane.wait_for("Secrets: keylink vault")  # the store has been opened
        _step(tmux_pane, "a")
        tmux_pane.wait_for("Create keylink's vault")
        _step(tmux_pane, "Tab", text=VAULT_PASSPHRASE)
        _step(tmux_pane, "Enter", text=VAULT_PASSPHRASE)

        tmux_pane.wait_for("Add an account")
        _step(tmux_pane, "Tab", text="Bybit e2e")  # -> exchange (Bybit is the default)
        _step(tmux_pane, "Tab")  # -> environment
        _step(tmux_pane, "Enter")
        _step(tmux_pane, "End")
        _step(tmux_pane, "Enter")
        tmux_pane.wait_for("Base URL")
        _step(tmux_pane, "Tab")  # -> base URL
        _step(tmux_pane, "Tab", text=fake.url)  # -> whitelist
        _step(tmux_pane, "Tab")  # -> key kind (HMAC stays chosen)
        _step(tmux_pane, "Tab")  # -> API key
        _step(tmux_pane, "Tab", text=key.api_key)  # -> secret
        _step(tmux_pane, "C-s", text=key.secret)

        tmux_pane.wait_for("Bybit e2e is saved")
        screen = tmux_pane.screen()
        assert key.secret not in screen
        _step(tmux_pane, "v")
        screen = tmux_pane.wait_for("Verification")
        tmux_pane.wait_for("Findings")
        screen = tmux_pane.screen()
        assert "withdraw" in screen.lower()
        assert "not bound to any IP" in screen
        _step(tmux_pane, "C-q")

    # What reached the disk: metadata with the last check, and no secret anywhere.
    home = Path(e2e_env["HOME"])
    accounts = json.loads(
        (Path(e2e_env["XDG_CONFIG_HOME"]) / "keylink" / "accounts.json").read_text()
    )
    text = json.dumps(accounts)
    assert "Bybit e2e" in text and fake.url in text
    for path in home.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert key.secret.encode() not in data, path
            assert key.api_key.encode() not in data, path
