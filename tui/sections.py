"""The section registry: the one place keylink's top-level sections are listed.

The app builds its modes and number keys from it, and the command palette, the help screen and
the section bar read it too. It imports nothing of keylink's UI, so those modules depend on it
and never on ``tui.app`` (arrows point down only).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, runtime_checkable

if TYPE_CHECKING:
    from textual.screen import Screen


class Section(NamedTuple):
    """A top-level screen: the key that shows it, its name, and where its screen class lives."""

    key: str
    title: str
    #: "module:Class", imported when the section is first shown.
    screen: str
    #: One line for the command palette and the help screen.
    description: str

    def screen_class(self) -> type[Screen[Any]]:
        """Import and return the section's screen class."""
        module_name, _, class_name = self.screen.partition(":")
        return getattr(import_module(module_name), class_name)


#: Mode name -> section, the one place sections are registered. Listed in key order everywhere.
SECTIONS: dict[str, Section] = {
    "guide": Section("1", "Guide", "tui.screens.guide:GuideScreen",
                     "Step by step: create an API key and link it to the terminal"),
    "accounts": Section("2", "Accounts", "tui.screens.accounts:AccountsScreen",
                        "Your linked API keys: add, edit, rotate, delete and verify them"),
    "whitelist": Section("3", "Whitelist", "tui.screens.whitelist:WhitelistScreen",
                         "The terminal's server IP addresses, ready to copy"),
    "faq": Section("4", "FAQ", "tui.screens.faq:FaqScreen",
                   "Answers to common questions about API keys"),
}


def ordered_sections() -> list[tuple[str, Section]]:
    """The sections in the order of their keys."""
    return sorted(SECTIONS.items(), key=lambda item: item[1].key)


@runtime_checkable
class SectionHost(Protocol):
    """What a screen may ask of the app that hosts the sections (the app implements it)."""

    async def show(self, mode: str, target: str | None = None) -> Screen[Any]: ...
