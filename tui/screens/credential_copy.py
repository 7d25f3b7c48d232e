"""Copying a stored credential from a screen: read in a worker, send, say how, clear later.

Shared by the accounts screen and the guide's paste-along checklist. The value never reaches the
screen: the notice names the field and account, how it was sent and when it will be cleared.
One clear timer for the whole app; a clear leaves the clipboard alone once a later copy (the
app's or a `keylink copy`'s) holds it. Every screen that copies clears at once when it
unmounts, which happens when the app quits.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from textual.app import App
    from textual.screen import Screen

    from tui.services.handoff.clipboard import ClearTimer
    from tui.services.session.session import Session
    from tui.services.store.model import Account

_TIMER_ATTRIBUTE = "_keylink_clear_timer"


def _send_osc52(app: App[Any], text: str) -> None:
    """Textual's OSC 52, from the app's thread or any other."""
    try:
        app.call_from_thread(app.copy_to_clipboard, text)
    except RuntimeError:  # already on the app's thread (the clear on quit)
        app.copy_to_clipboard(text)


def clear_timer(app: App[Any]) -> ClearTimer:
    """The app's one clear timer, made on first use (the clipboard module owns the timing)."""
    timer = getattr(app, _TIMER_ATTRIBUTE, None)
    if timer is None:
        from tui.services.handoff.clipboard import ClearTimer, clear_clipboard

        def clear(value_digest: str, copy_id: str | None) -> None:
            if not clear_clipboard(value_digest, lambda text: _send_osc52(app, text),
                                   copy_id=copy_id):
                return  # a later copy holds the clipboard: nothing of this one was left there
            # On the app's thread (quitting) there is nobody left to tell.
            with contextlib.suppress(RuntimeError):
                app.call_from_thread(app.notify, "Copied credential cleared from the clipboard.",
                                     title="Clipboard cleared", markup=False)

        timer = ClearTimer(clear)
        setattr(app, _TIMER_ATTRIBUTE, timer)
    return timer


def clear_now(app: App[Any]) -> None:
    """Clear a pending copied credential at once (a screen unmounting, the app quitting)."""
    timer = getattr(app, _TIMER_ATTRIBUTE, None)
    if timer is not None:
        timer.clear_now()


def copy_field(screen: Screen[Any], session: Session, account: Account, field: str,
               on_sent: Callable[[], None] | None = None) -> None:
    """Start a thread worker that reads ``field`` of ``account`` through the app's session and
    copies it (never the UI thread: the keyring or vault can take seconds); ``on_sent`` runs on
    the UI thread once the value went out. A locked vault: the session asks in its dialog, and
    backing out of it copies nothing and says nothing."""
    from functools import partial

    from tui.passphrase_dialog import hold_keys_for_dialog
    from tui.services.handoff.fields import SECRET_FIELDS

    release = (hold_keys_for_dialog(screen.app, session) if field in SECRET_FIELDS
               else _nothing)
    screen.run_worker(partial(_copy_in_thread, screen.app, session, account, field, on_sent,
                              release),
                      thread=True, exclusive=True, group="copy-credential", exit_on_error=False)


def _nothing() -> None:
    return None


def copy_message(what: str, ways: tuple[str, ...], seconds: int, tmux: str | None,
                 remote: bool | None = False) -> str:
    """The notice: what was copied, how it went out, when it clears, and what to know: tmux's
    advice when it drops OSC 52, else over ssh (``remote``; None: cannot tell) what the clear
    cannot reach."""
    from tui.services.handoff import clipboard

    if not ways:
        return f"Could not copy {what}: no clipboard could be reached."
    how = clipboard.CopyResult("", ways).describe()
    text = f"{what[0].upper()}{what[1:]}: {how}. Cleared in {seconds} s."
    if clipboard.OSC52 not in ways:
        return text
    extra = clipboard.tmux_advice(tmux, remote) or clipboard.remote_copy_note(remote)
    return f"{text}\n{extra}" if extra else text


def _copy_in_thread(app: App[Any], session: Session, account: Account, field: str,
                    on_sent: Callable[[], None] | None, release: Callable[[], None]) -> None:
    from tui.services.core.text import clean
    from tui.services.handoff import clipboard
    from tui.services.handoff.fields import FIELD_LABELS, SECRET_FIELDS, HandoffError, field_value
    from tui.services.session.unlock import SessionError, UnlockCancelled
    from tui.services.store.errors import SecretStoreError
    from tui.services.store.model import AccountError

    what = f"the {FIELD_LABELS[field]} of {clean(account.name)}"
    from tui.services.core.access_log import AccessLog

    log_problem = None
    try:
        creds = session.credentials_for(account) if field in SECRET_FIELDS else None
        value = field_value(account, creds, field)
    except UnlockCancelled:
        return  # backed out of the dialog: not now
    except (SecretStoreError, HandoffError, SessionError, AccountError) as exc:
        if field in SECRET_FIELDS:
            AccessLog().record("copy", account, [field], f"failed: {type(exc).__name__}")
        app.call_from_thread(app.notify, f"Could not copy {what}: {exc}", severity="error",
                             title="Not copied", markup=False)
        return
    finally:
        release()  # read (or asked in the dialog, which released the keys as it showed)
    try:
        seconds = clipboard.clip_time()
        warning = ""
    except ValueError as exc:
        seconds = clipboard.DEFAULT_CLIP_TIME
        warning = f"\n{exc}; using {seconds} s."
    result = clipboard.copy_text(value, lambda text: _send_osc52(app, text))
    if field in SECRET_FIELDS:  # the access log (issue 19): a problem with it is said once
        log_problem = AccessLog().record("copy", account, [field],
                                         "ok" if result.ways else "failed: nothing to copy to")
    if log_problem:
        app.call_from_thread(app.notify, f"{log_problem[0].upper()}{log_problem[1:]}.",
                             title="Access log", severity="warning", markup=False)
    if result.ways:
        clear_timer(app).start(clipboard.digest(value), seconds, result.copy_id)
    del value
    message = copy_message(what, result.ways, seconds, clipboard.tmux_set_clipboard(),
                           clipboard.remote_session()) + warning
    app.call_from_thread(app.notify, message, title="Copy", markup=False,
                         severity="information" if result.ways else "error", timeout=8)
    if result.ways and on_sent is not None:
        app.call_from_thread(on_sent)
