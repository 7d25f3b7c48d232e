"""Keys in order: a key is routed only once the key before it has been handled.

Textual hands a key to the widget focused when the app takes the key from its queue; the key's
binding runs later, when the key has bubbled from that widget back up to the app. Keys that
arrive in one read of the terminal (typing ahead, or a laggy ssh link delivering several at
once) were therefore all routed before the first of them had acted: after ``/`` in the FAQ the
letters typed next went to the question list, not to the filter the ``/`` had focused, and after
``2`` the next key still went to the guide, not to the accounts section. Typed slowly, the same
keys did what they say.

``KeysInOrderApp`` holds a key (or paste) while the one before it is still being handled. It
sends a marker along the path the key took (messages keep their order in each queue); when the
marker is back at the app, the key has been handled. If that moved the focus or changed the
screen, the next marker goes along the new path, so the new screen or field has taken what it
was sent first (its mount, its focus). Then the next key is routed. A marker whose widget was
removed before passing it on is given up (checked every ``KEY_SETTLE_CHECK`` s); so is one not
back within ``KEY_SETTLE_LIMIT`` s, after which keys go on as Textual would send them.

An action that starts a worker which may open a dialog (the vault's passphrase, asked by the
session from that worker) takes a hold (``hold_keys``): the next keys wait until the dialog is up
or the worker is done, so a passphrase typed ahead lands in the dialog, as it would have had the
dialog opened at once, and never reaches the screen below as commands.
"""

from __future__ import annotations

from collections import deque
from functools import partial
from time import monotonic
from typing import Any

from textual import events
from textual.app import App
from textual.message import Message
from textual.timer import Timer


class KeyRouted(Message, bubble=True):
    """The marker that follows a key from its widget back up to the app."""

    def __init__(self, token: int) -> None:
        super().__init__()
        self.token = token


class KeysInOrderApp(App[None]):
    """An app whose keys act one after the other, each where it would have gone typed slowly."""

    #: How often (s) a marker still on its way is checked for a removed widget.
    KEY_SETTLE_CHECK = 0.5
    #: Longest wait (s) for a key's marker (a slow first mount of a screen takes a while).
    KEY_SETTLE_LIMIT = 5.0
    #: Most paths a marker follows for one key (each focus or screen change adds one).
    _MAX_ROUNDS = 6

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: Keys and pastes that arrived while one was being handled, oldest first.
        self._held: deque[events.Key | events.Paste] = deque()
        #: The key being handled (its token; 0: none) and what it started from.
        self._key_token = 0
        self._key_busy = False
        self._key_rounds = 0
        self._key_where: tuple[object, object] | None = None
        #: Where the marker was sent, and when the key was routed (monotonic s).
        self._key_target: object = None
        self._key_since = 0.0
        self._key_timer: Timer | None = None
        #: The key's marker came back; holds taken while it was handled (see ``hold_keys``).
        self._key_marker_back = False
        self._key_holds: set[int] = set()
        self._last_hold = 0

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key | events.Paste) and not event.is_forwarded:
            if self._key_busy:
                self._held.append(event)
                return
            await self._route(event)
            return
        await super().on_event(event)

    def _where(self) -> tuple[object, object] | None:
        try:
            return self.screen, self.screen.focused
        except Exception:  # no screen (starting up or closing): nowhere to follow
            return None

    async def _route(self, event: events.Key | events.Paste) -> None:
        self._key_busy = True
        self._key_token += 1
        self._key_rounds = 0
        self._key_marker_back = False
        self._key_holds.clear()
        token = self._key_token
        self._key_since = monotonic()
        self._key_timer = self.set_interval(
            self.KEY_SETTLE_CHECK, partial(self._marker_lost, token), name="key-settle")
        await super().on_event(event)  # routes it (or runs a priority binding) as Textual does
        self._follow(token)

    def _follow(self, token: int) -> None:
        """Send a marker along the path a key would take now."""
        where = self._where()
        self._key_where = where
        if where is None:
            self.call_later(self._settled, token)
            return
        screen, focused = where
        target = focused or screen
        self._key_target = target
        if not target.post_message(KeyRouted(token)):  # type: ignore[attr-defined]
            self.call_later(self._settled, token)

    async def _marker_lost(self, token: int) -> None:
        """Give up on a marker whose widget is gone (it will not pass it on), or a late one."""
        target = self._key_target
        gone = not getattr(target, "is_attached", False) or getattr(target, "_closing", True)
        if gone or monotonic() - self._key_since > self.KEY_SETTLE_LIMIT:
            await self._settled(token)

    def on_key_routed(self, message: KeyRouted) -> None:
        message.stop()
        if message.token == self._key_token and self._key_busy:
            self._key_marker_back = True
            # After what the key's action asked of the app (a focus change comes this way).
            self.call_later(self._check_settled, message.token)

    async def _check_settled(self, token: int) -> None:
        if token != self._key_token or not self._key_busy or self._key_holds:
            return
        if self._where() != self._key_where and self._key_rounds < self._MAX_ROUNDS:
            self._key_rounds += 1
            self._follow(token)
            return
        await self._settled(token)

    async def _settled(self, token: int) -> None:
        """The key ``token`` has been handled (or given up on): route the next held one."""
        if token != self._key_token or not self._key_busy:
            return
        self._key_busy = False
        self._key_holds.clear()
        if self._key_timer is not None:
            self._key_timer.stop()
            self._key_timer = None
        self._key_target = None
        if self._held:
            await self._route(self._held.popleft())

    def hold_keys(self) -> int | None:
        """Keep the keys after the one being handled waiting until ``release_keys`` (or until
        ``KEY_SETTLE_LIMIT`` s after the key). For an action whose worker may open a dialog.
        None (nothing held) when no key is being handled. UI thread only."""
        if not self._key_busy:
            return None
        self._last_hold += 1
        self._key_holds.add(self._last_hold)
        return self._last_hold

    def release_keys(self, hold: int | None = None) -> None:
        """End ``hold`` (None: every hold, as when the dialog is up); the next key goes on once
        the screen it opened has taken it. UI thread only; a second release does nothing."""
        if hold is None:
            self._key_holds.clear()
        else:
            self._key_holds.discard(hold)
        if not self._key_holds and self._key_busy and self._key_marker_back:
            self.call_later(self._check_settled, self._key_token)
