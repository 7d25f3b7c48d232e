"""What an account's key is compared with, and the lists an account keeps itself.

A terminal that shows each user (or each key) its own addresses, and a bot on the user's own
server, have no list keylink can ship: the user pastes the list, loads it from a file or types the
server's address, and it is kept with the account, dated. ``target_for`` then says, for verify,
which addresses an account's key should be bound to: the catalogue's list (as it stands today,
with any "next" addresses ahead), the account's own list, or none because the exchange binds the
key itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from tui.services.store.model import OwnList
from tui.services.terminals import catalogue, whitelist


def _today() -> str:
    return datetime.now(UTC).date().isoformat()


def own_list_from_text(text: str, source: str) -> OwnList:
    """An own list from pasted or typed text; WhitelistError (one line) for anything that is not
    a list of public addresses or ranges: a private or loopback address is never what an
    exchange sees."""
    parsed = whitelist.parse_addresses(text, source=source, ranges=True)
    return _checked(parsed.addresses, source)


def own_list_from_file(path: str | Path) -> OwnList:
    """An own list read from a file (the same checks as a whitelist file)."""
    parsed = whitelist.load_file(path)
    return _checked(parsed.addresses, f"file {Path(path).name}")


def _checked(addresses: tuple[str, ...], source: str) -> OwnList:
    import ipaddress

    from tui.services.core.text import clean

    for entry in addresses:
        network = ipaddress.ip_network(entry, strict=False)
        reason = whitelist.unroutable_reason(str(network.network_address))
        if reason:
            raise whitelist.WhitelistError(
                f"{clean(source)}: {entry} is {reason}; an exchange only sees public addresses")
    if len(addresses) > catalogue.max_entries("*"):
        raise whitelist.WhitelistError(f"{clean(source)}: {len(addresses)} addresses, more than "
                                       "an exchange takes in one key's list")
    return OwnList(addresses=addresses, taken=_today(), source=source)


# -- what verify compares --------------------------------------------------------------------------

#: How the key's bound addresses are judged (``verify --json``: whitelist.state).
COMPARED = "compared"
BOUND_BY_EXCHANGE = "bound-by-exchange"
NO_LIST = "no-list"


@dataclass(frozen=True)
class Target:
    """The addresses an account's key should be bound to, and where they come from."""

    #: COMPARED: ``addresses`` is the list; BOUND_BY_EXCHANGE: a link flow bound the key (not
    #: checkable from here); NO_LIST: nothing to compare with (and ``reason`` says why).
    state: str
    addresses: tuple[str, ...] = ()
    terminal: str | None = None
    list_id: str | None = None
    #: Where the list came from, in one line.
    provenance: str = ""
    #: Addresses taking over on ``next_date``, when that day is within the warning window.
    next: tuple[str, ...] = ()
    next_date: str = ""
    reason: str = ""


def target_for(account: Any, today: date | None = None) -> Target:
    """What ``account``'s key is compared with (see Target). Never raises: a list or terminal
    keylink no longer knows is a NO_LIST with its reason."""
    chosen = getattr(account, "whitelist", None) or catalogue.NO_LIST
    terminal_id = getattr(account, "terminal", None)
    exchange_id = account.exchange
    if chosen == catalogue.LINKED:
        return Target(BOUND_BY_EXCHANGE, terminal=terminal_id,
                      reason="the exchange bound the key for the terminal and does not show "
                      "the addresses")
    if chosen == catalogue.NO_LIST:
        # Chosen on purpose: nothing to say about it in a report.
        return Target(NO_LIST, terminal=terminal_id)
    if chosen == catalogue.OWN_LIST:
        own = getattr(account, "own_list", None)
        if own is None:
            return Target(NO_LIST, terminal=terminal_id,
                          reason="the account keeps no list of its own yet")
        return Target(COMPARED, tuple(own.addresses), terminal=terminal_id,
                      list_id=catalogue.OWN_LIST,
                      provenance=f"the account's own list ({own.source}, {own.taken})")
    try:
        entry = catalogue.find_list(chosen)
    except catalogue.CatalogueError:
        return Target(NO_LIST, terminal=terminal_id,
                      reason=f"keylink does not know the list {chosen!r}")
    now = today or datetime.now(UTC).date()
    current = entry.current(now)
    addresses = current.addresses_for(exchange_id)
    owner = terminal_id or entry.terminal
    if not addresses:
        why = ("it has not been fetched yet (keylink whitelist --refresh)" if entry.endpoint
               else "it has no addresses for this exchange")
        return Target(NO_LIST, terminal=owner, list_id=entry.id, reason=f"{entry.name}: {why}")
    due = current.rotation_due(now)
    return Target(COMPARED, addresses, terminal=owner, list_id=entry.id,
                  provenance=current.provenance,
                  next=current.next if due else (), next_date=current.next_date if due else "")
