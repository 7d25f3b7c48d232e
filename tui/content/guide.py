"""The guide's steps, read from tui/content/guide.toml and worded for one exchange.

Kept apart from the guide screen, as the FAQ's loader is from the FAQ screen: the content and the
code that reads it sit together, and tests can read the steps without building a screen.
"""

from __future__ import annotations

import tomllib
from functools import cache
from typing import Any, NamedTuple

from tui.content.faq import CONTENT_DIR
from tui.services.exchanges import exchange
from tui.services.exchanges.base import ExchangeInfo

#: The exchange the guide shows until the user picks another (then remembered in settings).
DEFAULT_EXCHANGE = "bybit"


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
    raw = (CONTENT_DIR / "guide.toml").read_text(encoding="utf-8")
    return tuple(tomllib.loads(raw)["step"])


def keys_pages(info: ExchangeInfo) -> str:
    """Where keys are made, from the environment registry: the first environment's page to type,
    then the other sites whose keys work only there (testnet, regional entities; a demo made on
    the same site is not repeated). Registry text is data: its brackets never act as markup."""
    def plain(text: str) -> str:
        return text.replace("\\", "\\\\").replace("[", "\\[")

    def site(page: str) -> str:
        return page.split("/", 1)[0].split(":", 1)[0].split(" ", 1)[0].removeprefix("www.")

    offered = [env for env in info.pickable if env.keys_page]
    if not offered:
        return ""
    first = offered[0]
    sites = dict.fromkeys(site(env.keys_page) for env in offered[1:])
    sites.pop(site(first.keys_page), None)
    lines = [f"Type: [b]{plain(first.keys_page)}[/b]"]
    if sites:
        lines.append(f"Other sites, each with its own keys: {plain(', '.join(sites))}")
    return "\n".join(lines)


def guide_steps(exchange_id: str) -> tuple[GuideStep, ...]:
    """The guide's steps for one exchange: its button names, and its passphrase step only
    where the exchange has passphrases. KeyError for an unknown exchange."""
    info = exchange(exchange_id)
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
    }
    steps: list[GuideStep] = []
    for raw in _raw_steps():
        if raw.get("requires") == "passphrase" and not info.has_passphrase:
            continue
        extra_parts = [raw.get("extra", {}).get(exchange_id, "").strip()]
        if raw.get("notes"):
            extra_parts.extend(f"{info.label}: {note}" for note in info.notes)
        steps.append(
            GuideStep(
                id=raw["id"],
                side=raw["side"],
                title=raw["title"],
                body=raw["body"].strip().format_map(words),
                security=raw.get("security", "").strip().format_map(words),
                extra="\n\n".join(part for part in extra_parts if part).format_map(words),
                faq=raw.get("faq"),
                whitelist=bool(raw.get("whitelist", False)),
                store=bool(raw.get("store", False)),
                checklist=bool(raw.get("checklist", False)),
            )
        )
    return tuple(steps)
