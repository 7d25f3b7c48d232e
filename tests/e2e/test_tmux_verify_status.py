"""A key linked to the terminal, verified from this machine, as a user sees it at 80x24: the
table says "locked" (not failed), the panel says what that proves, and `keylink verify` exits 0.
And `keylink verify` with a mistyped name says so before asking for any passphrase."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.tmux import TmuxPane, installed_keylink
from tests.fakes.exchange import FakeExchange

pytestmark = pytest.mark.tmux

VAULT_PASSPHRASE = "tmux vault passphrase 42"


def _add_linked_okx(fake: FakeExchange, env: dict[str, str]) -> None:
    key = fake.key("okx")
    subprocess.run(
        [sys.executable, "-m", "tui", "accounts", "add", "OKX linked", "--exchange", "okx",
         "--base-url", fake.url, "--whitelist", "linked"],
        input=f"{key.api_key}\n{key.secret}\n{key.passphrase}\n", capture_output=True, text=True,
        env={**env, "KEYLINK_SECRET_BACKEND": "vault",
             "KEYLINK_VAULT_PASSPHRASE": VAULT_PASSPHRASE},
        timeout=60, check=True,
    )


def test_a_linked_key_reads_locked_in_the_table_and_the_panel(tmp_path: Path, e2e_env) -> None:
    env = {**e2e_env, "KEYLINK_SECRET_BACKEND": "vault"}
    pane = TmuxPane(tmp_path, env, size=(80, 24))
    try:
        with FakeExchange() as fake:
            fake.key("okx").ips = ("10.20.30.40",)  # bound to the terminal's servers, not here
            _add_linked_okx(fake, e2e_env)
            pane.start([installed_keylink()])
            pane.wait_for("Set-up guide")
            pane.send("2")
            # The unlock dialog focuses its passphrase field when it mounts, before its first
            # paint: once its button shows, typing lands in the field.
            pane.wait_for("Unlock (enter)")
            pane.type(VAULT_PASSPHRASE)
            pane.send("Enter")
            pane.wait_for("OKX linked")
            pane.send("v")
            screen = pane.wait_for("locked to other addresses", timeout=30)
            assert "failed" not in screen.lower()
            # The status is on screen at 80 columns, in the table row itself.
            row = next(line for line in screen.splitlines() if "OKX linked" in line)
            assert "● locked" in row
            pane.step("Tab")  # to the report panel (its focus shows), then to its end
            pane.send("End")
            screen = pane.wait_for("Permissions:")
            assert "not readable from here" in screen
            pane.send("C-q")
    finally:
        pane.close()


def test_verify_names_a_missing_account_before_any_passphrase(tmux_pane: TmuxPane,
                                                              e2e_env) -> None:
    with FakeExchange() as fake:
        _add_linked_okx(fake, e2e_env)
    tmux_pane.env["KEYLINK_SECRET_BACKEND"] = "vault"
    tmux_pane.start([installed_keylink(), "verify", "Nope"])
    screen = tmux_pane.wait_for("Nope")
    assert "passphrase" not in screen.lower()
