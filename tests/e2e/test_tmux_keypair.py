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
            pane.start_on_empty_accounts([installed_keylink()])
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


def test_rotate_to_a_new_pair_from_the_keyboard_keeps_the_old_key_until_it_works(
        tmp_path: Path, e2e_env) -> None:
    """Bybit RSA at 80x24: r, Key kind RSA, the public key from the clipboard; an API key of
    another public key is refused with the old key kept; the right one switches."""
    import subprocess
    import sys

    from tui.services.keys import keypairs

    env = {**e2e_env, "KEYLINK_SECRET_BACKEND": "vault"}
    pane = TmuxPane(tmp_path, env, size=(80, 24))
    try:
        with FakeExchange() as fake:
            old = keypairs.generate(keypairs.RSA)
            first = fake.register_public_key("bybit", old.public_pem)
            subprocess.run(
                [sys.executable, "-m", "tui", "accounts", "add", "Bybit pair", "--exchange",
                 "bybit", "--base-url", fake.url],
                input=f"{first.api_key}\n{old.private_pem}\n", capture_output=True, text=True,
                env={**env, "KEYLINK_VAULT_PASSPHRASE": VAULT_PASSPHRASE}, timeout=60,
                check=True)
            pane.start([installed_keylink()])
            pane.wait_for("Set-up guide")
            pane.step("2")
            pane.wait_for("Unlock")
            pane.step("Enter", text=VAULT_PASSPHRASE)
            pane.wait_for("Bybit pair")
            pane.step("r")
            pane.wait_for("New key for Bybit pair")
            pane.step("BTab")  # from the API key (focused first) back to the key kind
            pane.step("Enter")
            pane.step("Enter", text="RSA")
            public_pem = pane.wait_for_buffer().strip()
            assert public_pem.startswith("-----BEGIN PUBLIC KEY-----")
            pane.wait_for("-----END PUBLIC KEY-----")
            # A slip on the exchange's page: the API key of another public key.
            wrong = fake.register_public_key("bybit", keypairs.generate(keypairs.RSA).public_pem)
            pane.step("Tab")  # -> API key
            pane.step("C-s", text=wrong.api_key)
            screen = pane.wait_for("keeps its old key", timeout=30)
            assert "did not pass its check" in " ".join(screen.split())
            right = fake.register_public_key("bybit", public_pem)
            pane.step("C-u")  # clear the API key field
            pane.step("C-s", text=right.api_key)
            pane.wait_for("now uses the new key", timeout=30)
            pane.wait_for("works")
            pane.step("C-q")
    finally:
        pane.close()
    store_env_check = subprocess.run(
        [sys.executable, "-m", "tui", "copy", "Bybit pair", "--field", "key", "--print",
         "--force"], capture_output=True, text=True, timeout=60,
        env={**env, "KEYLINK_VAULT_PASSPHRASE": VAULT_PASSPHRASE})
    assert store_env_check.stdout.strip() == right.api_key, store_env_check.stderr
    for path in Path(e2e_env["HOME"]).rglob("*"):
        if path.is_file():
            assert b"PRIVATE KEY" not in path.read_bytes(), path
