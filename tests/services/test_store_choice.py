"""The stores keylink lists as usable (`doctor`, the app's `m`) are found as things are now: a
system keyring started after keylink is seen without a restart, and one gone is not listed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.services.store.choice import store_options


def _keyring_option(tmp_path: Path):
    return {o.name: o for o in store_options(str(tmp_path / "vault.json"))}["keyring"]


def test_a_keyring_started_or_gone_since_is_seen(keyring_daemon, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # no keyring config file
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)  # a bare ssh session
    before = _keyring_option(tmp_path)
    assert not before.usable, before
    for key, value in keyring_daemon.env.items():  # the user starts their keyring
        monkeypatch.setenv(key, value)
    after = _keyring_option(tmp_path)
    assert after.usable and "SecretService" in after.detail, after
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS")  # and it is gone again
    assert not _keyring_option(tmp_path).usable
