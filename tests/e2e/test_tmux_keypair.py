"""Issue 11 from the keyboard at 80x24: generate an Ed25519 pair for Binance in the account form,
take the public key from the clipboard (OSC 52, as over SSH), register it with the fake exchange,
type the API key it assigns, save, verify."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.e2e.tmux import TmuxPane, installed_keylink
from tests.fakes.exchange import FakeExchange

pytestmark = pytest.mark.tmux

VAULT_PASSPHRASE = "correct horse battery e2e"


def _step(pane: TmuxPane, *keys: str, text: str | None = None) -> None:
    if text is not None:
        pane.type(text)
    if keys:
        pane.send(*keys)
    time.sleep(0.3)


def test_generate_register_verify_from_the_keyboard(tmp_path: Path, e2e_env) -> None:
    pane = TmuxPane(tmp_path, e2e_env, size=(80, 24))
    try:
        with FakeExchange() as fake:
            pane.start([installed_keylink()])
            pane.wait_for("Set-up guide")
            _step(pane, "2")
            pane.wait_for("No accounts yet")
            pane.wait_for("Secrets: keylink vault")  # the store has been opened
            _step(pane, "a")
            pane.wait_for("Create keylink's vault")
            _step(pane, "Tab", text=VAULT_PASSPHRASE)
            _step(pane, "Enter", text=VAULT_PASSPHRASE)
            pane.wait_for("Add an account")
            _step(pane, "Tab", text="Binance pair")  # -> exchange
            _step(pane, "Enter")
            _step(pane, "Enter", text="Bina")
            pane.wait_for("api.binance.com")
            _step(pane, "Tab")  # -> environment
            _step(pane, "Enter")
            _step(pane, "End")
            _step(pane, "Enter")
            pane.wait_for("Base URL")
            _step(pane, "Tab")  # -> base URL
            _step(pane, "Tab", text=fake.url)  # -> whitelist
            _step(pane, "Tab")  # -> key kind
            _step(pane, "Enter")
            _step(pane, "Enter", text="Ed")
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
            _step(pane, "Tab")  # -> API key
            _step(pane, "C-s", text=key.api_key)
            pane.wait_for("Binance pair is saved")
            _step(pane, "v")
            pane.wait_for("Findings")
            assert any(r.path.startswith("/sapi/") and
                       r.headers.get("x-mbx-apikey") == key.api_key for r in fake.requests)
            _step(pane, "C-q")
    finally:
        pane.close()
    for path in Path(e2e_env["HOME"]).rglob("*"):
        if path.is_file():
            assert b"PRIVATE KEY" not in path.read_bytes(), path
