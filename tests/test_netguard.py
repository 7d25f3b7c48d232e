"""The guard that keeps every test on this machine works, in this process and in a child."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import netguard


def _attempts() -> str:
    log = Path(os.environ[netguard.LOG_ENV])
    return log.read_text() if log.exists() else ""


def _forget() -> None:
    Path(os.environ[netguard.LOG_ENV]).unlink(missing_ok=True)  # this test made them on purpose


def test_a_lookup_or_connection_off_this_machine_is_refused_and_recorded() -> None:
    with pytest.raises(OSError, match="off this machine"):
        socket.getaddrinfo("api.bybit.com", 443)
    with socket.socket() as sock, pytest.raises(OSError, match="off this machine"):
        sock.connect(("203.0.113.7", 443))
    attempts = _attempts()
    _forget()
    assert "api.bybit.com" in attempts and "203.0.113.7" in attempts


def test_loopback_and_unix_sockets_pass() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.create_connection(server.getsockname(), timeout=5):
            pass
    assert socket.getaddrinfo("localhost", 80)
    assert _attempts() == ""


def test_a_python_child_is_guarded_too() -> None:
    code = ("import socket\ntry:\n    socket.getaddrinfo('api.okx.com', 443)\n"
            "except OSError as e:\n    print(e)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)
    attempts = _attempts()
    _forget()
    assert "off this machine" in done.stdout
    assert "api.okx.com" in attempts
