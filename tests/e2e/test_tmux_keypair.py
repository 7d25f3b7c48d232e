"""Issue 11 from the keyboard at 80x24: generate an Ed25519 pair for Binance in the account form,
take the public key from the clipboard (OSC 52, as over SSH), register it with the fake exchange,
type the API key it assigns, save, verify."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.tmux import TmuxPane, installed_keylink
from tests.fakes.exchange import FakeExchange

pytestmark = pytest.mark.tmux

VAULT_PASSPHRASE = "correct horse battery e2e"


def test_generate_register_verify_from_the_keyboard(tmp_path: Path, e2e_env) -> None:
    pane = TmuxPane(tmp_path, e2e_env, size=(80, 24))
    try:
        with FakeExchange() as fake:
            pane.start([installed_keylink()])
            pane.wait_for("Set-up guide")
            pane.step("2")
            pane.wait_for("No accounts yet")
            pane.wait_for("Secrets: keylink vault")  # the store has been opened
            pane.create_vault(VAULT_PASSPHRASE)
            pane.fill_add_form("Binance pair", fake.url, exchange_prefix="Bina",
                               expect_host="api.binance.com")
            pane.step("Enter")
            pane.step("Enter", text="Ed")
            public_pem = pane.wait_for_buffer().strip()
            assert public_pem.startswith("-----BEGIN PUBLIC KEY-----")
            assert public_pem.endswith("-----END PUBLIC KEY-----")
            screen = pane.wait_for("-----END PUBLIC KEY-----")
            words = " ".join(screen.replace("█", "").split())  # the box's border out of the way
            assert "Register this public key on Binance" in words
            # Shown whole: every line of the copied key is on screen as it is.
            for line in public_pem.splitlines():
                assert line in screen
            key = fake.register_public_key("binance", public_pem)
            pane.step("Tab")  # -> API key
            pane.step("C-s", text=key.api_key)
            pane.wait_for("Binance pair is saved")
            pane.step("v")
            pane.wait_for("Findings")
            assert any(r.path.startswith("/sapi/") and
                       r.headers.get("x-mbx-apikey") == key.api_key for r in fake.requests)
            pane.step("C-q")
    finally:
        pane.close()
    for path in Path(e2e_env["HOME"]).rglob("*"):
        if path.is_file():
            assert b"PRIVATE KEY" not in path.read_bytes(), path
