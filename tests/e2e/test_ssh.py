"""The whole flow as an SSH user has it: the installed keylink inside `ssh -tt` to a loopback
sshd, inside a local 80x24 tmux pane with set-clipboard on, no DISPLAY and no D-Bus, keyboard
only. Create the vault, add an account pointing at the fake exchange, verify it and read the
findings off the screen, copy the whitelist and find it in the local tmux paste buffer."""

from __future__ import annotations

import time
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


def _step(pane: TmuxPane, *keys: str, text: str | None = None) -> None:
    # A person's pace: the echo of each key comes back over ssh before the next one.
    if text is not None:
        pane.type(text)
    if keys:
        pane.send(*keys)
    time.sleep(0.4)


def test_the_whole_flow_over_ssh_at_80x24(
    tmp_path: Path, e2e_env: dict[str, str], sshd: LoopbackSshd
) -> None:
    remote_env = {k: e2e_env[k] for k in ("HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME",
                                          "XDG_CACHE_HOME")}
    remote = sshd.wrapper(installed_keylink(), remote_env)
    local_env = {k: v for k, v in e2e_env.items()
                 if k not in ("DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS")}
    pane = TmuxPane(tmp_path, local_env, size=(80, 24))
    try:
        with FakeExchange() as fake:
            key = fake.key("bybit")
            key.permissions = frozenset({"read", "trade", "withdraw"})
            key.ips = ()

            pane.start(sshd.command([str(remote)]))
            pane.wait_for("Set-up guide", timeout=30)
            _step(pane, "2")
            pane.wait_for("Secrets: keylink vault, not created yet")
            _step(pane, "a")
            pane.wait_for("Create keylink's vault")
            _step(pane, "Tab", text=PASSPHRASE)
            _step(pane, "Enter", text=PASSPHRASE)

            pane.wait_for("Add an account", timeout=60)
            _step(pane, "Tab", text="Bybit over ssh")  # -> exchange (Bybit is the default)
            _step(pane, "Tab")  # -> environment
            _step(pane, "Enter")
            _step(pane, "End")
            _step(pane, "Enter")
            pane.wait_for("Base URL")
            _step(pane, "Tab")  # -> base URL
            _step(pane, "Tab", text=fake.url)  # -> whitelist
            _step(pane, "Tab")  # -> key kind (HMAC stays chosen)
            _step(pane, "Tab")  # -> API key
            _step(pane, "Tab", text=key.api_key)  # -> secret
            _step(pane, "C-s", text=key.secret)

            pane.wait_for("Bybit over ssh is saved", timeout=30)
            assert key.secret not in pane.screen()
            _step(pane, "v")
            screen = pane.wait_for("Findings", timeout=30)
            screen = pane.screen()
            assert "withdraw" in screen.lower()
            assert key.secret not in screen

            _step(pane, "3")
            pane.wait_for("18.167.89.125")
            assert pane.buffer() is None
            _step(pane, "c")
            # keylink's OSC 52 went through ssh to the local tmux.
            assert pane.wait_for_buffer() == GENERAL
            _step(pane, "C-q")
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
