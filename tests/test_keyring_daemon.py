"""The Secret Service fixture skips where the daemons cannot run, and fails instead in CI."""

from __future__ import annotations

import pytest

from tests.support.keyring_daemon import REQUIRE_ENV, KeyringDaemon, start_or_skip


def test_missing_binaries_skip(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no dbus-daemon or gnome-keyring-daemon here
    monkeypatch.delenv(REQUIRE_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match="dbus-daemon is not installed"):
        start_or_skip(KeyringDaemon(tmp_path / "d"))


def test_missing_binaries_fail_when_required(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv(REQUIRE_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match="required"):
        start_or_skip(KeyringDaemon(tmp_path / "d"))
