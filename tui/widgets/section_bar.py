"""The row of section names under the header: where you are, and the key for each section."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import HorizontalGroup
from textual.events import Click
from textual.widgets import Label


class SectionTab(Label):
    """One section's key and name; clicking it shows the section."""

    def __init__(self, mode: str, key: str, title: str, current: bool) -> None:
        super().__init__(f"[b]{key}[/b] {title}", classes="-current" if current else "",
                         id=f"section-{mode}")
        self.mode = mode

    async def _on_click(self, event: Click) -> None:
        event.stop()
        await self.app.run_action(f"show('{self.mode}')")


class SectionBar(HorizontalGroup):
    """Every registered section, the current one highlighted."""

    DEFAULT_CSS = """
    SectionBar {
        height: 1;
        background: $panel;
        SectionTab {
            padding: 0 1;
            color: $text-muted;
            &:hover { color: $text; background: $boost; }
            &.-current { color: $text; background: $primary 40%; text-style: bold; }
        }
        #section-bar-hint { dock: right; padding: 0 1; color: $text-muted; }
    }
    """

    def __init__(self, current: str) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        from tui.app import ordered_sections

        for mode, section in ordered_sections():
            yield SectionTab(mode, section.key, section.title, mode == self.current)
        yield Label("[b]^q[/b] quit", id="section-bar-hint")
