"""Command-palette entries: every section, every global action, every action of the screen
the palette was opened from (its bindings, plus any extra entries the screen offers), and the
actions of the other sections (running one shows its section first).

Textual's own system commands (theme, quit, keys, screenshot) stay: the app adds this provider
beside them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, runtime_checkable

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider

from tui.services.core.text import clean, markup_literal

if TYPE_CHECKING:
    from textual.app import App
    from textual.screen import Screen


class PaletteCommand(NamedTuple):
    """One command-palette entry."""

    title: str
    help: str
    callback: Callable[[], Any]


@runtime_checkable
class OffersCommands(Protocol):
    """A screen with palette entries beyond its key bindings (e.g. one per exchange)."""

    def palette_commands(self) -> Iterable[PaletteCommand]: ...


def _binding_commands(app: App[Any], screen: Screen[Any], prefix: str) -> Iterable[PaletteCommand]:
    """The enabled bindings of ``screen`` itself (not of its focused widget, nor Textual's
    generic screen keys: keylink's own bindings all carry an id)."""
    seen: set[str] = set()
    for active in screen.active_bindings.values():
        binding = active.binding
        if (active.node is not screen or not active.enabled or not binding.description
                or not binding.id):
            continue
        if binding.action in seen:
            continue
        seen.add(binding.action)
        yield PaletteCommand(
            f"{prefix}{binding.description}",
            binding.tooltip or binding.description,
            partial(app.run_action, binding.action, screen),
        )


async def _run_in_section(app: App[Any], mode: str, action: str, title: str) -> None:
    """Show section ``mode``, then run its screen's ``action`` there, or say why it cannot run."""
    from tui.sections import SectionHost

    if not isinstance(app, SectionHost):
        return
    screen = await app.show(mode)
    if screen.check_action(action, ()):
        await app.run_action(action, screen)
        return
    explain = getattr(screen, "explain_unavailable", None)
    if callable(explain):
        explain(action)
    else:
        app.notify(f"{title} cannot be used right now.", markup=False)


def _other_section_commands(app: App[Any], current: str) -> Iterable[PaletteCommand]:
    """The actions of every section but ``current``: running one shows its section first."""
    from tui.sections import ordered_sections

    for mode, section in ordered_sections():
        if mode == current:
            continue
        seen: set[str] = set()
        for binding in section.screen_class().__dict__.get("BINDINGS", []):
            if not isinstance(binding, Binding) or not binding.description or not binding.id:
                continue
            if binding.action in seen:
                continue
            seen.add(binding.action)
            title = f"{section.title}: {binding.description}"
            yield PaletteCommand(
                title,
                f"{binding.tooltip or binding.description} (opens {section.title})",
                partial(_run_in_section, app, mode, binding.action, title),
            )


def palette_commands(app: App[Any], screen: Screen[Any]) -> list[PaletteCommand]:
    """All entries for a palette opened over ``screen``, sections first."""
    from tui.sections import SectionHost, ordered_sections

    commands: list[PaletteCommand] = [
        PaletteCommand(f"Go to {section.title}", f"{section.description} (press {section.key})",
                       partial(app.run_action, f"show('{mode}')"))
        for mode, section in ordered_sections()
    ]
    commands.append(PaletteCommand("Help: all keys", "Show every key of every section (press ?)",
                                   partial(app.run_action, "help")))
    if isinstance(app, SectionHost) and app.check_action("back", ()):
        commands.append(PaletteCommand("Go back", "Close the dialog or return to the previous "
                                       "section (Escape)", partial(app.run_action, "back")))
    title = getattr(screen, "SECTION_TITLE", None)
    prefix = f"{title}: " if title else ""
    commands.extend(_binding_commands(app, screen, prefix))
    if isinstance(screen, OffersCommands):
        commands.extend(screen.palette_commands())
    # The README promises every action from the palette, wherever it is opened.
    commands.extend(_other_section_commands(app, getattr(screen, "SECTION", "")))
    # One entry per title: a screen's extra entry may repeat one of its bindings.
    unique: dict[str, PaletteCommand] = {}
    for command in commands:
        unique.setdefault(command.title, command)
    return list(unique.values())


class KeylinkCommands(Provider):
    """keylink's command-palette provider."""

    def _commands(self) -> list[PaletteCommand]:
        return palette_commands(self.app, self.screen)

    async def discover(self) -> Hits:
        from rich.text import Text

        for command in self._commands():
            # Titles and help can name accounts (outside text); the palette parses a str
            # prompt as markup, so they go in as Text and escaped markup.
            title = clean(command.title)
            yield DiscoveryHit(Text(title), command.callback, text=title,
                               help=_plain(command.help))

    async def search(self, query: str) -> Hits:
        from rich.text import Text

        matcher = self.matcher(query)
        for command in self._commands():
            title = clean(command.title)
            score = matcher.match(title)
            if score > 0:
                # highlight() parses its argument as markup: only for titles without any.
                display = Text(title) if "[" in title else matcher.highlight(title)
                yield Hit(score, display, command.callback, text=title,
                          help=_plain(command.help))


def _plain(text: str | None) -> str | None:
    """``text`` escaped for a place that parses markup, with controls shown escaped."""
    return None if text is None else markup_literal(clean(text))
