"""A loopback sshd for the end-to-end test: key auth only, 127.0.0.1 on a free port, its own
config, host key and authorized_keys in a temp dir."""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

import pytest

#: Where sshd lives when /usr/sbin is not on PATH (a non-root user's usual PATH).
SBIN_DIRS = ("/usr/sbin", "/sbin")


def require_sshd() -> tuple[str, str, str]:
    """sshd, ssh and ssh-keygen; skip without them, unless CI says the ssh test must run."""
    search = os.pathsep.join([os.environ.get("PATH", ""), *SBIN_DIRS])
    found = [shutil.which(name, path=search) for name in ("sshd", "ssh", "ssh-keygen")]
    sshd, ssh, keygen = found
    if sshd is None or ssh is None or keygen is None:
        if os.environ.get("KEYLINK_REQUIRE_SSHD") == "1":
            pytest.fail("openssh-server is required here (KEYLINK_REQUIRE_SSHD=1) but sshd, ssh "
                        "or ssh-keygen is missing")
        pytest.skip("openssh-server (sshd) is not installed")
    return sshd, ssh, keygen


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LoopbackSshd:
    """sshd on 127.0.0.1 that lets the current user in with one generated key."""

    def __init__(self, tmp: Path) -> None:
        self.sshd, self.ssh, keygen = require_sshd()
        self.dir = tmp / "sshd"
        self.dir.mkdir(mode=0o700)
        self.port = _free_port()
        self.host_key = self.dir / "host_ed25519"
        self.client_key = self.dir / "client_ed25519"
        for key in (self.host_key, self.client_key):
            subprocess.run([keygen, "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
        authorized = self.dir / "authorized_keys"
        authorized.write_text(self.client_key.with_suffix(".pub").read_text())
        authorized.chmod(0o600)
        self.config = self.dir / "sshd_config"
        self.config.write_text(
            f"Port {self.port}\n"
            "ListenAddress 127.0.0.1\n"
            f"HostKey {self.host_key}\n"
            f"PidFile {self.dir / 'sshd.pid'}\n"
            f"AuthorizedKeysFile {authorized}\n"
            "PubkeyAuthentication yes\n"
            "PasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\n"
            # Root in CI: keys only. PAM and the ownership checks of a real install are not
            # part of this test's machine (the temp dir belongs to the test).
            "PermitRootLogin prohibit-password\n"
            "UsePAM no\n"
            "StrictModes no\n"
            "X11Forwarding no\n"
            "AllowAgentForwarding no\n"
            "PrintMotd no\n"
            "PrintLastLog no\n"
            f"AllowUsers {_user()}\n"
            "LogLevel ERROR\n"
        )
        self.known_hosts = self.dir / "known_hosts"
        host_pub = self.host_key.with_suffix(".pub").read_text().split()
        self.known_hosts.write_text(f"[127.0.0.1]:{self.port} {host_pub[0]} {host_pub[1]}\n")
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        if os.geteuid() == 0:
            # sshd started as root wants its privilege-separation folder (the package's
            # service unit makes it at boot; a container has no boot).
            Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        self.process = subprocess.Popen(
            [self.sshd, "-D", "-e", "-f", str(self.config)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                error = self.process.stderr.read().decode(errors="replace") if (
                    self.process.stderr) else ""
                raise AssertionError(f"sshd exited at start: {error}")
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise AssertionError("sshd did not listen within 10 s")

    def command(self, remote: list[str]) -> list[str]:
        """The ssh client command that runs ``remote`` on this server in a terminal."""
        return [
            self.ssh, "-tt", "-F", "/dev/null",
            "-i", str(self.client_key), "-p", str(self.port),
            "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
            "-o", f"UserKnownHostsFile={self.known_hosts}", "-o", "StrictHostKeyChecking=yes",
            "-o", "LogLevel=ERROR",
            f"{_user()}@127.0.0.1", shlex.join(remote),
        ]

    def wrapper(self, program: str, env: Mapping[str, str]) -> Path:
        """A script on the "remote" side that gives ``program`` the session's environment
        (sshd passes almost nothing through) and no display or session bus."""
        script = self.dir / "remote-keylink"
        exports = "\n".join(f"export {k}={shlex.quote(v)}" for k, v in env.items())
        script.write_text(
            "#!/bin/sh\n"
            "unset DISPLAY WAYLAND_DISPLAY DBUS_SESSION_BUS_ADDRESS\n"
            f"{exports}\n"
            f"exec {shlex.quote(program)}\n"
        )
        script.chmod(0o755)
        return script

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()


def _user() -> str:
    import pwd

    return pwd.getpwuid(os.getuid()).pw_name
