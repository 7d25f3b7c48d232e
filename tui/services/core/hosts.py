"""One loopback rule: which hosts are this machine.

A key may travel over plain ``http://`` only to this machine (a local test server). The account
form checks a custom address with this rule when it is saved, and the check applies it again
before anything is signed, because accounts.json can be edited by hand: both must agree.
"""

from __future__ import annotations

import ipaddress

__all__ = ["is_loopback_host"]


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1), as a URL's host names
    them (without brackets); False for every other name or address."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
