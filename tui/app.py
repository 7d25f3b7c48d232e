"""KeylinkApp: the top-level sections, the global keys and the command palette.

Each section is a Textual *mode* with its own screen stack. The sections live in one dict,
``tui.sections.SECTIONS``; the modes, the number-key bindings, the section bar, the help screen
and the command palette are all derived from it, so adding a section is a one-line edit there.
Screen modules are imported only when their section is first shown, which keeps start-up fast.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import threading
from functools import partial
from importlib import import_module
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import App
from textual.binding import Binding, BindingType
from textual.command import Provider
from textual.notifications import SeverityLevel
from textual.screen import Screen

from tui.key_order import KeysInOrderApp
from tui.sections import SECTIONS, Section, ordered_sections
from tui.services.core import gc_pause
from tui.services.core.settings import load_settings, save_settings, updated

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from tui.passphrase_dialog import DialogPassphrase
    from tui.screens.help import DrawnOnce
    from tui.services.session.session import Session, SessionEvent
    from tui.services.store.secrets import SecretStore


def _freeze_startup_heap() -> None:
    """Exclude the objects that exist before the app starts from garbage collection.

    They are modules, classes and constants (Textual and Rich alone make hundreds of thousands)
    that live as long as the process. Left in the collector's oldest generation, every full
    collection walks all of them: the first one fell during start-up and took ~40 ms of the
    first paint, and later ones stall the UI the same way. Done once per process, when the app
    is made; the `keylink` process, whose collector rests while it loads, freezes in gc_pause.
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


def make_session(
    *,
    open_secrets: Callable[[], SecretStore] | None = None,
    config_dir: Path | None = None,
) -> Session:
    """The app's Session: KEYLINK_VAULT_PASSPHRASE is tried quietly (scripted sessions:
    screenshots, tmux tests) when the store opens, before the screens hear that the session is
    open: they are asked for the passphrase only when the variable did not open it.

    The store is opened by ``open_secrets`` (default ``SecretStore.open``). The app then plugs
    its unlock dialog in as the policy for every later use (``KeylinkApp.session``).
    """
    from tui.services.session.session import Session
    from tui.services.session.unlock import EnvPassphrase, UnlockPolicy
    from tui.services.store.secrets import SecretStore

    source = EnvPassphrase(quiet=True)
    opener = open_secrets or SecretStore.open

    def open_and_try_environment() -> SecretStore:
        secrets = opener()
        if secrets.needs_unlock:
            source.unlock(secrets)  # quiet: a wrong or empty value leaves it locked
        return secrets

    return Session(unlock=UnlockPolicy(source), open_secrets=open_and_try_environment,
                   config_dir=config_dir)


#: How many previously shown sections Escape can return to.
_HISTORY_LIMIT = 20


#: Seconds after start-up before the other sections are loaded in the background.
_WARM_UP_DELAY = 0.3


#: Held by each worker thread that imports many modules: the warm-up and the session's opening
#: (the secret store, keyring and its backends). Two threads importing at once can each hold a
#: module the other needs, and Python then fails one import with a _DeadlockError: the session
#: once failed to open that way when the accounts section was shown during the warm-up.
_IMPORTING = threading.Lock()


def _import_sections() -> None:
    """Import every section's screen module and the help's (run in a thread)."""
    with _IMPORTING:
        _import_section_modules()


def _import_section_modules() -> None:
    for _mode, section in ordered_sections():
        section.screen_class()
    import_module("tui.screens.help")
    # The terminal catalogue (read and checked once): the guide and the account form use it.
    import_module("tui.services.terminals.catalogue").terminals()
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

    #: Seconds between the session's ticks: the idle lock and a look at accounts.json.
    SESSION_TICK = 1.0

    def __init__(
        self,
        start_screen: str = "guide",
        *,
        session_factory: Callable[[], Session] | None = None,
    ) -> None:
        """``start_screen``: the mode shown first (a key of ``SECTIONS``). ``session_factory``
        makes the app's one Session (default ``make_session``: tests give their own store)."""
        if start_screen not in SECTIONS:
            known = ", ".join(SECTIONS)
            raise ValueError(f"unknown start screen {start_screen!r} (known: {known})")
        # Textual mounts DEFAULT_MODE at start-up; an instance attribute picks our section.
        self.DEFAULT_MODE = start_screen
        if not gc_pause.is_paused():
            _freeze_startup_heap()
        super().__init__()
        #: Sections shown before the current one, most recent last (for Escape).
        self.section_history: list[str] = []
        # One small file, read before the first paint so the saved theme shows from the start.
        self.settings, self._settings_problem = load_settings()
        self._settings_lock = threading.Lock()
        self._session_factory = session_factory
        self._session: Session | None = None
        self._making_session = threading.Lock()
        self._session_started = False
        #: The help drawn ahead by the warm-up (None until then).
        self.help_drawing: DrawnOnce | None = None
        #: The session's passphrase source (made with the session).
        self.passphrase_dialog: DialogPassphrase | None = None
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
        # The first screen is up: the garbage collector, paused while keylink loaded, runs again,
        # never to walk the start-up heap (frozen first).
        gc_pause.resume()
        self.run_worker(self._warm_up_in_thread, thread=True, group="warm-up",
                        exit_on_error=False)

    def _warm_up_in_thread(self) -> None:
        _import_sections()
        # The help's long text is drawn now, while the user reads the first screen: the first
        # ? then only shows it (benchmarks/keys.py).
        from tui.screens.help import draw_help_ahead

        if not self.is_screen_installed("help"):  # not opened already (a ? at once)
            self.help_drawing = draw_help_ahead(self)
        gc_pause.freeze_loaded()  # as long-lived as the start-up heap

    # -- the session ------------------------------------------------------------------------------

    @property
    def session(self) -> Session:
        """The process's one Session (the open secret store and accounts), made on first use:
        making it imports the secret store, which stays off the start-up path. Nothing is
        opened until ``open_session``."""
        with self._making_session:  # the opening worker and the UI thread may both ask
            if self._session is None:
                session = (self._session_factory or make_session)()
                self._plug_in_dialog(session)
                session.subscribe(self._session_event)
                self._session = session
            return self._session

    def _plug_in_dialog(self, session: Session) -> None:
        """Every use of a locked (or missing) vault asks in the app's dialog, from the worker
        that needs the secret, over whatever screen is up. The environment is not asked again:
        after the l key or the idle lock the passphrase is asked for, as the lock notice says."""
        from tui.passphrase_dialog import DialogPassphrase
        from tui.services.session.unlock import UnlockPolicy

        self.passphrase_dialog = DialogPassphrase(self)
        session.unlock_policy = UnlockPolicy(self.passphrase_dialog)

    @property
    def live_session(self) -> Session | None:
        """The session once it is made (None before; never makes one, so never imports the
        secret store on the UI thread while the opening worker does)."""
        return self._session

    @property
    def session_started(self) -> bool:
        """True once ``open_session`` ran (until then nothing of the secret store is loaded)."""
        return self._session_started

    def open_session(self) -> None:
        """Open the session in a thread worker, once (a keyring probe can take seconds), and
        start its one timer. Called by the screens that need accounts, when they need them;
        every screen hears the outcome as messages."""
        if self._session_started:
            return
        self._session_started = True
        self.run_worker(self._open_session_in_thread, thread=True, group="session-open",
                        exit_on_error=False)

    def _open_session_in_thread(self) -> None:
        with _IMPORTING:  # not while the warm-up imports (see _IMPORTING)
            session = self.session  # made here: its imports stay off the UI thread
            interval = self._tick_interval()
            try:
                session.open()
            finally:
                # The one timer, started once the session exists (even when it failed: the
                # idle lock of a vault opened without accounts.json still runs).
                self.call_from_thread(self.set_interval, interval, self._tick_session)

    def _tick_interval(self) -> float:
        """The accounts file is looked at every SESSION_TICK s; a short idle limit is checked
        more often, so a lock comes at most a fifth of the limit late."""
        from tui.services.store.backends import idle_limit_from_env

        limit = idle_limit_from_env()
        if limit is None:
            return self.SESSION_TICK
        return min(self.SESSION_TICK, max(0.2, limit / 5))

    async def _tick_session(self) -> None:
        """The timer's callback: the session's tick runs in a thread (it reads the accounts file
        and may touch the keyring), awaited here so two never overlap. A plain thread, not a
        Worker: a worker's state messages each second would keep an idle app busy."""
        session = self._session
        if session is None:
            return
        # The file's own faults come as the session's events; anything else is left for the
        # next tick rather than ending the app.
        with contextlib.suppress(Exception):
            await asyncio.to_thread(session.tick)
        self._show_lock_state()

    def _session_event(self, event: SessionEvent) -> None:
        """The session's subscriber (any thread): the screens hear it on the UI thread. From the
        UI thread (a check run by a screen's async worker) the messages are posted at once, so
        they come before whatever that worker does next."""
        if threading.get_ident() == self._thread_id:
            self._tell_screens(event)
        else:
            self.call_later(self._tell_screens, event)

    def _tell_screens(self, event: SessionEvent) -> None:
        from tui.services.session.session import VaultLockedNow
        from tui.session_messages import message_for

        if isinstance(event, VaultLockedNow) and event.idle:
            self.notify("The vault locked itself after a while without use; its passphrase is "
                        "asked for on next use.", title="Vault locked")
        for stack in getattr(self, "_screen_stacks", {}).values():
            for screen in stack:
                screen.post_message(message_for(event))

    def _show_lock_state(self) -> None:
        # Screens that show when the vault locks bring that up to date after each tick.
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
            self.install_screen(HelpScreen(self.help_drawing), "help")
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
