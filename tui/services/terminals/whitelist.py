"""Terminal server IP lists: the shipped profiles, user-loaded files, formats, and comparison.

An exchange's IP field takes a comma-separated list with no spaces, so that is the default format.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from tui.services.core.text import clean

DEFAULT_PROFILE = "insilico-general"
FORMATS = ("comma", "lines", "space")
FORMAT_LABELS = {
    "comma": "comma-separated",
    "lines": "one per line",
    "space": "space-separated",
    "json": "JSON array",
}
#: A whitelist file bigger than this is not a whitelist (and would stall the UI).
MAX_FILE_BYTES = 256 * 1024
#: How many bad lines an error message names before it summarises the rest.
_NAMED_BAD_LINES = 5


@dataclass(frozen=True)
class Profile:
    """A terminal's published server addresses, with where and when they were taken from."""

    id: str
    name: str
    terminal: str
    exchanges: tuple[str, ...]
    source: str
    #: Where the list was published ("" when no public address is known).
    source_url: str
    #: The day the list was taken from its source (YYYY-MM-DD; "" for an undated page).
    date: str
    addresses: tuple[str, ...]
    #: False for a list copied from a page that is not the vendor's own.
    official: bool = True


@dataclass(frozen=True)
class LoadResult:
    """Addresses read from text or a file: unique, in their original order."""

    addresses: tuple[str, ...]
    duplicates: tuple[str, ...]
    source: str


class WhitelistError(Exception):
    """A whitelist could not be read. ``str(exc)`` is one message that names the bad lines."""

    def __init__(self, message: str, bad_lines: tuple[tuple[int, str, str], ...] = ()) -> None:
        super().__init__(message)
        self.bad_lines = bad_lines


def profiles() -> dict[str, Profile]:
    """The published lists of the terminal catalogue (tui/content/terminals.toml), by list id.

    The old whitelist profile ids (``insilico-general``, ``insilico-bitget``) are list ids there,
    so accounts and scripts that name them keep working. Lists the user fills in (per user,
    self-hosted) and served lists not yet fetched have no addresses and are left out."""
    from tui.services.terminals import catalogue

    result: dict[str, Profile] = {}
    for item in catalogue.terminals().values():
        for entry in item.lists:
            addresses = entry.addresses_for()
            if not addresses:
                continue
            result[entry.id] = Profile(
                id=entry.id, name=entry.name, terminal=item.name,
                exchanges=tuple(entry.by_exchange) or entry.exchanges,
                source=entry.source if entry.official else f"unofficial copy: {entry.source}",
                source_url=entry.source_url, date=entry.date, addresses=addresses,
                official=entry.official,
            )
    return result


def profile(profile_id: str) -> Profile:
    """The published list with this id; KeyError naming the known ids otherwise."""
    try:
        return profiles()[profile_id]
    except KeyError:
        known = ", ".join(profiles())
        raise KeyError(f"unknown whitelist profile {profile_id!r} (known: {known})") from None


#: A published list older than this may have changed since: say so.
STALE_AFTER_DAYS = 365


def age_in_days(profile_date: str, today: date | None = None) -> int | None:
    """How many days old a profile's date is (None when the date does not parse)."""
    try:
        taken = date.fromisoformat(profile_date)
    except ValueError:
        return None
    return ((today or date.today()) - taken).days


def stale_warning(profile_date: str, today: date | None = None) -> str | None:
    """A warning when a list is more than a year old, else None."""
    age = age_in_days(profile_date, today)
    if age is None or age <= STALE_AFTER_DAYS:
        return None
    years = age // 365
    span = "over a year" if years < 2 else f"over {years} years"
    return (f"Taken {span} ago: the servers may have changed. Check the source and load "
            "a newer list if it differs.")


def unroutable_reason(address: str) -> str | None:
    """Why no exchange would accept ``address`` in a key's IP list, or None when it could.

    Exchanges see the public address a request comes from, so loopback, private, link-local and
    documentation-only addresses can never match.
    """
    ip = ipaddress.ip_address(address)
    if ip.is_loopback:
        return "loopback (this machine only)"
    if ip.is_link_local:
        return "link-local"
    if ip.is_private and not ip.is_global:
        documentation = any(ip in net for net in _DOCUMENTATION_NETS)
        return "reserved for documentation" if documentation else "private (not on the internet)"
    if ip.is_multicast or ip.is_unspecified or ip.is_reserved or not ip.is_global:
        return "not a public internet address"
    return None


_DOCUMENTATION_NETS = tuple(ipaddress.ip_network(n) for n in (
    "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32",
))


def unroutable(addresses: Iterable[str]) -> list[tuple[str, str]]:
    """(address, why) for each address no exchange would accept, in list order."""
    found = []
    for address in addresses:
        reason = unroutable_reason(address)
        if reason:
            found.append((address, reason))
    return found


_SEPARATORS = re.compile(r"[,;\s]+")


def _check_address(token: str, ranges: bool = False) -> str | None:
    """Why ``token`` is not a single host address (or, with ``ranges``, a network), or None."""
    try:
        ipaddress.ip_address(token)
    except ValueError:
        pass
    else:
        return None
    try:
        network = ipaddress.ip_network(token, strict=False)
    except ValueError:
        return "not an IP address"
    if network.num_addresses == 1 or ranges:
        return None
    return "a network range, not a single address"


def parse_addresses(text: str, source: str = "text", *, ranges: bool = False) -> LoadResult:
    """Read addresses separated by commas, spaces or line breaks; ``#`` starts a comment.

    Every entry is checked with :mod:`ipaddress`; ``ranges`` also takes networks (``1.2.3.0/24``:
    a served list may hold them, and exchanges take them). Raises WhitelistError naming each bad
    line; duplicates are dropped (and reported in the result) rather than refused.
    """
    bad: list[tuple[int, str, str]] = []
    seen: dict[str, None] = {}
    duplicates: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        content = line.split("#", 1)[0]
        for token in filter(None, _SEPARATORS.split(content.strip())):
            reason = _check_address(token, ranges)
            if reason:
                bad.append((number, token, reason))
                continue
            network = ipaddress.ip_network(token, strict=False)
            address = (str(network.network_address) if network.num_addresses == 1
                       else str(network))
            if address in seen:
                duplicates.append(address)
            else:
                seen[address] = None
    if bad:
        named = "; ".join(f"line {n}: {clean(repr(text), limit=60)} is {why}"
                          for n, text, why in bad[:_NAMED_BAD_LINES])
        more = len(bad) - _NAMED_BAD_LINES
        suffix = f"; and {more} more" if more > 0 else ""
        raise WhitelistError(f"{clean(source)}: {named}{suffix}", tuple(bad))
    if not seen:
        raise WhitelistError(f"{clean(source)}: no IP addresses found")
    return LoadResult(tuple(seen), tuple(duplicates), source)


#: Paths that name a descriptor this process already has (the command line's ``--file -``,
#: ``/dev/stdin``, a shell's ``<(cmd)``): read through that descriptor, never opened again.
_OWN_FD = re.compile(r"(?:/dev/fd/|/proc/self/fd/)(\d+)\Z")


def _own_descriptor(path: str) -> int | None:
    if path in ("-", "/dev/stdin"):
        return 0
    match = _OWN_FD.match(path)
    return int(match.group(1)) if match else None


def _read_descriptor(fd: int, shown: str) -> bytes:
    """Up to MAX_FILE_BYTES + 1 bytes from an inherited descriptor: a pipe, a socket or a
    redirected file; a terminal or device is refused (it would wait for typing or never end)."""
    own = os.dup(fd)  # OSError (EBADF) when there is no such descriptor
    try:
        mode = os.fstat(own).st_mode
        if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)):
            raise WhitelistError(f"{shown}: not a pipe or a regular file (a terminal or device); "
                                 "pipe the list in, or save it to a text file")
        chunks: list[bytes] = []
        size = 0
        while size <= MAX_FILE_BYTES and (chunk := os.read(own, 1 << 16)):
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)
    finally:
        os.close(own)


def load_file(path: str | Path, *, allow_pipe: bool = False) -> LoadResult:
    """Read a user's whitelist file; every failure is a WhitelistError with a clear message.

    Only regular files are read, through the same check as every other file keylink reads
    (``private_files.read_regular``: no FIFO, device or terminal is ever opened, the size is
    capped). A named pipe (mkfifo) is refused too: opening one waits until something writes to
    it, which may be never. ``allow_pipe`` (the command line) also takes ``-``, ``/dev/stdin`` or
    ``/dev/fd/N``: a pipe keylink already holds, read with the same size cap. Paths in messages
    are shown escaped.
    """
    from tui.services.core.private_files import RefusedFile, read_regular

    raw = os.fspath(path)
    own_fd = _own_descriptor(raw) if allow_pipe else None
    file = Path(path).expanduser()
    shown = "standard input" if own_fd == 0 else clean(file)
    too_large = WhitelistError(
        f"{shown}: too large for a whitelist (over {MAX_FILE_BYTES // 1024} KiB)"
    )
    try:
        if own_fd is not None:
            data = _read_descriptor(own_fd, shown)
        else:
            # stat() first: it never blocks, so a FIFO or a terminal is refused before any open().
            info = file.stat()
            if stat.S_ISDIR(info.st_mode):
                raise IsADirectoryError
            if stat.S_ISFIFO(info.st_mode):
                hint = (" (to pipe a list in, use --file -)" if allow_pipe
                        else "; save the list to a text file and load that")
                raise WhitelistError(f"{shown}: not a regular file but a named pipe, which keylink "
                                     f"does not wait on{hint}")
            if not stat.S_ISREG(info.st_mode):
                raise WhitelistError(f"{shown}: not a regular file (a pipe, terminal or device); "
                                     "save the list to a text file and load that")
            if info.st_size > MAX_FILE_BYTES:
                raise too_large
            # The shared reader checks again what it opened (O_NONBLOCK, O_NOFOLLOW, fstat):
            # a path swapped for a FIFO or a link since stat() is refused, not waited on.
            data = read_regular(file.resolve(), MAX_FILE_BYTES)
        if len(data) > MAX_FILE_BYTES:
            raise too_large
    except RefusedFile as exc:
        if "limit" in str(exc):
            raise too_large from None
        raise WhitelistError(f"{shown}: not a regular file; nothing was read") from None
    except FileNotFoundError:
        raise WhitelistError(f"{shown}: no such file") from None
    except IsADirectoryError:
        raise WhitelistError(f"{shown}: is a folder, not a file") from None
    except PermissionError:
        raise WhitelistError(f"{shown}: not allowed to read it") from None
    except OSError as exc:
        raise WhitelistError(f"{shown}: cannot read it ({clean(exc.strerror or exc)})") from None
    except ValueError:  # a NUL byte in the path: no file can have that name
        raise WhitelistError(f"{shown}: not a usable path (it holds a NUL character)") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise WhitelistError(f"{shown}: not a text file") from None
    return parse_addresses(text, source="standard input" if own_fd == 0 else str(file))


def format_addresses(addresses: Iterable[str], fmt: str = "comma") -> str:
    """The addresses as text: ``comma`` (what an exchange's IP field takes), ``lines``,
    ``space`` or ``json``."""
    items = list(addresses)
    if fmt == "comma":
        return ",".join(items)
    if fmt == "lines":
        return "\n".join(items)
    if fmt == "space":
        return " ".join(items)
    if fmt == "json":
        return json.dumps(items)
    raise ValueError(f"unknown format {fmt!r} (use one of: {', '.join(FORMAT_LABELS)})")
