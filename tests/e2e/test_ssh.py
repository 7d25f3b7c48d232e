"""The whole flow as an SSH user has it: the installed keylink inside `ssh -tt` to a loopback
sshd, inside a local 80x24 tmux pane with set-clipboard on, no DISPLAY and no D-Bus, keyboard
only. Create the vault, add an account pointing at the fake exchange, verify it and read the
findings off the screen, copy the whitelist and find it in the local tmux paste buffer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.sshd import LoopbackSshd
from tests.e2e.tmux import TmuxPane, installed_keylink
from tests.fakes.exchange import FakeExchange
from tests.services.test_whitelist import GENERAL

pytestmark = pytest.mark.tmux

PASSPHRASE = "correct horse battery ssh"


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[LoopbackSshd]:
    server = LoopbackSshd(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_the_whole_flow_over_ssh_at_80x24(
    tmp_path: Path, e2e_env: dict[str, str], sshd: LoopbackSshd
) -> None:
    remote_env = {k: e2e_env[k] for k in ("HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME",
                                          "XDG_CACHE_HOME")}
    remote = sshd.wrapper(installed_keylink(), remote_env)
    local_env = {k: v for k, v in e2e_env.items()
                 if k not in ("DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS")}
    pane = TmuxPane(tmp_path, local_env, size=(80, 24))
    pane.step_limit = 2.0  # each step waits for its echo to come back over ssh
    try:
        with FakeExchange() as fake:
            key = fake.key("bybit")
            key.permissions = frozenset({"read", "trade", "withdraw"})
            key.ips = ()

            pane.start_on_empty_accounts(sshd.command([str(remote)]), timeout=30)
            pane.wait_for("Secrets: keylink vault, not created yet")
            pane.create_vault(PASSPHRASE, timeout=60)
            pane.fill_add_form("Bybit over ssh", fake.url)  # Bybit is the default exchange
            pane.step("Tab")  # -> API key (HMAC stays chosen)
            pane.step("Tab", text=key.api_key)  # -> secret
            pane.step("C-s", text=key.secret)

            pane.wait_for("Bybit over ssh is saved", timeout=30)
            assert key.secret not in pane.screen()
            pane.step("v")
            screen = pane.wait_for("Findings", timeout=30)
            screen = pane.screen()
            assert "withdraw" in screen.lower()
            assert key.secret not in screen

            pane.step("3")
            pane.wait_for("18.167.89.125")
            assert pane.buffer() is None
            pane.step("c")
            # keylink's OSC 52 went through ssh to the local tmux.
            assert pane.wait_for_buffer() == GENERAL
            pane.step("C-q")
    finally:
        pane.close()


def test_a_missing_sshd_fails_when_ci_requires_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.e2e import sshd as sshd_module

    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(sshd_module, "SBIN_DIRS", ())
    monkeypatch.setenv("KEYLINK_REQUIRE_SSHD", "1")
    with pytest.raises(pytest.fail.Exception, match="required"):
        sshd_module.require_sshd()
    monkeypatch.delenv("KEYLINK_REQUIRE_SSHD")
    with pytest.raises(pytest.skip.Exception):
        sshd_module.require_sshd()
