"""The session's news as Textual messages: what the app tells its screens about the one Session.

The app owns the process's one ``Session`` (``KeylinkApp.session``) and subscribes to it. Each
session event becomes one of these messages, posted to every screen of every section's stack:
a screen that cares has a handler (``on_session_state_changed`` and so on), the others ignore
it. Messages rather than a ``Signal``: a session event comes from a worker thread (open, tick)
as often as from the UI thread (a check, the l key), ``post_message`` is safe from either, and a
screen's handler then runs in its own message loop, in order with its other events. They do not
bubble: each screen gets its own copy, and the app must not see them again.

This module imports neither the session nor the secret store (they stay off the start-up path):
the event classes are only named for type checking.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from tui.services.session.session import SessionEvent, SessionState
    from tui.services.store.accounts import Account
    from tui.services.verify.report import KeyReport


class SessionMessage(Message, bubble=False):
    """Something about the app's session changed (never bubbles: every screen gets a copy)."""


class SessionStateChanged(SessionMessage, bubble=False):
    """The session is opening, open, unavailable (no secret store) or failed (accounts.json)."""

    def __init__(self, state: SessionState, reason: str) -> None:
        super().__init__()
        self.state = state
        self.reason = reason


class AccountsChanged(SessionMessage, bubble=False):
    """accounts.json now holds ``accounts``; ``problem``: what reading it found wrong (moved
    aside, written by a newer keylink), if anything."""

    def __init__(self, accounts: tuple[Account, ...], problem: str | None) -> None:
        super().__init__()
        self.accounts = accounts
        self.problem = problem


class AccountsUnreadable(SessionMessage, bubble=False):
    """accounts.json changed and stayed unreadable; it was left where it is, and the accounts
    read before stay in use."""

    def __init__(self, problem: str) -> None:
        super().__init__()
        self.problem = problem


class VaultLocked(SessionMessage, bubble=False):
    """The vault locked: the l key, or (``idle``) its idle limit."""

    def __init__(self, idle: bool) -> None:
        super().__init__()
        self.idle = idle


class VaultUnlocked(SessionMessage, bubble=False):
    """The vault was opened (its dialog, from any screen), or (``created``) made."""

    def __init__(self, created: bool) -> None:
        super().__init__()
        self.created = created


class CheckFinished(SessionMessage, bubble=False):
    """A check of ``account``'s key ended (``not_saved``: why its result was not saved;
    ``history_problem``: the check history was damaged and moved aside, said once)."""

    def __init__(self, account: Account, report: KeyReport, not_saved: str | None,
                 history_problem: str | None = None) -> None:
        super().__init__()
        self.account = account
        self.report = report
        self.not_saved = not_saved
        self.history_problem = history_problem


def message_for(event: SessionEvent) -> SessionMessage:
    """The message that tells a screen about ``event`` (a fresh one per call: one per screen)."""
    from tui.services.session import session as events

    if isinstance(event, events.StateChanged):
        return SessionStateChanged(event.state, event.reason)
    if isinstance(event, events.AccountsChanged):
        return AccountsChanged(event.accounts, event.problem)
    if isinstance(event, events.AccountsFileUnreadable):
        return AccountsUnreadable(event.problem)
    if isinstance(event, events.VaultLockedNow):
        return VaultLocked(event.idle)
    if isinstance(event, events.VaultOpened):
        return VaultUnlocked(event.created)
    if isinstance(event, events.CheckFinished):
        return CheckFinished(event.account, event.report, event.not_saved,
                             event.history_problem)
    raise TypeError(f"not a session event: {type(event).__name__}")
