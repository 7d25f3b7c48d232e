"""A private Secret Service for tests: dbus-daemon + gnome-keyring-daemon in a temp HOME.

Nothing touches the developer's own session bus or keyrings: the bus is a fresh ``dbus-daemon
--session`` and the keyring files live under the given directory.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

REQUIRE_ENV = "KEYLINK_REQUIRE_SECRET_SERVICE"
KEYRING_PASSWORD = "keylink-test-login-password"


class KeyringDaemonUnavailable(RuntimeError):
    """dbus-daemon or gnome-keyring-daemon is not installed or would not start."""


class KeyringDaemon:
    """A private session bus with gnome-keyring's Secret Service on it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.home = root / "home"
        self.data = root / "data"
        self.runtime = root / "run"
        self.address = ""
        self._bus_pid: int | None = None
        self._keyring: subprocess.Popen[bytes] | None = None

    @property
    def env(self) -> dict[str, str]:
        """What a process needs to talk to this Secret Service (merge into os.environ)."""
        return {"DBUS_SESSION_BUS_ADDRESS": self.address}

    def _base_env(self) -> dict[str, str]:
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.home),
            "XDG_DATA_HOME": str(self.data),
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "XDG_RUNTIME_DIR": str(self.runtime),
            "DBUS_SESSION_BUS_ADDRESS": self.address,
        }

    def start(self) -> None:
        for tool in ("dbus-daemon", "gnome-keyring-daemon"):
            if shutil.which(tool) is None:
                raise KeyringDaemonUnavailable(f"{tool} is not installed")
        for directory in (self.home, self.data, self.runtime):
            directory.mkdir(parents=True, exist_ok=True)
            directory.chmod(0o700)
        # Our own bus config: like a session bus, but with no service activation, so nothing but
        # the daemon we start (and stop) can ever answer as the Secret Service.
        config = self.root / "bus.conf"
        config.write_text(
            "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
            ' "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">\n'
            "<busconfig><type>session</type>"
            f"<listen>unix:dir={self.runtime}</listen><auth>EXTERNAL</auth>"
            '<policy context="default"><allow send_destination="*" eavesdrop="true"/>'
            '<allow eavesdrop="true"/><allow own="*"/></policy></busconfig>\n'
        )
        out = subprocess.run(
            [
                "dbus-daemon",
                f"--config-file={config}",
                "--fork",
                "--nopidfile",
                "--print-address=1",
                "--print-pid=1",
            ],
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.home)},
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
        lines = out.stdout.split()
        if out.returncode != 0 or len(lines) < 2:
            raise KeyringDaemonUnavailable(f"dbus-daemon did not start: {out.stderr.strip()}")
        self.address, self._bus_pid = lines[0], int(lines[1])
        self.start_keyring(unlock=True)

    def start_keyring(self, *, unlock: bool = True) -> None:
        """Start gnome-keyring-daemon (login keyring unlocked with the test password, or locked)."""
        args = ["gnome-keyring-daemon", "--foreground", "--components=secrets"]
        if unlock:
            args.append("--unlock")
        self._keyring = subprocess.Popen(
            args,
            env=self._base_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        assert self._keyring.stdin is not None
        if unlock:
            self._keyring.stdin.write(KEYRING_PASSWORD.encode())
        self._keyring.stdin.close()
        self._wait_for_service()

    def _wait_for_service(self, timeout: float = 15.0) -> None:
        from jeepney import DBus
        from jeepney.io.blocking import open_dbus_connection

        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            if self._keyring is not None and self._keyring.poll() is not None:
                raise KeyringDaemonUnavailable("gnome-keyring-daemon exited at start")
            try:
                with contextlib.closing(open_dbus_connection(self.address)) as connection:
                    # NameHasOwner, not "activatable": the bus could start a daemon of its own.
                    reply = connection.send_and_get_reply(
                        DBus().NameHasOwner("org.freedesktop.secrets"), timeout=5
                    )
                    if reply.body[0]:
                        return
            except Exception as exc:  # the bus or daemon is not up yet
                last = f"{type(exc).__name__}: {exc}"
            time.sleep(0.05)
        raise KeyringDaemonUnavailable(f"the Secret Service did not come up ({last})")

    def stop_keyring(self) -> None:
        if self._keyring is not None and self._keyring.poll() is None:
            self._keyring.terminate()
            try:
                self._keyring.wait(10)
            except subprocess.TimeoutExpired:
                self._keyring.kill()
                self._keyring.wait(10)
        self._keyring = None

    def restart_keyring(self, *, unlock: bool = True) -> None:
        self.stop_keyring()
        self.start_keyring(unlock=unlock)

    def lock(self) -> None:
        """Lock the default collection (what a screensaver or `secret-tool lock` does)."""
        import secretstorage
        from jeepney.io.blocking import open_dbus_connection

        with contextlib.closing(open_dbus_connection(self.address)) as connection:
            collection = secretstorage.get_default_collection(connection)
            collection.lock()
            assert collection.is_locked()

    def stop(self) -> None:
        self.stop_keyring()
        if self._bus_pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._bus_pid, signal.SIGTERM)
            self._bus_pid = None


def start_or_skip(daemon: KeyringDaemon) -> None:
    """Start ``daemon``; skip the test when that cannot work here, but fail when
    KEYLINK_REQUIRE_SECRET_SERVICE=1 (CI installs the packages and must run these tests)."""
    import pytest

    try:
        daemon.start()
    except KeyringDaemonUnavailable as exc:
        daemon.stop()
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"Secret Service required ({REQUIRE_ENV}=1) but unavailable: {exc}")
        pytest.skip(f"no Secret Service for tests: {exc}")
