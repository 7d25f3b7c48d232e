"""Tests never send traffic off this machine: a guard on name lookups and connections.

Installed for every test (tests/conftest.py) and, through ``netguard_site/sitecustomize.py`` on
PYTHONPATH, in every Python process a test starts (the CLI, the app in tmux). A lookup of a name
that is not loopback, or a connection to an address that is not, is refused with an OSError *and*
written down: a test whose code swallows the error as "the exchange is unreachable" still fails,
because the fixture reads the record afterwards. Unix sockets (D-Bus, the keyring daemon, tmux)
are local by nature and pass.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
import traceback
from typing import Any

#: Where every process of one test writes what it tried (one line each).
LOG_ENV = "KEYLINK_TEST_NETGUARD_LOG"
_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
_installed: dict[str, Any] = {}


def is_loopback(host: Any) -> bool:
    if host is None:
        return True  # getaddrinfo(None, port): a local wildcard, used to listen
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    name = str(host).strip("[]").lower().rstrip(".")
    if name in _LOOPBACK_NAMES or name in {"", "0.0.0.0", "::"}:
        return True
    try:
        return ipaddress.ip_address(name.split("%")[0]).is_loopback
    except ValueError:
        return False


def _record(what: str) -> None:
    path = os.environ.get(LOG_ENV)
    where = "".join(traceback.format_stack(limit=8)[:-2])
    if path:
        try:
            with open(path, "a", encoding="utf-8") as log:
                log.write(f"{os.getpid()} {sys.argv[:2]!r}: {what}\n{where}\n")
        except OSError:
            pass


def _refuse(what: str) -> OSError:
    _record(what)
    return OSError(f"keylink tests: traffic off this machine refused ({what})")


def install() -> None:
    """Guard this process (idempotent)."""
    if _installed:
        return
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not is_loopback(host):
            raise _refuse(f"name lookup of {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    def _check(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback(address[0]):
            raise _refuse(f"connection to {address!r}")

    def connect(self: socket.socket, address: Any) -> None:
        _check(self, address)
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        _check(self, address)
        return real_connect_ex(self, address)

    socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]
    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    _installed.update(getaddrinfo=real_getaddrinfo, connect=real_connect,
                      connect_ex=real_connect_ex)
