"""The guide's steps, read from tui/content/guide.toml and worded for one exchange.

Kept apart from the guide screen, as the FAQ's loader is from the FAQ screen: the content and the
code that reads it sit together, and tests can read the steps without building a screen.
"""

from __future__ import annotations

import tomllib
from functools import cache
from typing import Any, NamedTuple

from tui.content import shipped_text
from tui.services.core.text import markup_literal
from tui.services.exchanges import exchange
from tui.services.exchanges.base import ExchangeInfo

#: The exchange the guide shows until the user picks another (then remembered in settings).
DEFAULT_EXCHANGE = "bybit"
#: The terminal the guide names until the user picks one (the project's article is about it).
DEFAULT_TERMINAL = "insilico"


class GuideStep(NamedTuple):
    """One step of the guide, worded for one exchange."""

    id: str
    #: "exchange" or "terminal": where the user does this step.
    side: str
    title: str
    body: str
    #: A warning that must stand out ("" when the step has none).
    security: str
    #: Exchange-specific additions and notes ("" when none).
    extra: str
    #: Id of the related FAQ topic, if any.
    faq: str | None
    #: True on the step that needs the terminal's IP list.
    whitelist: bool
    #: True on the step where a key opens keylink's add form.
    store: bool = False
    #: True on the step with the paste-along checklist.
    checklist: bool = False


@cache
def _raw_steps() -> tuple[dict[str, Any], ...]:
    raw = shipped_text("guide.toml")
    return tuple(tomllib.loads(raw)["step"])


def keys_pages(info: ExchangeInfo) -> str:
    """Where keys are made, from the environment registry: the first environment's page to type,
    then the other sites whose keys work only there (testnet, regional entities; a demo made on
    the same site is not repeated). Registry text is data: its brackets never act as markup."""
    def site(page: str) -> str:
        return page.split("/", 1)[0].split(":", 1)[0].split(" ", 1)[0].removeprefix("www.")

    offered = [env for env in info.pickable if env.keys_page]
    if not offered:
        return ""
    first = offered[0]
    sites = dict.fromkeys(site(env.keys_page) for env in offered[1:])
    sites.pop(site(first.keys_page), None)
    lines = [f"Type: [b]{markup_literal(first.keys_page)}[/b]"]
    if sites:
        lines.append(f"Other sites, each with its own keys: {markup_literal(', '.join(sites))}")
    return "\n".join(lines)


def terminal_words(exchange_id: str, terminal_id: str) -> tuple[str, dict[str, str], bool]:
    """How ``terminal_id`` binds keys on ``exchange_id`` (the key of a step's ``by_binding``),
    the words its steps are filled in with, and whether it has a list to open (w).
    CatalogueError for an unknown terminal."""
    from tui.services.terminals.catalogue import Binding, terminal

    item = terminal(terminal_id)
    kind = item.binding(exchange_id)
    entry = item.list_for(exchange_id)
    addresses = entry.current().addresses_for(exchange_id) if entry else ()
    key = str(kind)
    if kind in (Binding.LINK, Binding.MANUAL) and entry is None:
        key = f"{kind}-none"
    if entry is None:
        count = when = ""
    elif addresses:
        count = f"{len(addresses)} addresses"
        when = f"taken {entry.date}" if entry.date else "undated"
        if not entry.official:
            when += ", an unofficial copy"
    else:
        count = "not fetched yet"
        when = f"keylink whitelist --refresh {item.id}"
    form_place = f"[b]{markup_literal(item.form)}[/b]" if item.form_confirmed and item.form \
        else "its account settings"
    words = {
        "terminal": markup_literal(item.name),
        "terminal_id": markup_literal(item.id),
        "list_name": markup_literal(entry.name) if entry else "",
        "list_count": count,
        "list_when": markup_literal(when),
        "form_place": form_place,
    }
    return key, words, bool(addresses)


def guide_steps(exchange_id: str,
                terminal_id: str = DEFAULT_TERMINAL) -> tuple[GuideStep, ...]:
    """The guide's steps for one exchange and terminal: the exchange's button names, its
    passphrase step only where it has passphrases, and the terminal's way of binding keys there
    (a link flow, a list to paste, the user's own list or server), its list and its form.
    KeyError for an unknown exchange, CatalogueError for an unknown terminal."""
    from tui.services.terminals.catalogue import terminal

    info = exchange(exchange_id)
    binding, terminal_text, has_list = terminal_words(exchange_id, terminal_id)
    notes = terminal(terminal_id).notes_for(exchange_id)
    secret_fields = (
        "the API key, the secret and the passphrase"
        if info.has_passphrase
        else "the API key and the secret"
    )
    words = {
        "exchange": info.label,
        "create_button": info.create_button,
        "linked_option": info.linked_option,
        "secret_fields": secret_fields,
        "keys_pages": keys_pages(info),
        **terminal_text,
    }
    steps: list[GuideStep] = []
    for raw in _raw_steps():
        if raw.get("requires") == "passphrase" and not info.has_passphrase:
            continue
        extra_parts = [raw.get("extra", {}).get(exchange_id, "").strip()]
        if raw.get("notes"):
            extra_parts.extend(f"{info.label}: {note}" for note in info.notes)
        if raw.get("terminal_notes"):
            extra_parts.extend(markup_literal(note) for note in notes)
        body = raw.get("by_binding", {}).get(binding, raw["body"])
        steps.append(
            GuideStep(
                id=raw["id"],
                side=raw["side"],
                title=raw["title"],
                body=body.strip().format_map(words),
                security=raw.get("security", "").strip().format_map(words),
                extra="\n\n".join(part for part in extra_parts if part).format_map(words),
                faq=raw.get("faq"),
                whitelist=bool(raw.get("whitelist", False)) and has_list,
                store=bool(raw.get("store", False)),
                checklist=bool(raw.get("checklist", False)),
            )
        )
    return tuple(steps)
