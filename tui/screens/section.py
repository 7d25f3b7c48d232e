"""SectionScreen: the base of every top-level screen (header, section bar, footer)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.screen import Screen
from textual.widgets import Footer, Header
from textual.widgets._footer import FooterKey

from tui.widgets.section_bar import SectionBar

if TYPE_CHECKING:
    from tui.commands import PaletteCommand


class SectionFooter(Footer):
    """Textual's footer, built with its keys at once and rebuilt only when they change.

    Textual's footer starts empty and rebuilds all its keys each time the screen's bindings
    *may* have changed; several such signals arrive together at start-up (the screen's stack,
    its focus, the focus again after the refresh), so the first screen was laid out and drawn
    again for each rebuild of the same footer. This one draws its keys in its first compose
    (a section's keys do not depend on widgets that are not mounted yet), schedules at most one
    rebuild per refresh (reading the bindings when it runs, so it shows the latest), and skips
    the rebuild when the keys it would show are the ones already shown.
    """

    _rebuild_pending = False
    #: What the keys shown were built from (see _keys_shown).
    _shown: tuple[object, ...] | None = None

    def compose(self) -> ComposeResult:
        self._bindings_ready = True
        self._shown = self._keys_shown()
        keys = list(super().compose())
        # "? Help" first: at 80 columns a section's own keys fill the line, and the key that
        # lists them all must never be the one cut off at the end.
        first = [key for key in keys if isinstance(key, FooterKey) and key.action == "help"]
        yield from first
        yield from (key for key in keys if key not in first)

    def bindings_changed(self, screen: Screen[object]) -> None:
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self._rebuild_pending:
            self._rebuild_pending = True
            self.call_after_refresh(self._rebuild)

    def _keys_shown(self) -> tuple[object, ...]:
        """What Footer.compose draws: per action, the first binding shown for it (its key,
        state and tooltip), in order, and the command palette's key."""
        app = self.app
        active = self.screen.active_bindings
        first: dict[str, tuple[object, ...]] = {}
        for _node, binding, enabled, tooltip in active.values():
            if binding.show and binding.action not in first:
                first[binding.action] = (binding, enabled, tooltip, app.get_key_display(binding))
        palette = active.get(app.COMMAND_PALETTE_BINDING)
        return (
            self.show_command_palette,
            app.ENABLE_COMMAND_PALETTE,
            tuple(first.values()),
            None if palette is None else (*palette[1:], app.get_key_display(palette.binding)),
        )

    async def _rebuild(self) -> None:
        self._rebuild_pending = False
        if self.is_attached and self._keys_shown() != self._shown:
            await self.recompose()


class SectionScreen(Screen[None]):
    """A section of the app. Subclasses set SECTION (their key in ``tui.sections.SECTIONS``) and
    SECTION_TITLE, and yield their content from ``compose_body``."""

    SECTION: ClassVar[str] = ""
    SECTION_TITLE: ClassVar[str] = ""
    #: Keys of this screen's own widgets (e.g. Escape in a filter box), listed in the help.
    WIDGET_BINDINGS: ClassVar[list[BindingType]] = []

    def compose(self) -> ComposeResult:
        yield Header(icon="⚿")
        yield SectionBar(self.SECTION)
        yield from self.compose_body()
        yield SectionFooter()

    def compose_body(self) -> ComposeResult:
        """The section's own widgets, between the section bar and the footer."""
        yield from ()

    def reveal(self, target: str) -> None:
        """Bring ``target`` into view (meaning depends on the section); ValueError if unknown."""
        raise ValueError(f"{self.SECTION_TITLE or 'this section'} cannot show {target!r}")

    def palette_commands(self) -> Iterable[PaletteCommand]:
        """Command-palette entries beyond this screen's bindings."""
        return ()
