"""SectionScreen: the base of every top-level screen (header, section bar, footer)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.screen import Screen
from textual.widgets import Footer, Header

from tui.widgets.section_bar import SectionBar

if TYPE_CHECKING:
    from tui.commands import PaletteCommand


class SectionScreen(Screen[None]):
    """A section of the app. Subclasses set SECTION (their key in ``tui.app.SECTIONS``) and
    SECTION_TITLE, and yield their content from ``compose_body``."""

    SECTION: ClassVar[str] = ""
    SECTION_TITLE: ClassVar[str] = ""
    #: Keys of this screen's own widgets (e.g. Escape in a filter box), listed in the help.
    WIDGET_BINDINGS: ClassVar[list[BindingType]] = []

    def compose(self) -> ComposeResult:
        yield Header(icon="⚿")
        yield SectionBar(self.SECTION)
        yield from self.compose_body()
        yield Footer()

    def compose_body(self) -> ComposeResult:
        """The section's own widgets, between the section bar and the footer."""
        yield from ()

    def reveal(self, target: str) -> None:
        """Bring ``target`` into view (meaning depends on the section); ValueError if unknown."""
        raise ValueError(f"{self.SECTION_TITLE or 'this section'} cannot show {target!r}")

    def palette_commands(self) -> Iterable[PaletteCommand]:
        """Command-palette entries beyond this screen's bindings."""
        return ()
