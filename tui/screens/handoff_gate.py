"""The verdict before a copy in the app (issue 19): the accounts screen's n/k/s/p and the guide's
paste-along checklist ask here before a field leaves keylink.

The rules are ``tui.services.handoff.gate``'s. A key whose last check failed or found a danger
is copied only after a yes to a question that names the finding ("No" has the focus, so a stray
enter copies nothing). One never checked, or not within ``KEYLINK_CHECK_MAX_AGE``, gets an offer
to check it now; "no" copies without. An answer holds for that account until its next check, so
copying the four fields one after another asks once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from textual.screen import Screen

    from tui.services.handoff.gate import Verdict
    from tui.services.session.session import CheckFinished, Session
    from tui.services.store.model import Account

_ANSWERED_ATTRIBUTE = "_keylink_handoff_answered"


def _answered(app: Any) -> set[tuple[str, str]]:
    """(account id, time of its last check) the user has answered for in this app run."""
    answered = getattr(app, _ANSWERED_ATTRIBUTE, None)
    if answered is None:
        answered = set()
        setattr(app, _ANSWERED_ATTRIBUTE, answered)
    return answered


def _mark(account: Account) -> tuple[str, str]:
    return (account.id, account.last_check.checked_at if account.last_check else "never")


def newest(session: Session, account: Account) -> Account:
    """``account`` as the session knows it now (a check since the screen read it counts)."""
    return next((a for a in session.known_accounts if a.id == account.id), account)


def verdict_of(screen: Screen[Any], account: Account) -> Verdict:
    from tui.services.core.check_age import DEFAULT, check_max_age
    from tui.services.handoff.gate import judge

    try:
        max_age = check_max_age()
    except ValueError as exc:
        screen.notify(f"{exc}; using 7 days.", severity="warning", markup=False)
        max_age = DEFAULT
    return judge(account, max_age)


def gated(screen: Screen[Any], session: Session, account: Account,
          copy: Callable[[Account], None], *, just_checked: bool = False) -> None:
    """Run ``copy`` once ``account``'s last check allows it, or the user says so.
    ``just_checked``: ``account`` carries a check made a moment ago (kept even if unsaved)."""
    from tui.screens.confirm import ConfirmScreen
    from tui.services.handoff.gate import Gate

    if not just_checked:
        account = newest(session, account)
    verdict = verdict_of(screen, account)
    answered = _answered(screen.app)
    if verdict.gate is Gate.OK or _mark(account) in answered:
        copy(account)
        return
    line = verdict.line(account.name)
    if verdict.gate is Gate.RISKY:
        def risky(yes: bool | None) -> None:
            if yes:
                answered.add(_mark(account))
                copy(account)

        screen.app.push_screen(ConfirmScreen(
            "Hand over a risky key?",
            f"{line}.\n\nFix the key on the exchange and check it again (v on Accounts) before "
            "a terminal uses it. Copy it anyway?",
            yes="Copy anyway", no="Don't copy", danger=True, id="handoff-risky"), risky)
        return

    def stale(check_now: bool | None) -> None:
        if check_now:
            check_then_copy(screen, session, account, copy)
        elif check_now is not None:
            answered.add(_mark(account))
            copy(account)

    screen.app.push_screen(ConfirmScreen(
        "Check the key first?",
        f"{line}.\n\nCheck it with the exchange now, before it is copied?",
        yes="Check now", no="Copy without", id="handoff-stale"), stale)


def check_then_copy(screen: Screen[Any], session: Session, account: Account,
                    copy: Callable[[Account], None]) -> None:
    """Check ``account`` in a worker, then judge again. A locked vault is asked for by the
    session's one dialog (keys typed meanwhile wait for it), as for every other use."""
    from tui.passphrase_dialog import hold_keys_for_dialog

    release = hold_keys_for_dialog(screen.app, session)
    screen.notify(f"Checking {account.name}…", title="Verify", markup=False)
    screen.run_worker(_check(screen, session, account, copy, release), exclusive=True,
                      group="handoff-check", exit_on_error=False)


async def _check(screen: Screen[Any], session: Session, account: Account,
                 copy: Callable[[Account], None], release: Callable[[], None]) -> None:
    from tui.services.session.unlock import SessionError, UnlockCancelled
    from tui.services.store.errors import SecretStoreError
    from tui.services.store.model import AccountError

    try:
        # Screens hear of the check from the session (CheckFinished), as of any other.
        finished = await session.check_and_record(account)
    except UnlockCancelled:
        return  # the person backed out of the passphrase: nothing checked, nothing copied
    except (SecretStoreError, SessionError, AccountError) as exc:
        screen.notify(f"{account.name} could not be checked: {exc}. Nothing was copied.",
                      title="Not copied", severity="error", markup=False)
        return
    finally:
        release()
    checked = _checked_account(finished)
    screen.notify(f"{account.name}: {finished.report.summary()}.", title="Checked",
                  markup=False)
    gated(screen, session, checked, copy, just_checked=True)


def _checked_account(finished: CheckFinished) -> Account:
    """The account with the check just made as its last (also when it could not be saved)."""
    from dataclasses import replace

    from tui.services.store.model import LastCheck

    if finished.not_saved is None:
        return finished.account
    return replace(finished.account, last_check=LastCheck.of(finished.report))
