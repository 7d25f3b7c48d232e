"""The installed keylink in a real tmux pane, keyboard only: create the vault, add a Bybit account
pointing at the fake exchange on 127.0.0.1, verify it, and read the findings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.tmux import TmuxPane, installed_keylink
from tests.fakes.exchange import FakeExchange

pytestmark = pytest.mark.tmux

VAULT_PASSPHRASE = "correct horse battery e2e"


def test_add_and_verify_an_account_from_the_keyboard(tmux_pane: TmuxPane, e2e_env) -> None:
    with FakeExchange() as fake:
        key = fake.key("bybit")
        key.permissions = frozenset({"read", "trade", "withdraw"})
        key.ips = ()

        tmux_pane.start_on_empty_accounts([installed_keylink()])
        tmux_pane.create_vault(VAULT_PASSPHRASE)
        tmux_pane.fill_add_form("Bybit e2e", fake.url)  # Bybit is the default exchange
        tmux_pane.step("Tab")  # -> API key (HMAC stays chosen)
        tmux_pane.step("Tab", text=key.api_key)  # -> secret
        tmux_pane.step("C-s", text=key.secret)

        tmux_pane.wait_for("Bybit e2e is saved")
        screen = tmux_pane.screen()
        assert key.secret not in screen
        tmux_pane.step("v")
        screen = tmux_pane.wait_for("Verification")
        tmux_pane.wait_for("Findings")
        screen = tmux_pane.screen()
        assert "withdraw" in screen.lower()
        assert "not bound to any IP" in screen
        tmux_pane.step("C-q")

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
