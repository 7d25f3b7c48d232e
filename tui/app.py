"""KeylinkApp: the top-level sections, the global keys and the command palette.

Each section is a Textual *mode* with its own screen stack. The sections live in one dict,
``tui.sections.SECTIONS``; the modes, the number-key bindings, the section bar, the help screen
and the command palette are all derived from it, so adding a section is a one-line edit there.
Screen modules are imported only when their section is first shown, which keeps start-up fast.
"""

from __future__ import annotations

import gc
import threading
from functools import partial
from importlib import import_module
from typing import Any, ClassVar

from textual.app import App
from textual.binding import Binding, BindingType
from textual.command import Provider
from textual.notifications import SeverityLevel
from textual.screen import Screen

from tui.key_order import KeysInOrderApp
from tui.sections import SECTIONS, Section, ordered_sections
from tui.services.core.settings import load_settings, save_settings, updated


def _freeze_startup_heap() -> None:
    """Exclude the objects that exist before the app starts from garbage collection.

    They are modules, classes and constants (Textual and Rich alone make hundreds of thousands)
    that live as long as the process. Left in the collector's oldest generation, every full
    collection walks all of them: the first one fell during start-up and took ~40 ms of the
    first paint, and later ones stall the UI the same way. Done once per process.
    """
    if gc.get_freeze_count() == 0:
        gc.freeze()


class UnsafeLogging(RuntimeError):
    """Textual's logging is switched on: it would record what is typed into secret fields."""


def unsafe_logging(env: dict[str, str] | None = None) -> str | None:
    """Why the app must not start with this environment's Textual logging, or None.

    Textual's log file (TEXTUAL_LOG) and devtools get every event as text: each key typed into
    the API secret or vault passphrase field, each paste and each field change. Its debug mode
    (TEXTUAL_DEBUG, or "debug" in TEXTUAL) writes the raw terminal input to keys.log. None of
    them can be told to skip one widget, so keylink refuses to start with them on.
    """
    from os import environ

    env = environ if env is None else env  # type: ignore[assignment]
    assert env is not None
    features = {part.strip().lower() for part in env.get("TEXTUAL", "").split(",")}
    debug = env.get("TEXTUAL_DEBUG", "").strip().lower() in ("1", "true", "yes", "on")
    if env.get("TEXTUAL_LOG"):
        what = "TEXTUAL_LOG is set"
    elif "devtools" in features:
        what = "TEXTUAL includes devtools"
    elif debug or "debug" in features:
        what = "Textual's debug mode is on"
    else:
        return None
    return (f"{what}: Textual would log every key typed, secrets and the vault passphrase "
            "included, so keylink does not start; unset it (keylink doctor gives the details "
            "a bug report needs)")


#: How many previously shown sections Escape can return to.
_HISTORY_LIMIT = 20


#: Seconds after start-up before the other sections are loaded in the background.
_WARM_UP_DELAY = 0.3


def _import_sections() -> None:
    """Import every section's screen module and the help's (run in a thread)."""
    for _mode, section in ordered_sections():
        section.screen_class()
    import_module("tui.screens.help")
    # What the help draws with (Rich's Markdown and tables are not used before).
    import_module("rich.markdown")
    import_module("rich.table")


def _keylink_commands() -> type[Provider]:
    # Imported when the palette first opens, not at start-up.
    from tui.commands import KeylinkCommands

    return KeylinkCommands


def _make_screen(section: Section) -> Screen[Any]:
    return section.screen_class()()


def _section_bindings() -> list[BindingType]:
    # Shown in the section bar under the header, so kept out of the crowded footer.
    return [
        Binding(section.key, f"show('{mode}')", section.title, show=False,
                tooltip=f"Show the {section.title} section", id=f"show.{mode}")
        for mode, section in ordered_sections()
    ]


class KeylinkApp(KeysInOrderApp):
    """The keylink terminal app (its keys act in order even when they arrive together)."""

    TITLE = "keylink"
    CSS_PATH = "app.tcss"
    MODES: ClassVar[dict[str, Any]] = {
        mode: partial(_make_screen, section) for mode, section in SECTIONS.items()
    }
    COMMANDS = App.COMMANDS | {_keylink_commands}
    BINDINGS: ClassVar[list[BindingType]] = [
        *_section_bindings(),
        Binding("question_mark", "help", "Help", tooltip="Show every key of every section",
                id="help"),
        Binding("escape", "back", "Back", show=False,
                tooltip="Close the dialog, or return to the section shown before", id="back"),
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True,
                tooltip="Quit keylink", id="quit"),
    ]

    def __init__(self, start_screen: str = "guide") -> None:
        """``start_screen``: the mode shown first (a key of ``SECTIONS``)."""
        if start_screen not in SECTIONS:
            known = ", ".join(SECTIONS)
            raise ValueError(f"unknown start screen {start_screen!r} (known: {known})")
        # Textual mounts DEFAULT_MODE at start-up; an instance attribute picks our section.
        self.DEFAULT_MODE = start_screen
        _freeze_startup_heap()
        super().__init__()
        #: Sections shown before the current one, most recent last (for Escape).
        self.section_history: list[str] = []
        # One small file, read before the first paint so the saved theme shows from the start.
        self.settings, self._settings_problem = load_settings()
        self._settings_lock = threading.Lock()
        if self.settings.theme in self.available_themes:
            self.theme = self.settings.theme

    def on_mount(self) -> None:
        # Once the first screen is up and the user is reading it, load the other sections'
        # modules (and the help's) in the background, so a section's first visit and the first
        # help do not wait for imports.
        self.set_timer(_WARM_UP_DELAY, self._warm_up)
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        if self._settings_problem:
            self.notify(f"{self._settings_problem.capitalize()}: keylink uses its defaults and "
                        "writes a new one when you change a setting.",
                        title="Settings", severity="warning", markup=False)

    def _theme_changed(self, theme: object) -> None:
        name = getattr(theme, "name", "")
        if name and name != self.settings.theme:
            self.remember(theme=name)

    def remember(self, **changes: str) -> None:
        """Change and save settings (the theme, the guide's exchange); written off the UI thread."""
        self.settings = updated(self.settings, **changes)
        self.run_worker(self._save_settings, thread=True, group="settings",
                        exit_on_error=False)

    def _save_settings(self) -> None:
        # One writer at a time, each writing the latest settings: a slow earlier write can
        # never land after a later one with older values.
        try:
            with self._settings_lock:
                save_settings(self.settings)
        except OSError as exc:
            self.call_from_thread(
                self.notify, f"Your settings were not saved: {exc.strerror or exc}.",
                title="Settings", severity="warning", markup=False)

    def _warm_up(self) -> None:
        self.run_worker(_import_sections, thread=True, group="warm-up", exit_on_error=False)
        self._start_idle_lock()

    def _start_idle_lock(self) -> None:
        """Start the one idle-lock timer: it covers every vault this process unlocked, from any
        section (started after the first paint: it imports the secrets module)."""
        from tui.services.store.backends import idle_limit_from_env

        limit = idle_limit_from_env()
        if limit is not None:
            # Often enough that a lock comes at most a fifth of the limit late, at most every 5 s.
            self.set_interval(max(0.2, min(5.0, limit / 5)), self._lock_idle_stores)

    def _lock_idle_stores(self) -> None:
        from tui.services.store.secrets import lock_idle_stores

        if lock_idle_stores():
            self.notify("The vault locked itself after a while without use; its passphrase is "
                        "asked for on next use.", title="Vault locked")
        # Screens that show the vault's state (and when it locks) bring it up to date.
        for stack in getattr(self, "_screen_stacks", {}).values():
            for screen in stack:
                show = getattr(screen, "show_lock_state", None)
                if callable(show) and screen.is_mounted:
                    show()

    def run(self, *args: Any, **kwargs: Any) -> Any:
        """Run the app, unless Textual's logging would record secrets (UnsafeLogging)."""
        reason = unsafe_logging()
        if reason is not None:
            raise UnsafeLogging(reason)
        return super().run(*args, **kwargs)

    async def show(self, mode: str, target: str | None = None) -> Screen[Any]:
        """Show section ``mode``; ``target`` is passed to its screen's ``reveal`` (a profile
        id for the whitelist, a question id for the FAQ). Returns the section's screen."""
        if mode not in SECTIONS:
            raise ValueError(f"unknown section {mode!r}")
        if mode != self.current_mode:
            self.section_history.append(self.current_mode)
            # Escape walks back a few steps, not through a whole session of switching.
            del self.section_history[:-_HISTORY_LIMIT]
            await self.switch_mode(mode)
        screen = self.screen
        if target is not None:
            reveal = getattr(screen, "reveal", None)
            if reveal is None:
                raise ValueError(f"the {mode} section cannot show {target!r}")
            reveal(target)
        return screen

    async def action_show(self, mode: str) -> None:
        """Show a section (bound to its number key)."""
        await self.show(mode)

    def action_help(self) -> None:
        """Open the help screen over the current section."""
        from tui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            return
        # Built once and kept: its text never changes while the app runs, so opening it again
        # shows the existing screen instead of composing and laying it all out again.
        if not self.is_screen_installed("help"):
            self.install_screen(HelpScreen(), "help")
        self.push_screen("help")

    async def action_back(self) -> None:
        """Close the top dialog, or return to the previously shown section."""
        if len(self.screen_stack) > 1:
            self.pop_screen()
            return
        while self.section_history:
            mode = self.section_history.pop()
            if mode in SECTIONS and mode != self.current_mode:
                await self.switch_mode(mode)
                return

    def _unsaved_screens(self) -> list[Screen[Any]]:
        """Screens, in any section, holding typed input that leaving would throw away."""
        stacks = getattr(self, "_screen_stacks", {self.current_mode: self.screen_stack})
        return [screen for stack in stacks.values() for screen in stack
                if getattr(screen, "dirty", False) is True]

    async def action_quit(self) -> None:
        """Quit; first asks, as Escape does, when a form or dialog has unsaved input (a pasted
        key and secret are not thrown away by one key)."""
        from tui.screens.confirm import ConfirmScreen

        if isinstance(self.screen, ConfirmScreen) and self.screen.id == "quit-question":
            return  # already asking
        if not self._unsaved_screens():
            self.exit()
            return

        def answered(quit_anyway: bool | None) -> None:
            if quit_anyway:
                self.exit()

        self.push_screen(
            ConfirmScreen(
                "Quit without saving?",
                "A form has input that is not saved. Quitting discards it.",
                yes="Quit",
                no="Keep editing",
                danger=True,
                id="quit-question",
            ),
            answered,
        )

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """A notification, never parsed as markup and with control characters escaped.

        keylink's notifications name accounts, files and what an exchange said (outside text):
        a "[/]" in one would crash the toast, "[@click=...]" would become an action. So every
        notification is plain text, whatever a caller (or Textual's ``Widget.notify``, which
        passes ``markup=True`` by default) asks for.
        """
        from tui.services.core.text import clean, clean_lines

        super().notify(clean_lines(message), title=clean(title), severity=severity,
                       timeout=timeout, markup=False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "back":
            # Hidden (and Escape left to others) when there is nowhere to go back to.
            return len(self.screen_stack) > 1 or bool(self.section_history)
        return True
