"""Checking keys from the accounts screen: one account (v), all of them (V), stopped with Escape.

Each check is the session's ``check_and_record``: it reads the secret, asks the exchange and saves
the summary with the account (the CLI's ``keylink verify`` runs the same one). This part of the
screen runs them one after another in one worker, shows the progress, and sums up a "verify all".
Each report and saved summary is shown from the session's ``CheckFinished`` message, whoever ran
the check: the table and the report panel follow every check of the app's session.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import work
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Label, ProgressBar
from textual.worker import Worker

from tui.services.core.status import CheckStatus
from tui.services.core.text import clean
from tui.widgets.accounts_table import format_checked_at
from tui.widgets.report_panel import ReportPanel

if TYPE_CHECKING:
    from collections.abc import Callable

    from tui.services.session.session import Session
    from tui.services.store.model import Account
    from tui.services.store.secrets import SecretStore
    from tui.services.verify.report import KeyReport
    from tui.session_messages import CheckFinished
    from tui.widgets.accounts_table import AccountsTable


def tally(accounts: list[Account], reports: dict[str, KeyReport]) -> str:
    """"Checked 3 accounts: 1 works, 1 locked, 1 failed." (an account with no report failed)."""
    counts = dict.fromkeys(CheckStatus, 0)
    for account in accounts:
        report = reports.get(account.id)
        counts[report.status if report is not None and report.status else CheckStatus.FAILED] += 1
    parts = [f"{n} {status}" for status, n in counts.items() if n]
    text = f"Checked {len(accounts)} accounts: {', '.join(parts)}."
    if counts[CheckStatus.LOCKED]:
        text += " Locked keys are bound to other addresses, as a terminal's key should be."
    return text


def checked_text(account: Account) -> str:
    """"checked 2026-01-02 10:00" for the report panel ("" when never checked)."""
    if account.last_check is None:
        return ""
    return f"checked {format_checked_at(account.last_check.checked_at)}"


class VerifyRunner:
    """The accounts screen's checks (a mixin: the screen gives the attributes named below)."""

    if TYPE_CHECKING:
        accounts: list[Account]
        reports: dict[str, KeyReport]
        workers: Any
        secrets: SecretStore | None
        session: Session | None
        _greeted: bool

        @property
        def selected(self) -> Account | None: ...
        @property
        def selected_id(self) -> str | None: ...
        def query_one(self, selector: Any, expect_type: Any = None) -> Any: ...
        def notify(self, message: str, **kwargs: Any) -> None: ...
        def refresh_bindings(self) -> None: ...
        def _show_fault(self, exc: BaseException) -> None: ...
        def _show_row_hint(self, account: Account | None) -> None: ...
        def _show_verdict(self, account: Account | None) -> None: ...
        def _table(self) -> AccountsTable: ...
        @property
        def app(self) -> Any: ...

    #: The one account a running check was asked for (its report shows even when not selected).
    _checking_one: str | None = None

    @property
    def _verifying(self) -> bool:
        return any(w.group == "verify" and w.is_running for w in self.workers)

    def action_verify(self) -> None:
        """Check the selected account's key."""
        account = self.selected
        if account is not None:
            self.verify_accounts([account])

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "verify":
            self.refresh_bindings()  # "esc Stop" shows only while a check runs

    def action_stop_verify(self) -> None:
        """Stop a running check (the account being checked is dropped, the rest not started)."""
        if self._verifying:
            self.workers.cancel_group(self, "verify")
            self.notify("Stopped checking.", title="Verify")

    def action_verify_all(self) -> None:
        """Check every account's key, one after another."""
        accounts = [a for a in self.accounts if a.removing is None]
        if accounts:
            self.verify_accounts(accounts)

    def verify_accounts(self, accounts: list[Account]) -> None:
        """Start verifying ``accounts`` (replaces a verification still running). A locked vault
        is unlocked first, once for them all, when one of them keeps its secret in it (the
        session's ``needs_vault_for``: a key kept in pass needs no vault passphrase); the
        session asks in its dialog."""
        from tui.passphrase_dialog import hold_keys_for_dialog

        if self.session is None:
            return
        self._greeted = True  # the vault is seen to: the "open" news asks nothing more
        self._verify(accounts, hold_keys_for_dialog(self.app, self.session))

    def _progress(self, text: str, done: int | None, total: int) -> None:
        box = self.query_one("#verify-progress", Horizontal)
        box.set_class(done is not None, "-shown")
        self.query_one("#verify-label", Label).update(Content(clean(text)))  # names an account
        bar = self.query_one("#verify-bar", ProgressBar)
        bar.update(total=total, progress=done or 0)

    @work(exclusive=True, group="verify", exit_on_error=False)
    async def _verify(self, accounts: list[Account], release: Callable[[], None]) -> None:
        import asyncio

        from tui.services.session.session import AccountUnusable
        from tui.services.session.unlock import SessionError, UnlockCancelled
        from tui.services.store.errors import SecretStoreError
        from tui.services.store.model import AccountError

        session = self.session
        assert session is not None
        try:
            # In a thread: deciding may open another store, and the unlock waits for the dialog.
            await asyncio.to_thread(session.ensure_unlocked_for, accounts)
        except UnlockCancelled:
            return  # not now: nothing was checked
        except SessionError as exc:
            self._show_fault(exc)
            return
        finally:
            release()
        panel = self.query_one("#report", ReportPanel)
        panel.display = True
        total = len(accounts)
        self._checking_one = accounts[0].id if total == 1 else None
        results: dict[str, KeyReport] = {}
        try:
            for done, account in enumerate(accounts):
                self._progress(f"Checking {account.name} ({done + 1} of {total})…", done, total)
                self.reports.pop(account.id, None)
                panel.loading = True
                try:
                    finished = await session.check_and_record(account)
                except UnlockCancelled:  # locked again meanwhile, and not now: stop here
                    panel.loading = False
                    self._show_verdict(self.selected)
                    return
                except AccountUnusable as exc:  # an exchange this keylink cannot check
                    panel.loading = False
                    panel.show_message(str(exc))
                    continue
                except (SecretStoreError, SessionError, AccountError) as exc:
                    panel.loading = False
                    self._show_fault(exc)
                    panel.show_message(f"{account.name}: the secret could not be read.")
                    continue
                # Shown by on_check_finished, as every check of the session is.
                results[account.id] = finished.report
            if total > 1:
                self.notify(tally(accounts, results), title="Verify all", markup=False)
        finally:
            panel.loading = False
            self._progress("", None, total)

    def belongs_to(self, account: Account | None) -> str | None:
        """The environment this session's last check of ``account`` found its key in, if any."""
        report = self.reports.get(account.id) if account is not None else None
        probe = report.probe if report is not None else None
        return probe.belongs_to if probe is not None else None

    def action_switch_environment(self) -> None:
        """The verify report's one-key fix: move the account to the environment where its key
        works (one write through the session), then check it again."""
        account = self.selected
        target = self.belongs_to(account)
        if account is not None and target is not None and self.session is not None:
            self._switch_environment(account, target)

    @work(thread=True, exit_on_error=False, group="accounts-store")
    def _switch_environment(self, account: Account, environment: str) -> None:
        from tui.services.store.errors import SecretStoreError
        from tui.services.store.model import AccountError

        assert self.session is not None
        try:
            updated = self.session.switch_environment(account, environment)
        except (AccountError, SecretStoreError) as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error", markup=False)
            return
        self.app.call_from_thread(self._switched, updated)

    def _switched(self, account: Account) -> None:
        from tui.services.exchanges import exchange

        self.reports.pop(account.id, None)
        self._replace_account(account)
        self.refresh_bindings()
        try:
            where = exchange(account.exchange).environment(account.environment).label
        except KeyError:
            where = account.environment
        self.notify(f"{account.name} now uses {where}. Checking it again…", title="Verify",
                    markup=False)
        self.verify_accounts([account])

    def on_check_finished(self, message: CheckFinished) -> None:
        """A check of the session ended (this screen's or another's): the table row takes the
        saved summary, and the report panel the report when it shows that account."""
        account = message.account
        self.reports[account.id] = message.report
        if message.not_saved is not None:  # the check itself worked: say so
            self.notify(f"The result for {account.name} was not saved: {message.not_saved}",
                        severity="warning")
        if message.history_problem is not None:  # moved aside: said this once
            self.notify(f"Check history: {message.history_problem}.", severity="warning",
                        markup=False)
        self._replace_account(account)
        if self.selected_id == account.id or self._checking_one == account.id:
            panel = self.query_one("#report", ReportPanel)
            panel.loading = False
            panel.display = True
            panel.show_report(account.name, message.report, checked_text(account))

    def _replace_account(self, account: Account) -> None:
        if all(a.id != account.id for a in self.accounts):
            return  # deleted while it was being checked
        self.accounts = [account if a.id == account.id else a for a in self.accounts]
        self._table().update_account(account, self.accounts)
        if self.selected_id == account.id:
            self._show_row_hint(account)
            if account.id not in self.reports:
                self._show_verdict(account)
