"""Served lists: fetch a terminal's list from its endpoint, show what changed, keep it once the
user accepts.

3Commas does not publish its addresses: its public ``market_list`` answer carries, per market,
``trusted_ips`` (addresses or CIDR ranges; the Binance set may change per connection attempt). A
refresh reads that answer, checks every piece of it, and compares it with the list in use. The
old list stays in use until the user accepts the new one; then the new list, its source address
and the day it was taken go to ``refreshed.json`` in the data dir. The shipped catalogue
(terminals.toml) is never written.

Everything that can go wrong with the answer (too slow, too large, not JSON, markup or control
characters, an entry that is not an address, more entries than the exchange takes) is a
RefreshError with one line, and nothing is changed.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from tui.services.core.hosts import is_loopback_host
from tui.services.core.text import clean

if TYPE_CHECKING:
    from tui.services.terminals.catalogue import Terminal, TerminalList

FILE_NAME = "refreshed.json"
#: A market list larger than this is not one (3Commas' is tens of KiB).
MAX_BYTES = 2 * 1024 * 1024
#: The whole fetch, connect to last byte, must end within this many seconds.
TIMEOUT = 15.0
_MAX_FILE = 4 * 1024 * 1024

#: 3Commas market codes of the exchanges keylink checks. Only "binance" and "okex" appear in the
#: docs' example; the "<exchange>_..." prefix rule for the others (bybit_spot,
#: binance_futures...) is UNCONFIRMED, so a market that matches neither is kept under its own
#: code (shown by --list, compared with no account) rather than guessed.
_MARKET_EXCHANGES = {"binance": "binance", "okex": "okx", "okx": "okx", "bybit": "bybit",
                     "bitget": "bitget"}
#: Separate exchanges whose codes start like one keylink checks.
_NOT_THE_SAME = ("binance_us", "binance_tr")
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,59}\Z")
_MARKUP = re.compile(r"[\[\]<>]")


class RefreshError(Exception):
    """The fetched list cannot be used; ``str()`` is one line. Nothing was changed."""


@dataclass(frozen=True)
class RefreshPlan:
    """A fetched list beside the one in use, not yet kept."""

    terminal: str
    list_id: str
    source: str
    #: The day it was taken (today, YYYY-MM-DD).
    taken: str
    old: dict[str, tuple[str, ...]]
    new: dict[str, tuple[str, ...]]

    def changes(self) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
        """Per market: (added, removed), only for markets whose list changed."""
        out: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
        for market in dict.fromkeys([*self.old, *self.new]):
            before, after = self.old.get(market, ()), self.new.get(market, ())
            added = tuple(a for a in after if a not in before)
            removed = tuple(a for a in before if a not in after)
            if added or removed:
                out[market] = (added, removed)
        return out


def refreshed_path(directory: Path | None = None) -> Path:
    from tui.services.core.paths import data_dir

    return (directory or data_dir()) / FILE_NAME


# -- reading and overlaying ----------------------------------------------------------------------

_cache: dict[Path, tuple[tuple[int, int], dict[str, Any]]] = {}


def load_refreshed(directory: Path | None = None) -> dict[str, Any]:
    """The kept refreshed lists by list id ({} when there are none, or the file is not ours:
    the shipped lists are then used, as before any refresh)."""
    from tui.services.core.private_files import RefusedFile, read_regular

    path = refreshed_path(directory)
    try:
        info = path.stat()
        stamp = (info.st_mtime_ns, info.st_size)
        cached = _cache.get(path)
        if cached and cached[0] == stamp:
            return cached[1]
        raw = json.loads(read_regular(path, _MAX_FILE).decode("utf-8"))
    except (OSError, RefusedFile, ValueError, RecursionError):
        return {}
    lists = raw.get("lists") if isinstance(raw, dict) else None
    result: dict[str, Any] = {}
    if isinstance(lists, dict):
        from tui.services.terminals.whitelist import WhitelistError

        for list_id, entry in lists.items():
            try:
                result[list_id] = _checked_entry(entry)
            except (TypeError, ValueError, KeyError, AttributeError, WhitelistError,
                    RefreshError):
                continue  # a damaged entry: its shipped list stays in use
    _cache[path] = (stamp, result)
    return result


def _checked_entry(entry: dict[str, Any]) -> dict[str, Any]:
    """A kept list read back, held to the rules its fetch was (the file may have been damaged
    or edited since): market codes and the source address as a fetch accepts them, the day a
    date, every address valid. ValueError (and kin) for anything else."""
    from tui.services.terminals.whitelist import parse_addresses

    if not all(isinstance(entry[k], str) for k in ("taken", "source")):
        raise TypeError
    if not all(isinstance(market, str) and _CODE.match(market) for market in entry["by_exchange"]):
        raise ValueError
    date.fromisoformat(entry["taken"])
    source = check_url(entry["source"])
    markets = {market: parse_addresses(",".join(items), source=market, ranges=True).addresses
               for market, items in entry["by_exchange"].items()}
    return {"taken": entry["taken"], "source": source, "by_exchange": markets}


def overlay(shipped: dict[str, Terminal]) -> dict[str, Terminal]:
    """The shipped terminals with each kept refreshed list in place of its shipped one."""
    kept = load_refreshed()
    if not kept:
        return shipped
    result = {}
    for key, item in shipped.items():
        lists = tuple(_overlaid(entry, kept.get(entry.id)) for entry in item.lists)
        result[key] = replace(item, lists=lists)
    return result


def _overlaid(entry: TerminalList, kept: dict[str, Any] | None) -> TerminalList:
    if kept is None or not entry.endpoint:
        return entry
    return replace(entry, by_exchange=dict(kept["by_exchange"]), date=kept["taken"],
                   source=f"fetched from {kept['source']}", source_url=kept["source"])


# -- fetching ------------------------------------------------------------------------------------


def check_url(url: str) -> str:
    """The URL if a list may be fetched from it: https, or http to this machine (tests)."""
    text = url.strip()
    if any(not ch.isprintable() or ch.isspace() for ch in text):
        raise RefreshError("the list's address has spaces or control characters in it")
    parts = urlsplit(text)
    host = parts.hostname or ""
    if parts.scheme == "https" and host:
        return text
    if parts.scheme == "http" and host and is_loopback_host(host):
        return text
    raise RefreshError(f"{clean(text, limit=80)}: only https:// addresses are fetched "
                       "(plain http only to this machine)")


def fetch(url: str, *, timeout: float = TIMEOUT, max_bytes: int = MAX_BYTES) -> bytes:
    """The body at ``url``; RefreshError for a slow, huge, redirected or failed answer."""
    import httpx

    url = check_url(url)
    shown = clean(url, limit=80)
    deadline = time.monotonic() + timeout
    try:
        with httpx.Client(timeout=httpx.Timeout(timeout), follow_redirects=False,
                          trust_env=False) as client, client.stream("GET", url) as answer:
            if answer.status_code != 200:
                raise RefreshError(f"{shown} answered HTTP {answer.status_code}, not the list")
            declared = answer.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise RefreshError(f"{shown} sent more than {max_bytes // 1024} KiB: not a list")
            chunks: list[bytes] = []
            size = 0
            for chunk in answer.iter_raw():
                size += len(chunk)
                if size > max_bytes:
                    raise RefreshError(f"{shown} sent more than {max_bytes // 1024} KiB: "
                                       "not a list")
                if time.monotonic() > deadline:
                    raise RefreshError(f"{shown} took more than {timeout:g} s: nothing changed")
                chunks.append(chunk)
            return b"".join(chunks)
    except httpx.TimeoutException:
        raise RefreshError(f"{shown} took more than {timeout:g} s: nothing changed") from None
    except httpx.HTTPError as exc:
        raise RefreshError(f"{shown} could not be fetched ({clean(type(exc).__name__)})") from None


def _market_exchange(code: str) -> str:
    lowered = code.lower()
    if lowered in _MARKET_EXCHANGES:
        return _MARKET_EXCHANGES[lowered]
    head = lowered.split("_", 1)[0]
    if head in _MARKET_EXCHANGES and not lowered.startswith(_NOT_THE_SAME):
        return _MARKET_EXCHANGES[head]
    return lowered


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise RefreshError(f"the answer's {what} is not text")
    if any(not ch.isprintable() for ch in value):
        raise RefreshError(f"the answer's {what} {clean(value, limit=40)} holds control "
                           "characters: not a list keylink will use")
    if _MARKUP.search(value):
        raise RefreshError(f"the answer's {what} {clean(value, limit=40)} holds markup: "
                           "not a list keylink will use")
    return value


def parse_market_list(body: bytes, source: str) -> dict[str, tuple[str, ...]]:
    """The ``trusted_ips`` of each market, by keylink exchange id (or the market's own code).

    RefreshError for anything that is not a market list as 3Commas documents it."""
    from tui.services.terminals.catalogue import max_entries
    from tui.services.terminals.whitelist import WhitelistError, parse_addresses

    shown = clean(source, limit=80)
    try:
        raw = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise RefreshError(f"{shown} did not answer with JSON: not a market list") from None
    if not isinstance(raw, list):
        raise RefreshError(f"{shown} did not answer with a list of markets")
    result: dict[str, list[str]] = {}
    for number, market in enumerate(raw, start=1):
        if not isinstance(market, dict):
            raise RefreshError(f"{shown}: market {number} is not an object")
        for key in ("market_name", "fast_connect_action_name"):
            if key in market and market[key] is not None:
                _text(market[key], key.replace("_", " "))
        code_value = market.get("market_code") or market.get("fast_connect_action_name")
        ips = market.get("trusted_ips")
        if ips is None:
            continue
        if not code_value:
            raise RefreshError(f"{shown}: market {number} has addresses but no market code")
        code = _text(code_value, "market code")
        if not _CODE.match(code):
            raise RefreshError(f"{shown}: market code {clean(code, limit=40)} is not a code")
        if not isinstance(ips, list):
            raise RefreshError(f"{shown}: the addresses of {code} are not a list")
        items = [_text(ip, f"address of {code}") for ip in ips]
        if not items:
            continue
        try:
            parsed = parse_addresses(",".join(items), source=f"{source} ({code})", ranges=True)
        except WhitelistError as exc:
            raise RefreshError(clean(str(exc), limit=200)) from None
        exchange_id = _market_exchange(code)
        merged = result.setdefault(exchange_id, [])
        merged.extend(a for a in parsed.addresses if a not in merged)
    if not result:
        raise RefreshError(f"{shown}: no market in the answer lists any address")
    for exchange_id, addresses in result.items():
        limit = max_entries(exchange_id)
        if len(addresses) > limit:
            raise RefreshError(f"{shown}: {len(addresses)} addresses for "
                               f"{clean(exchange_id)}, more than the {limit} a key can hold")
    return {market: tuple(addresses) for market, addresses in result.items()}


def served_list(item: Terminal) -> TerminalList:
    for entry in item.lists:
        if entry.endpoint:
            return entry
    raise RefreshError(f"{item.name} publishes no list endpoint keylink knows")


def plan(item: Terminal, url: str | None = None, *, timeout: float = TIMEOUT,
         max_bytes: int = MAX_BYTES) -> RefreshPlan:
    """Fetch ``item``'s served list (from ``url`` when given) and set it beside the one in use."""
    entry = served_list(item)
    source = check_url(url or entry.endpoint)
    body = fetch(source, timeout=timeout, max_bytes=max_bytes)
    new = parse_market_list(body, source)
    return RefreshPlan(terminal=item.id, list_id=entry.id, source=source,
                       taken=datetime.now(UTC).date().isoformat(),
                       old=dict(entry.by_exchange), new=new)


def accept(refresh: RefreshPlan, directory: Path | None = None) -> Path:
    """Keep the fetched list: it replaces the one in use (the shipped file is not touched)."""
    from tui.services.core.private_files import atomic_write, ensure_private_dir

    path = refreshed_path(directory)
    kept = dict(load_refreshed(directory))
    kept[refresh.list_id] = {"taken": refresh.taken, "source": refresh.source,
                             "by_exchange": {k: list(v) for k, v in refresh.new.items()}}
    ensure_private_dir(path.parent)
    body = {"lists": kept}  # each entry as _checked_entry gives it (json writes tuples as lists)
    atomic_write(path, (json.dumps(body, indent=2) + "\n").encode("utf-8"))
    _cache.pop(path, None)
    return path
