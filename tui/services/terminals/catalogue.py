"""The terminal catalogue: every trading terminal keylink knows, how it binds keys on each
exchange, its IP lists with their provenance, and its account form.

Read from tui/content/terminals.toml (shipped, never written) and overlaid with the lists the user
refreshed from a terminal's endpoint (``refresh``; kept in the data dir). Terminals differ in how
they hand out addresses, so the binding is per exchange: a link flow the exchange runs (the user
never sees the addresses), a published list, a served list, a list per user, or the user's own
server.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from enum import StrEnum
from functools import cache
from typing import Any

from tui.content import shipped_text


class Binding(StrEnum):
    """How a terminal's servers get onto a key's IP list on one exchange."""

    LINK = "link"
    MANUAL = "manual"
    SERVED = "served"
    PER_USER = "per-user"
    SELF_HOSTED = "self-hosted"
    NONE = "none"


#: One line per binding, for lists and the CLI.
BINDING_WORDS: dict[Binding, str] = {
    Binding.LINK: "the exchange's link flow binds the key (addresses not shown)",
    Binding.MANUAL: "paste the terminal's published list",
    Binding.SERVED: "paste the list the terminal serves (keylink whitelist --refresh)",
    Binding.PER_USER: "paste the list the terminal shows you in its app",
    Binding.SELF_HOSTED: "bind the key to your own server's public address",
    Binding.NONE: "no per-key IP whitelist on this exchange",
}

#: Bindings whose addresses live with the account (typed, pasted or loaded), not in a list.
OWN_LIST_BINDINGS = frozenset({Binding.PER_USER, Binding.SELF_HOSTED})
#: How close to a list's "next" date verify starts to warn about a key that lacks them.
ROTATION_WARNING_DAYS = 7
#: The items of a terminal's account form, in its order.
FIELD_ITEMS = ("name", "api_key", "secret", "passphrase")
_GENERIC_FIELDS = {"name": "Name", "api_key": "API key", "secret": "API secret",
                   "passphrase": "Passphrase"}


class CatalogueError(Exception):
    """A terminal or list name keylink does not know; the message names the known ones."""


@dataclass(frozen=True)
class TerminalList:
    """One list of a terminal's server addresses, with where and when it was taken."""

    id: str
    name: str
    terminal: str
    #: Exchange ids it applies to; ("*",) for every exchange.
    exchanges: tuple[str, ...]
    source: str
    source_url: str
    #: The day it was taken (YYYY-MM-DD); "" when the source is undated or it was never fetched.
    date: str
    #: False when it was copied from a page that is not the vendor's own.
    official: bool
    addresses: tuple[str, ...]
    #: Addresses announced ahead, and the day they take over ("" when none).
    next: tuple[str, ...] = ()
    next_date: str = ""
    #: The set this one replaced, and the day it stopped.
    previous: tuple[str, ...] = ()
    previous_until: str = ""
    #: A served list's endpoint ("" for a published one).
    endpoint: str = ""
    #: A served list per exchange (after a refresh); empty for a published list.
    by_exchange: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False)

    def applies_to(self, exchange_id: str) -> bool:
        if self.by_exchange:
            return exchange_id in self.by_exchange
        return "*" in self.exchanges or exchange_id in self.exchanges

    def addresses_for(self, exchange_id: str | None = None) -> tuple[str, ...]:
        """The list's addresses for one exchange (a served list holds one set per exchange)."""
        if self.by_exchange:
            if exchange_id is None:
                seen: dict[str, None] = {}
                for addresses in self.by_exchange.values():
                    seen.update(dict.fromkeys(addresses))
                return tuple(seen)
            return self.by_exchange.get(exchange_id, ())
        return self.addresses

    def current(self, today: date | None = None) -> TerminalList:
        """The list as it stands ``today``: once the "next" date has come, its addresses are
        the list."""
        when = _parse_date(self.next_date)
        if self.next and when is not None and (today or date.today()) >= when:
            return replace(self, addresses=self.next, next=(), next_date="",
                           previous=self.addresses, previous_until=self.next_date)
        return self

    def rotation_due(self, today: date | None = None) -> bool:
        """True within ROTATION_WARNING_DAYS before the "next" addresses take over."""
        when = _parse_date(self.next_date)
        if not self.next or when is None:
            return False
        now = today or date.today()
        return when - timedelta(days=ROTATION_WARNING_DAYS) <= now < when

    @property
    def provenance(self) -> str:
        """Where the list came from, in one line, honest about an unofficial copy."""
        when = (f"taken {self.date}" if self.date
                else "not fetched yet" if self.endpoint else "undated")
        kind = "" if self.official else "unofficial copy; "
        return f"{kind}{self.source} ({when})"


@dataclass(frozen=True)
class Terminal:
    """One trading terminal or bot."""

    id: str
    name: str
    aliases: tuple[str, ...]
    #: Binding per exchange id; "*" for every exchange not named.
    bindings: dict[str, Binding]
    form: str
    form_confirmed: bool
    fields: dict[str, str]
    notes: tuple[str, ...]
    exchange_notes: dict[str, str]
    source: str
    checked: str
    lists: tuple[TerminalList, ...]

    def binding(self, exchange_id: str) -> Binding:
        """How this terminal binds a key on ``exchange_id``."""
        return self.bindings.get(exchange_id) or self.bindings.get("*", Binding.MANUAL)

    def list_for(self, exchange_id: str) -> TerminalList | None:
        """The list to paste on ``exchange_id`` (also for a link-flow exchange, where a manual key
        is the fallback), or None when the terminal has none for it."""
        for entry in self.lists:
            if entry.applies_to(exchange_id) and (entry.addresses_for(exchange_id)
                                                  or entry.endpoint):
                return entry
        return None

    def field_name(self, item: str) -> str:
        return self.fields.get(item) or _GENERIC_FIELDS[item]

    def notes_for(self, exchange_id: str) -> tuple[str, ...]:
        extra = self.exchange_notes.get(exchange_id)
        return (*self.notes, extra) if extra else self.notes


def _parse_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _read_list(raw: dict[str, Any], terminal_id: str) -> TerminalList:
    def checked(key: str) -> tuple[str, ...]:
        # Shipped with keylink, so checked by its tests (tests/services/test_terminals.py:
        # every address valid, canonical and unique), not on every start: parsing them all
        # here cost the guide's first paint about 4 ms. Lists from outside (a refresh, a
        # pasted or loaded list) are parsed where they come in.
        return tuple(str(item) for item in raw.get(key, ()))

    return TerminalList(
        id=raw["id"], name=raw["name"], terminal=terminal_id,
        exchanges=tuple(raw["exchanges"]), source=raw["source"],
        source_url=raw.get("source_url", ""), date=raw.get("date", ""),
        official=bool(raw.get("official", True)), addresses=checked("addresses"),
        next=checked("next"), next_date=raw.get("next_date", ""), previous=checked("previous"),
        previous_until=raw.get("previous_until", ""), endpoint=raw.get("endpoint", ""),
    )


def exchange_label(exchange_id: str) -> str:
    """An exchange's name: keylink's own for the exchanges it checks, the catalogue's for the
    others terminals name (Binance US, Kraken...), else the id as written."""
    from tui.services.exchanges import exchanges

    known = exchanges()
    if exchange_id in known:
        return known[exchange_id].label
    return _shipped()[2].get(exchange_id, exchange_id)


@cache
def _shipped() -> tuple[dict[str, Terminal], dict[str, int], dict[str, str]]:
    raw = tomllib.loads(shipped_text("terminals.toml"))
    terminals: dict[str, Terminal] = {}
    for entry in raw["terminal"]:
        fields = {item: entry.get("fields", {}).get(item, _GENERIC_FIELDS[item])
                  for item in FIELD_ITEMS}
        terminals[entry["id"]] = Terminal(
            id=entry["id"], name=entry["name"], aliases=tuple(entry.get("aliases", ())),
            bindings={k: Binding(v) for k, v in entry.get("binding", {}).items()},
            form=entry.get("form", ""), form_confirmed=bool(entry.get("form_confirmed")),
            fields=fields, notes=tuple(entry.get("notes", ())),
            exchange_notes=dict(entry.get("exchange_notes", {})),
            source=entry.get("source", ""), checked=entry.get("checked", ""),
            lists=tuple(_read_list(item, entry["id"]) for item in entry.get("list", ())),
        )
    limits = {k: int(v) for k, v in raw.get("limits", {}).items()}
    names = {str(k): str(v) for k, v in raw.get("exchange_names", {}).items()}
    return terminals, limits, names


def max_entries(exchange_id: str) -> int:
    """How many entries one key's IP list may hold on ``exchange_id`` (see [limits])."""
    limits = _shipped()[1]
    return limits.get(exchange_id, limits.get("default", 100))


def terminals() -> dict[str, Terminal]:
    """Every terminal, in file order, with refreshed lists overlaid."""
    from tui.services.terminals.refresh import overlay

    return overlay(_shipped()[0])


DEFAULT_TERMINAL = "insilico"


def terminal(name: str) -> Terminal:
    """The terminal with this id, alias, name or list id (the old whitelist profile names);
    CatalogueError naming the known ids otherwise."""
    every = terminals()
    folded = name.strip().casefold()
    for item in every.values():
        if folded in (item.id, item.name.casefold(), *item.aliases) or any(
                folded == entry.id for entry in item.lists):
            return item
    raise CatalogueError(f"unknown terminal {name.strip()!r} (known: {', '.join(every)})")


def all_lists() -> Iterable[TerminalList]:
    for item in terminals().values():
        yield from item.lists


def find_list(list_id: str) -> TerminalList:
    """The list with this id (old whitelist profile ids are list ids); CatalogueError."""
    for entry in all_lists():
        if entry.id == list_id:
            return entry
    known = ", ".join(entry.id for entry in all_lists())
    raise CatalogueError(f"unknown whitelist {list_id!r} (known: {known})")


#: The account's whitelist field, besides a list id: the exchange binds the key itself (a link
#: flow), the key is bound to no terminal list, or the account keeps its own list (per user,
#: self-hosted).
LINKED = "linked"
NO_LIST = "none"
OWN_LIST = "own"


def default_whitelist(item: Terminal, exchange_id: str) -> str:
    """What an account of ``item`` on ``exchange_id`` is compared with when the user does not
    say: the link flow where the exchange has one, else the terminal's list, else its own."""
    kind = item.binding(exchange_id)
    if kind is Binding.LINK:
        return LINKED
    if kind in OWN_LIST_BINDINGS:
        return OWN_LIST
    entry = item.list_for(exchange_id)
    return entry.id if entry is not None else NO_LIST


def terminal_of_list(list_id: str) -> Terminal | None:
    for item in terminals().values():
        if any(entry.id == list_id for entry in item.lists):
            return item
    return None
