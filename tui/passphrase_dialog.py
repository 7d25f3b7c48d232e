"""The vault's unlock and create dialogs as the app session's passphrase source.

The session (``tui.services.session``) applies one unlock policy wherever a secret is read; in
the CLI it asks the environment and a hidden prompt, in the app it asks ``DialogPassphrase``.
So a screen never opens a dialog itself: it asks the session for what it needs (a secret, a
check, an unlocked vault) in a worker, and when the vault is locked the dialog shows over
whatever screen is up, from that worker. Every caller waits on the one dialog (the session lets
one unlock run at a time), so a locked vault asks once however many screens want a secret.

Keys typed ahead stay in order: an action that starts such a worker takes a key hold
(``hold_keys_for_dialog``) while the vault needs a passphrase, which the dialog releases once it
is up, so the passphrase typed after ``k`` lands in the dialog and not on the screen below.
"""

from __future__ import annotations

import contextlib
import threading
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from textual.app import App
    from textual.worker import Worker

    from tui.screens.vault import _VaultDialog
    from tui.services.session.session import Session
    from tui.services.store.secrets import SecretStore


class DialogPassphrase:
    """A ``PassphraseSource`` that shows the app's vault dialogs and waits for their answer.

    Called from a worker thread (the session's calls block; never the UI thread). The dialog
    unlocks or creates the vault itself, retrying a wrong passphrase, so "answered" means the
    vault is open; Cancel (or the app closing) raises ``UnlockCancelled``, which callers take
    as "not now": nothing was changed, nothing to report.
    """

    #: Seconds between looks at whether the app is still running while the dialog is up.
    POLL = 0.5

    def __init__(self, app: App[Any]) -> None:
        self.app = app
        #: The workers waiting for a dialog's answer now: they wait for a person, not for work
        #: (what "every worker done" means while a dialog is up, e.g. for a snapshot).
        self.waiting: set[Worker[Any]] = set()

    def unlock(self, secrets: SecretStore) -> bool:
        from tui.screens.vault import UnlockVaultScreen

        return self._ask(lambda answered: UnlockVaultScreen(secrets, answered=answered))

    def create(self, secrets: SecretStore) -> bool:
        from tui.screens.vault import CreateVaultScreen

        return self._ask(lambda answered: CreateVaultScreen(secrets, answered=answered))

    def _ask(self, make: Callable[[Callable[[bool], None]], _VaultDialog]) -> bool:
        from tui.services.session.unlock import UnlockCancelled

        app = self.app
        if threading.get_ident() == getattr(app, "_thread_id", None):
            raise RuntimeError("the vault dialog is asked for from a worker, never the UI thread")
        answer: Future[bool] = Future()

        def answered(opened: bool) -> None:
            if not answer.done():
                answer.set_result(opened)

        def show() -> None:
            app.push_screen(make(answered))
            release = getattr(app, "release_keys", None)
            if callable(release):
                release()  # the keys typed ahead go to the dialog now

        worker = _current_worker()
        if worker is not None:
            self.waiting.add(worker)
        try:
            app.call_from_thread(show)
            while True:
                try:
                    opened = answer.result(timeout=self.POLL)
                    break
                except FutureTimeout:
                    if not app.is_running:  # closed with the dialog up: nobody will answer
                        raise UnlockCancelled("keylink is closing") from None
        except RuntimeError:  # the app is not running (any more)
            raise UnlockCancelled("keylink is closing") from None
        finally:
            self.waiting.discard(worker)  # type: ignore[arg-type]
        if not opened:
            raise UnlockCancelled("the vault stays locked")
        return True


def _current_worker() -> Worker[Any] | None:
    from textual.worker import NoActiveWorker, get_current_worker

    try:
        return get_current_worker()
    except NoActiveWorker:
        return None


def on_ui_thread(app: App[Any], call: Callable[[], None]) -> None:
    """Run ``call`` on the app's thread, from it or from a worker (nothing once it has closed)."""
    if threading.get_ident() == getattr(app, "_thread_id", None):
        call()
        return
    with contextlib.suppress(RuntimeError):  # the app is not running
        app.call_from_thread(call)


def hold_keys_for_dialog(app: App[Any], session: Session | None, *,
                         create: bool = False) -> Callable[[], None]:
    """While the vault needs a passphrase (or, with ``create``, does not exist yet), hold the keys
    typed after the one being handled until the dialog is up: call this in the action, before
    starting the worker. Returns the release for when the worker is done (any thread; a second
    call does nothing); the dialog releases every hold as it shows."""
    secrets = session.secrets if session is not None else None
    hold = getattr(app, "hold_keys", None)
    if secrets is None or not callable(hold):
        return lambda: None
    if not (secrets.needs_unlock or (create and secrets.needs_new_vault)):
        return lambda: None
    token = hold()
    if token is None:
        return lambda: None
    return lambda: on_ui_thread(app, lambda: app.release_keys(token))  # type: ignore[attr-defined]
